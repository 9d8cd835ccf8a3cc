// A verified statement in plain words (specs/statement.md §4): what the member paid,
// which claims it paid for and the member's part of each (with any later reversal),
// each recovery credited to the period, the fee and the carries, and, where the
// annual cap applied, what the operator paid for the member this period and year.

import { h } from "../dom.js";
import { num, t, yuan } from "../i18n.js";
import { claimLink, facts, section } from "./common.js";

function claimItem(c) {
  return h("li", { "data-claim-part": c.id },
    claimLink(c.id), " ", t("report.claim", {
      category: t(`category.${c.category}`), condition: c.condition, amount: yuan(c.amount), part: yuan(c.part),
      basis: t(`basis.${c.basis}`),
    }),
    c.recovered === null ? null : h("span", { class: "reversed", "data-reversed": c.id }, " ",
      t("report.claim_reversed", { recovered: yuan(c.recovered), period: c.recoveredPeriod })));
}

function partsList(r) {
  const items = [
    ...r.claims.map(claimItem),
    ...r.recoveries.map((x) => h("li", { "data-recovery-part": x.id }, claimLink(x.id), " ",
      t("report.recovery", { amount: yuan(x.amount), part: yuan(x.part) }))),
    h("li", { "data-fee-part": "" }, t("report.fee", { fee: yuan(r.fee), part: yuan(r.feePart) })),
    r.carryIn ? h("li", { "data-carry-in-part": "" }, t("report.carry_in", { amount: yuan(r.carryIn), part: yuan(r.carryInPart) })) : null,
    r.carryOut ? h("li", { "data-carry-out-part": "" }, t("report.carry_out", { amount: yuan(r.carryOut), part: yuan(r.carryOutPart) })) : null,
  ];
  return h("ul", { class: "parts", "data-testid": "parts" }, items);
}

function headline(r) {
  return r.counted
    ? h("p", { class: "headline", "data-testid": "paid" }, t("report.paid", { amount: yuan(r.charge), period: r.period }))
    : h("p", { class: "headline", "data-testid": "paid" }, t("report.not_counted", { period: r.period }));
}

function capSentence(r) {
  if (!r.capped) return null;
  return h("p", { "data-testid": "capped" }, t("report.capped", {
    share: yuan(r.share), cap: yuan(r.annualCap), before: yuan(r.chargedBefore),
    subsidy: yuan(r.subsidyMine), year: yuan(r.yearSubsidy),
  }));
}

export function reportView(r, notes) {
  const spent = r.claims.length || r.recoveries.length;
  return h("div", {},
    headline(r),
    capSentence(r),
    spent
      ? section(t("report.funded", { n: r.claims.length }), partsList(r),
          r.counted && r.charge ? h("p", { class: "muted" }, t("report.parts_rule")) : null)
      : h("p", {}, t("report.no_claims")),
    facts([
      [t("report.share"), yuan(r.share), "share"],
      [t("report.members"), num(r.members)],
      [t("report.aid"), yuan(r.aid)],
      [t("report.fee_total"), yuan(r.fee)],
      [t("report.carry"), `${yuan(r.carryIn)} → ${yuan(r.carryOut)}`],
      [t("report.subsidy"), yuan(r.subsidy)],
      [t("report.year_charged"), yuan(r.yearCharged), "year-charged"],
      [t("report.checkpoint"), num(r.checkpointSize)],
    ]),
    notes.length ? h("ul", { class: "notes" }, notes.map((n) => h("li", {}, t(n.key, n.params ?? {})))) : null);
}
