// Strict reading of a plan entry's body (specs/plan.md §3: "every body is an object
// whose keys are exactly those listed"), and the error a replay raises: it names the
// entry's seq and type, the section of specs/plan.md and the rule broken.

import { isValidTime } from "../verify/entry.js";
import { isInt } from "../verify/json.js";
import { seconds } from "./time.js";

export const MEMBER = /^m-[0-9a-f]{20}$/;
export const CLAIM = /^c-(?:0|[1-9][0-9]*)$/;
export const HEX64 = /^[0-9a-f]{64}$/;

/** An entry breaks a rule of specs/plan.md. */
export class PlanRuleError extends Error {
  constructor(entry, section, rule, detail) {
    super(`seq ${entry.seq} (${entry.type}): plan.md ${section} [${rule}]: ${detail}`);
    this.seq = entry.seq;
    this.section = section;
    this.rule = rule;
  }
}

/** Throw PlanRuleError for `entry`. */
export function fail(entry, section, rule, detail) {
  throw new PlanRuleError(entry, section, rule, detail);
}

const show = (v) => JSON.stringify(v) ?? String(v);

/** A strict reader of `entry`'s body, whose keys must be exactly `keys`. */
export class Body {
  constructor(entry, keys) {
    this.entry = entry;
    this.v = entry.body;
    const found = Object.keys(this.v).sort().join(", ");
    const want = [...keys].sort().join(", ");
    if (found !== want) this.fail("§3", "body.keys", `expected exactly the keys ${want}, found ${found}`);
  }

  fail(section, rule, detail) {
    fail(this.entry, section, rule, detail);
  }

  /** Refuse unless the body states exactly `expected` for `key` (same JSON value). */
  same(section, key, expected) {
    if (show(this.v[key]) !== show(expected)) {
      this.fail(section, key, `expected ${key} ${show(expected)}, found ${show(this.v[key])}`);
    }
  }

  int(key, min = null, section = "§3") {
    const v = this.v[key];
    if (!isInt(v)) this.fail(section, `${key}.type`, `expected ${key} an integer, found ${show(v)}`);
    if (min !== null && v < min) this.fail(section, `${key}.range`, `expected ${key} >= ${min}, found ${v}`);
    return v;
  }

  text(key, nonempty = false, section = "§3") {
    const v = this.v[key];
    if (typeof v !== "string") this.fail(section, `${key}.type`, `expected ${key} a string, found ${show(v)}`);
    if (nonempty && v === "") this.fail(section, `${key}.empty`, `expected a non-empty ${key}`);
    return v;
  }

  choice(key, allowed, section = "§3") {
    const v = this.v[key];
    if (!allowed.includes(v)) this.fail(section, `${key}.value`, `expected ${key} one of ${allowed.join(", ")}, found ${show(v)}`);
    return v;
  }

  match(key, pattern, section, what) {
    const v = this.v[key];
    if (typeof v !== "string" || !pattern.test(v)) this.fail(section, `${key}.format`, `expected ${what}, found ${show(v)}`);
    return v;
  }

  hex64(key) {
    return this.match(key, HEX64, "§3", "64 lower-case hex digits");
  }

  member(key) {
    return this.match(key, MEMBER, "§1", "'m-' and 20 lower-case hex digits");
  }

  claim(key = "claim") {
    return this.match(key, CLAIM, "§1", "'c-' and a decimal seq");
  }

  /** A time; returns [text, seconds]. */
  time(key) {
    const v = this.v[key];
    if (!isValidTime(v)) this.fail("§3", `${key}.format`, `expected a time YYYY-MM-DDTHH:MM:SSZ, found ${show(v)}`);
    return [v, seconds(v)];
  }
}
