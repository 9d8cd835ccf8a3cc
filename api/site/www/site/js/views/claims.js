// 公示: the disclosed claims with their coarse public fields (specs/plan.md §5.3),
// filtered by status, period paid and category, each with its objection window
// counting down to the objections_close its disclosure states.

import { getJSON } from "../api.js";
import { h, fill } from "../dom.js";
import { duration, num, t, yuan } from "../i18n.js";
import { claimLink, statusWord, when } from "./common.js";

const STATUSES = ["filed", "assessed", "disclosed", "appealed", "voting", "decided", "paid", "reversed"];
const PAGE = 50;

export async function render(root, { params }) {
  const [periods, rules] = await Promise.all([getJSON("v1/periods"), getJSON("v1/rules")]);
  const categories = [...new Set(rules.rules.flatMap((r) => r.body.conditions.map((c) => c.category)))].sort();
  const filters = { status: params.status ?? "", period: params.period ?? "", category: params.category ?? "" };
  const list = h("div", { "data-testid": "claims" });
  const more = h("div", {});
  const timers = new Set();
  const select = (name, values, label) => h("label", {}, t(label), " ",
    h("select", { name, "data-filter": name, onchange: (ev) => go({ ...filters, [name]: ev.target.value }) },
      h("option", { value: "" }, t("claims.any")),
      values.map(([v, text]) => h("option", { value: v, selected: filters[name] === v }, text))));
  root.replaceChildren(
    h("h1", {}, t("claims.title")), h("p", { class: "lead" }, t("claims.lead")),
    h("form", { class: "filters", onsubmit: (e) => e.preventDefault() },
      select("status", STATUSES.map((s) => [s, t(`status.${s}`)]), "claims.status"),
      select("period", periods.periods.map((p) => [p.period, p.period]).reverse(), "claims.period"),
      select("category", categories.map((c) => [c, t(`category.${c}`)]), "claims.category")),
    list, more);
  await loadPage(list, more, filters, 0, timers);
  const tick = setInterval(() => timers.forEach((f) => f()), 1000);
  return () => clearInterval(tick);
}

function go(filters) {
  location.hash = `#/claims?${new URLSearchParams(filters)}`;
}

async function loadPage(list, more, filters, start, timers) {
  const page = await getJSON("v1/claims", { ...filters, start, limit: PAGE });
  if (start === 0 && page.claims.length === 0) list.append(h("p", { class: "muted" }, t("claims.none")));
  for (const c of page.claims) list.append(card(c, timers));
  fill(more, page.next === null ? null : h("button", { type: "button", onclick: () => loadPage(list, more, filters, page.next, timers) }, t("claims.more")));
}

function card(c, timers) {
  const d = c.disclosure;
  const fields = d === null
    ? [h("p", { class: "muted" }, t("claims.not_disclosed"))]
    : [h("dl", { class: "facts" },
        h("dt", {}, t("claim.category")), h("dd", {}, t(`category.${d.category}`)),
        h("dt", {}, t("claim.amount")), h("dd", { "data-k": "amount" }, yuan(d.amount_fen)),
        h("dt", {}, t("claim.age_band")), h("dd", {}, d.age_band),
        h("dt", {}, t("claim.days")), h("dd", {}, num(d.days_since_joining)),
        h("dt", {}, t("claim.objections")), h("dd", {}, window_(d.objections_close, timers)))];
  return h("article", { class: "card", "data-claim-card": c.claim, "data-status": c.status },
    h("header", {}, claimLink(c.claim), " ", statusWord(c.status),
      c.paid_period ? h("span", { class: "muted" }, ` · ${t("claim.paid_in", { period: c.paid_period })}`) : null,
      c.recovered_fen !== null ? h("span", { class: "muted" }, ` · ${t("claim.recovered", { amount: yuan(c.recovered_fen) })}`) : null),
    fields);
}

/** The objection window: a live countdown until objections_close, then "closed". */
export function window_(close, timers) {
  const el = h("span", { class: "window", "data-close": close });
  const update = () => {
    const left = (Date.parse(close) - Date.now()) / 1000;
    if (left > 0) {
      el.className = "window open";
      el.textContent = t("window.open", { left: duration(left) });
    } else {
      el.className = "window closed";
      el.textContent = t("window.closed", { at: when(close) });
      timers.delete(update);
    }
  };
  update();
  if (Date.parse(close) > Date.now()) timers.add(update);
  return el;
}
