// My statement: the member's bundle (specs/statement.md) fetched and checked here,
// step by step, with Web Crypto and the key pinned in this browser. The result is
// all green ("N checks passed") with what the member paid and what it paid for, or
// the one check that failed, in red, and nothing green.

import { getJSON, getText } from "../api.js";
import { h, fill } from "../dom.js";
import { num, t, yuan } from "../i18n.js";
import { fetchConsistency, lastSeen, pinRecord, saveSeen } from "../trust.js";
import { parseVerifierKey } from "../verify/note.js";
import { JSONError, parseStrict } from "../verify/json.js";
import { verifyStatement } from "../statement/run.js";
import { failure, section } from "./common.js";
import { reportView } from "./report.js";

const MEMBER = /^m-[0-9a-f]{20}$/;

export async function render(root, { params }) {
  const periods = (await getJSON("v1/periods")).periods;
  const period = params.period || periods.at(-1)?.period || "";
  const out = h("div", { "data-testid": "result" });
  const form = h("form", { class: "ask", onsubmit: (e) => {
    e.preventDefault();
    const data = new FormData(form);
    location.hash = `#/statement?${new URLSearchParams({ member: data.get("member").trim(), period: data.get("period") })}`;
  } },
    h("label", {}, t("statement.member"), h("input", { name: "member", value: params.member ?? "", placeholder: "m-…", required: true, autocomplete: "off", spellcheck: "false", pattern: "m-[0-9a-f]{20}" })),
    h("label", {}, t("statement.period"), h("select", { name: "period" }, [...periods].reverse().map((p) => h("option", { value: p.period, selected: p.period === period }, p.period)))),
    h("button", { type: "submit" }, t("statement.check")));
  root.replaceChildren(h("h1", {}, t("statement.title")), h("p", { class: "lead" }, t("statement.lead")), form, out);
  if (params.member) await check(out, params.member, period);
}

async function check(out, member, period) {
  if (!MEMBER.test(member)) return fill(out, failure(t("statement.bad_member"), member));
  const progress = h("ol", { class: "progress" });
  fill(out, h("p", { class: "muted" }, t("statement.checking")), progress);
  const record = pinRecord();
  if (record === null) return fill(out, failure(t("key.none"), t("key.none.text")));
  const key = await parseVerifierKey(record.text);
  let text;
  const asked = performance.now();
  try {
    text = await getText(`v1/members/${member}/statement`, { period });
    document.body.dataset.lastFetchMs = (performance.now() - asked).toFixed(1);
  } catch (e) {
    return fill(out, failure(t("statement.unavailable"), e.message, { "data-testid": "unavailable" }));
  }
  const started = performance.now();
  const result = await run(text, key, member, period, progress);
  const ms = performance.now() - started;
  document.body.dataset.lastCheckMs = ms.toFixed(1);
  if (result.latestSeen) saveSeen(result.latestSeen);
  fill(out, result.ok ? passed(result, ms) : failed(result));
}

async function run(text, key, member, period, progress) {
  let doc;
  try {
    doc = parseStrict(text);
  } catch (e) {
    if (!(e instanceof JSONError)) throw e;
    return { ok: false, check: "bundle.json", message: e.message, checks: [] };
  }
  const onStep = (id) => progress.append(h("li", { class: "muted" }, t(`check.${id}`)));
  return verifyStatement(doc, key, { lastSeen: lastSeen(), fetchConsistency, member, period, onStep });
}

function passed(result, ms) {
  return h("div", { class: "verified", "data-testid": "verified", "data-checks": result.checks.length },
    reportView(result.report, result.notes),
    h("p", { class: "pass", "data-testid": "passed" }, `✓ ${t("statement.passed", { n: num(result.checks.length) })}`),
    h("p", { class: "muted", "data-testid": "timing" }, t("statement.timing", { ms: ms.toFixed(0) })),
    section(t("statement.checks"), h("ul", { class: "checks" }, result.checks.map((c) => h("li", { class: "ok" }, `✓ ${label(c)} `, h("code", {}, c))))),
    section(t("statement.not_checked"), h("p", {}, t("statement.not_checked.text"))));
}

function failed(result) {
  return h("div", { class: "fail", role: "alert", "data-testid": "failed", "data-check": result.check },
    h("strong", {}, t("statement.failed", { check: result.check })),
    h("p", {}, why(result.check)),
    h("p", { class: "detail" }, result.message),
    h("p", {}, t("statement.failed.after", { n: result.checks.length })));
}


/** Why a check fails, in words: its own text if it has one, else its family's. */
function why(check) {
  const own = `check.${check}.why`;
  return t(own) !== own ? t(own) : t(`check.${check.split(".")[0]}.why`);
}

/** A check's name in words: "claim c-12 (panel …)" -> "Claim c-12 followed every rule". */
function label(name) {
  const [base, second] = name.split(" ");
  return base === "claim" ? t("check.claim", { id: second }) : t(`check.${base}`);
}
