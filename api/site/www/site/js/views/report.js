// A verified statement in plain words: what the member paid, which claims it paid
// for and the member's part of each, the fee, the carry, the annual cap and subsidy.

import { h } from "../dom.js";
import { num, t, yuan } from "../i18n.js";
import { claimLink, facts, section } from "./common.js";

export function reportView(r, notes) {
  const claims = r.claims.map((c) => h("li", { "data-claim-part": c.id },
    claimLink(c.id), " ", t("report.claim", {
      category: t(`category.${c.category}`), condition: c.condition, amount: yuan(c.amount), part: yuan(c.part),
      basis: t(`basis.${c.basis}`),
    })));
  return h("div", {},
    h("p", { class: "headline", "data-testid": "paid" }, t("report.paid", { amount: yuan(r.charge), period: r.period })),
    r.capped ? h("p", {}, t("report.capped", { share: yuan(r.share), cap: yuan(r.annualCap), before: yuan(r.chargedBefore) })) : null,
    r.claims.length
      ? section(t("report.funded", { n: r.claims.length }), h("ul", { class: "parts", "data-testid": "parts" }, claims,
          h("li", { "data-fee-part": "" }, t("report.fee", { fee: yuan(r.fee), part: yuan(r.feePart) }))),
          h("p", { class: "muted" }, t("report.parts_rule")))
      : h("p", {}, t("report.no_claims")),
    r.recoveries.length ? h("p", {}, t("report.recovered", { list: r.recoveries.map((x) => `${x.id} ${yuan(x.amount)}`).join(", ") })) : null,
    facts([
      [t("report.share"), yuan(r.share), "share"],
      [t("report.members"), num(r.members)],
      [t("report.aid"), yuan(r.aid)],
      [t("report.fee_total"), yuan(r.fee)],
      [t("report.carry"), `${yuan(r.carryIn)} → ${yuan(r.carryOut)}`],
      [t("report.subsidy"), yuan(r.subsidy)],
      [t("report.checkpoint"), num(r.checkpointSize)],
    ]),
    notes.length ? h("ul", { class: "notes" }, notes.map((n) => h("li", {}, t(n.key, n.params ?? {})))) : null);
}
