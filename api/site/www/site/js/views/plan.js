// The plan in the open: the rules in force and announced, the members covered, the
// latest checkpoint (verified here with the pinned key), and every closed period's
// share, aid, fee, subsidy and carry, with where its money went.

import { getJSON } from "../api.js";
import { h } from "../dom.js";
import { num, percent, t, yuan } from "../i18n.js";
import { latestCheckpoint, pinnedKey } from "../trust.js";
import { moneyBar, moneyLegend, shareChart } from "./chart.js";
import { checkpointLine, facts, failure, section, when } from "./common.js";
import { fetchProven } from "./proven.js";
import { canonicalize } from "../verify/json.js";

export async function render(root) {
  const [rules, periods, stats] = await Promise.all([getJSON("v1/rules"), getJSON("v1/periods"), getJSON("v1/stats")]);
  const parts = [h("h1", {}, t("plan.title")), h("p", { class: "lead" }, t("plan.lead"))];
  const { section: cpSection, cp } = await checkpointSection();
  parts.push(cpSection);
  if (cp !== null) {
    await proveBodies(rules.rules, cp, "plan.rules", (r, e) => e.body.version === r.version);
    await proveBodies(periods.periods, cp, "period.closed", (p, e) => e.body.period === p.period);
  }
  parts.push(membersSection(periods.periods, stats.periods));
  parts.push(rulesSection(rules.rules));
  if (periods.periods.length) {
    parts.push(section(t("plan.share"), shareChart(periods.periods)));
    parts.push(periodsSection(periods.periods));
  }
  root.replaceChildren(...parts);
}

async function checkpointSection() {
  try {
    const { key } = await pinnedKey();
    const checked = await latestCheckpoint(key);
    return { section: section(t("checkpoint.title"), checkpointLine(checked)), cp: checked.cp };
  } catch (e) {
    return { section: section(t("checkpoint.title"), failure(t("checkpoint.failed"), e.message, { "data-testid": "checkpoint-failed" })), cp: null };
  }
}

// Each rules version and closed period is shown from its own entry, fetched as its
// bytes and proven in the verified checkpoint; `proven` says how that went.
async function proveBodies(items, cp, type, same) {
  await Promise.all(items.map(async (item) => {
    const got = await fetchProven(item.seq, cp);
    if (got.proof === "ok" && got.entry.type === type && same(item, got.entry)) {
      // What is shown is the entry's own body; a summary that said otherwise is flagged.
      item.proven = canonicalize(got.entry.body) === canonicalize(item.body) ? "ok" : "differs";
      item.body = got.entry.body;
    } else {
      item.proven = got.proof === "pending" ? "pending" : "fail";
    }
  }));
}

function provenMark(item) {
  if (item.proven === "ok") return h("span", { class: "ok", title: t("plan.proven") }, "✓");
  if (item.proven === "fail") return h("span", { class: "bad", title: t("plan.not_proven") }, "✗");
  if (item.proven === "differs") return h("span", { class: "bad", title: t("plan.differs") }, "✗");
  return null;
}

function membersSection(periods, stats) {
  const last = periods.at(-1);
  const joins = stats.reduce((n, s) => n + s.joins, 0);
  const leaves = stats.reduce((n, s) => n + s.leaves, 0);
  return section(t("plan.members"), facts([
    [t("plan.members.covered", { period: last?.period ?? "—" }), last ? num(last.body.members) : "—", "members-covered"],
    [t("plan.members.joins"), num(joins)],
    [t("plan.members.leaves"), num(leaves)],
  ]));
}

function rulesSection(versions) {
  const now = new Date().toISOString().slice(0, 19) + "Z";
  const inForce = versions.filter((r) => r.effective <= now).at(-1);
  const rows = versions.map((r) => {
    const b = r.body;
    const state = r === inForce ? "rules.in_force" : r.effective > now ? "rules.announced" : "rules.replaced";
    return h("tr", { "data-version": r.version, "data-proof": r.proven ?? "none", class: r === inForce ? "current" : null },
      h("td", {}, provenMark(r), ` v${r.version}`), h("td", {}, t(state)), h("td", {}, when(r.effective)),
      h("td", {}, percent(b.fee_bp)), h("td", {}, yuan(b.annual_cap_fen)), h("td", {}, t("rules.days", { n: b.waiting_days })),
      h("td", {}, Object.entries(b.benefits).map(([band, fen]) => `${band}: ${yuan(fen)}`).join(", ") + `; ${t("rules.light")}: ${yuan(b.light_benefit_fen)}`),
      h("td", {}, t("rules.panel", { size: b.panel_size, quorum: b.quorum, threshold: percent(b.threshold_bp) })),
      h("td", {}, t("rules.windows", { objection: b.objection_days, appeal: b.appeal_days })));
  });
  const head = ["rules.version", "rules.state", "rules.effective", "rules.fee", "rules.cap", "rules.waiting", "rules.benefits", "rules.panel_head", "rules.windows_head"];
  return section(t("rules.title"), h("p", {}, t("rules.lead"), " ", t("plan.proven_note")),
    h("div", { class: "scroll" }, h("table", { "data-testid": "rules" }, h("thead", {}, h("tr", {}, head.map((k) => h("th", {}, t(k))))), h("tbody", {}, rows))));
}

function periodsSection(periods) {
  const head = ["period.period", "period.members", "period.share", "period.aid", "period.fee", "period.subsidy", "period.carry", "period.claims"];
  const rows = [...periods].reverse().map((p) => {
    const b = p.body;
    return h("tr", { "data-period": p.period, "data-proof": p.proven ?? "none" },
      h("td", {}, provenMark(p), ` ${p.period}`), h("td", { "data-k": "members" }, num(b.members)), h("td", { "data-k": "share_fen" }, yuan(b.share_fen)),
      h("td", { "data-k": "aid_fen" }, yuan(b.aid_fen)), h("td", { "data-k": "fee_fen" }, yuan(b.fee_fen)),
      h("td", { "data-k": "subsidy_fen" }, yuan(b.subsidy_fen)), h("td", {}, `${yuan(b.carry_in_fen)} → ${yuan(b.carry_out_fen)}`),
      h("td", {}, b.claims.length ? h("a", { href: `#/claims?period=${p.period}&status=` }, num(b.claims.length)) : "0"));
  });
  const flows = [...periods].reverse().map((p) => h("div", { class: "flow", "data-flow": p.period },
    h("h3", {}, p.period),
    moved(p.body) ? null : h("p", { class: "muted" }, t("money.none")),
    !moved(p.body) ? null : h("p", {}, t("money.sentence", {
      aid: yuan(p.body.aid_fen), fee: yuan(p.body.fee_fen), members: yuan(p.body.contribution_total_fen), n: num(p.body.members),
      subsidy: yuan(p.body.subsidy_fen), carry_in: yuan(p.body.carry_in_fen), carry_out: yuan(p.body.carry_out_fen),
    })),
    moved(p.body) ? moneyBar(p.body) : null));
  return section(t("plan.periods"),
    h("div", { class: "scroll" }, h("table", { "data-testid": "periods" }, h("thead", {}, h("tr", {}, head.map((k) => h("th", {}, t(k))))), h("tbody", {}, rows))),
    h("h2", {}, t("money.title")), moneyLegend(), ...flows);
}

function moved(b) {
  return [b.aid_fen, b.fee_fen, b.contribution_total_fen, b.subsidy_fen, b.carry_in_fen - b.carry_out_fen].some((v) => v !== 0);
}
