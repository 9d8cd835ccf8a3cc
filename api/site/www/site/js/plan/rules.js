// The plan's versioned rules (specs/plan.md §2): their body, the versions announced,
// which version is in force at a time, and the notice a new version must give.

import { isInt, isObject } from "../verify/json.js";
import { Body, fail } from "./body.js";
import { DAY } from "./time.js";

const INTS = {
  version: 1, notice_days: 0, waiting_days: 0, light_benefit_fen: 0, fee_bp: 0,
  annual_cap_fen: 0, objection_days: 1, appeal_days: 1, reveal_days: 1, panel_size: 0,
  quorum: 0, threshold_bp: 0, voting_days: 1, juror_tenure_days: 0,
};
const KEYS = [...Object.keys(INTS), "effective", "benefits", "conditions"];
const KINDS = ["major", "light", "accident"];

/** Read a plan.rules body strictly (§2; `member_signatures` may be left out: optional). */
export function parseRules(entry) {
  const policy = isObject(entry.body) && Object.hasOwn(entry.body, "member_signatures");
  const body = new Body(entry, policy ? [...KEYS, "member_signatures"] : KEYS);
  const rules = { seq: entry.seq };
  rules.member_signatures = policy ? body.choice("member_signatures", ["required", "optional"], "§2") : "optional";
  for (const [key, min] of Object.entries(INTS)) rules[key] = body.int(key, min, "§2");
  [rules.effective, rules.effective_s] = body.time("effective");
  for (const [key, days] of Object.entries(rules)) {
    if (key.endsWith("_days") && days > 36500) body.fail("§2", `${key}.range`, `expected at most 36,500 days, found ${days}`);
  }
  const benefits = body.v.benefits;
  if (!isObject(benefits) || Object.keys(benefits).length === 0) body.fail("§2", "benefits.type", "expected a non-empty object of age band -> fen");
  for (const [band, fen] of Object.entries(benefits)) {
    if (!band || !isInt(fen) || fen < 0) body.fail("§2", "benefits.value", `bad benefit ${band}: ${fen}`);
  }
  rules.benefits = benefits;
  rules.conditions = conditions(body);
  return rules;
}

function conditions(body) {
  const list = body.v.conditions;
  if (!Array.isArray(list)) body.fail("§2", "conditions.type", "expected a list of conditions");
  const out = new Map();
  list.forEach((c, i) => {
    const ok = isObject(c) && Object.keys(c).sort().join() === "category,code,kind"
      && ["code", "category", "kind"].every((k) => typeof c[k] === "string" && c[k]) && KINDS.includes(c.kind);
    if (!ok) body.fail("§2", "conditions.item", `expected conditions[${i}] {code, category, kind}`);
    if (out.has(c.code)) body.fail("§2", "conditions.unique", `the code ${c.code} twice`);
    out.set(c.code, { code: c.code, category: c.category, kind: c.kind });
  });
  return out;
}

/** The most a claim of `kind` by a member of `band` may be paid (§5.2), or null. */
export function benefit(rules, kind, band) {
  if (kind === "light") return rules.light_benefit_fen;
  return Object.hasOwn(rules.benefits, band) ? rules.benefits[band] : null;
}

/** Every version announced so far, and which is in force when (§2). */
export class RulesBook {
  constructor() {
    this.versions = [];
  }

  /** The highest version whose effective <= t (seconds), or null. */
  inForce(t) {
    for (let i = this.versions.length - 1; i >= 0; i--) if (this.versions[i].effective_s <= t) return this.versions[i];
    return null;
  }

  /** Check a plan.rules entry at t against §2 and record it. */
  add(entry, t) {
    const rules = parseRules(entry);
    const want = this.versions.length + 1;
    if (rules.version !== want) fail(entry, "§2", "rules.version", `expected version ${want}, found ${rules.version}`);
    const prev = this.versions.at(-1);
    if (prev === undefined && rules.effective_s < t) {
      fail(entry, "§2", "rules.effective", `expected the first version effective at or after ${entry.time}`);
    }
    if (prev !== undefined) {
      if (rules.effective_s <= prev.effective_s) fail(entry, "§2", "rules.effective", `expected effective after ${prev.effective}`);
      const current = this.inForce(t);
      if (current !== null && rules.effective_s < t + current.notice_days * DAY) {
        fail(entry, "§2", "rules.notice", `expected ${current.notice_days} days of notice from ${entry.time}, found effective ${rules.effective}`);
      }
    }
    this.versions.push(rules);
    return rules;
  }
}

/** The body's rules_version MUST be the version in force at its entry's time (§2). */
export function checkRulesVersion(body, rules) {
  const named = body.int("rules_version");
  if (named !== rules.version) {
    body.fail("§2", "rules_version", `expected rules_version ${rules.version} (in force at ${body.entry.time}), found ${named}`);
  }
}
