// A replay of the plan's rules over some entries of the log, in seq order (specs/
// plan.md §2-§7). It takes what a statement bundle holds: gaps between seqs are
// allowed, and period.closed entries are recorded (their numbers are checked by
// the statement's apportionment step, not here).

import { isObject } from "../verify/json.js";
import { parseVerifierKey } from "../verify/note.js";
import { Body, fail } from "./body.js";
import * as claims from "./claims.js";
import * as members from "./members.js";
import * as panel from "./panel.js";
import { parsePeriod } from "./periods.js";
import { ACTING, ALWAYS_SIGNED, isSigned, keyAt, requestMessage, verifiesWith } from "./requests.js";
import { RulesBook, checkRulesVersion } from "./rules.js";
import { seconds } from "./time.js";

const OPERATOR = /^operator(:[A-Za-z0-9._@-]{1,128})?$/;
const CLOSED_KEYS = [
  "period", "cutoff", "rules_version", "claims", "aid_fen", "fee_fen", "carry_in_fen", "members",
  "share_fen", "carry_out_fen", "subsidy_fen", "capped_members", "contribution_root", "contribution_total_fen",
];
const HANDLERS = {
  "member.joined": members.joined,
  "member.left": members.left,
  "juror.enrolled": members.enrolled,
  "claim.filed": claims.filed,
  "claim.assessed": claims.assessed,
  "claim.disclosed": claims.disclosed,
  "claim.objected": claims.objected,
  "claim.appealed": claims.appealed,
  "panel.pooled": panel.pooled,
  "panel.drawn": panel.drawn,
  "vote.cast": panel.vote,
  "claim.decided": claims.decided,
  "claim.paid": claims.paid,
  "claim.reversed": claims.reversed,
  "period.closed": recordClosed,
  "plan.wound_down": woundDown,
  "member.key_rotated": keyRotated,
  "member.key_recovery": keyRecovery,
  "member.key_recovery_refused": keyRecoveryRefused,
};

/** The replay's state: what the entries so far imply. */
export class SparseReplay {
  constructor() {
    this.origin = null;
    this.key = null;
    this.rules = new RulesBook();
    this.members = new Map();
    this.jurors = new Set();
    this.claims = new Map();
    this.paidIn = new Map();
    this.recoveredIn = new Map();
    this.closed = new Map();
    this.placeholders = [];
    this.uncheckedRequests = [];
    this.woundDown = null;
    this.last = -1;
  }

  /** Check `entry` (parsed, its seq above the last) and fold it in. */
  async apply(entry) {
    if (entry.seq <= this.last) fail(entry, "log.md §3", "replay.order", `expected a seq after ${this.last}`);
    this.last = entry.seq;
    if (entry.seq === 0) return this.genesis(entry);
    const handler = HANDLERS[entry.type];
    if (entry.type === "log.retired") return undefined; // the log's own last entry (log.md §7)
    if (entry.type !== "plan.rules" && handler === undefined) {
      fail(entry, "§3", "entry.type", `expected a type of specs/plan.md §3 after genesis, found ${JSON.stringify(entry.type)}`);
    }
    const t = seconds(entry.time);
    checkActor(entry);
    if (entry.type === "plan.rules") return this.rules.add(entry, t);
    const rules = this.rules.inForce(t);
    if (rules === null) fail(entry, "§2", "rules.none_in_force", "expected a rules version in force");
    if (entry.type === "claim.objected") this.placeholder(entry, t);
    return handler(this, entry, t, rules);
  }

  async genesis(entry) {
    const b = entry.body;
    if (entry.type !== "log.genesis" || Object.keys(b).sort().join() !== "origin,verifier_key") {
      fail(entry, "log.md §2", "genesis", "expected log.genesis with {origin, verifier_key}");
    }
    this.key = await parseVerifierKey(b.verifier_key);
    if (this.key.name !== b.origin) fail(entry, "log.md §2", "genesis.origin", "expected the origin to be the key's name");
    this.origin = b.origin;
  }

  // specs/statement.md §2 does not include objectors' joins: an objector not in the
  // bundle is taken as a member whose membership is not checked (and said so).
  placeholder(entry, t) {
    const id = isObject(entry.body) ? entry.body.objector : undefined;
    if (typeof id !== "string" || this.members.has(id)) return;
    this.members.set(id, { id, joined_seq: null, joined_s: 0, age_band: "", left_s: null, juror_key: null, placeholder: true });
    this.placeholders.push(id);
    void t;
  }
}

/** §3, §4.5: a signed member action by its member, a vote by its juror (checked with the
 * vote), every other entry by the operator. */
function checkActor(entry) {
  if (entry.type === "vote.cast") return;
  const field = ALWAYS_SIGNED[entry.type] ?? (isSigned(entry.body) ? ACTING[entry.type] : undefined);
  if (field !== undefined) {
    const acting = isObject(entry.body) ? entry.body[field] : undefined;
    if (entry.actor !== `member:${acting}`) fail(entry, "§4.5", "actor", `expected the signed ${entry.type} by member:${acting}, found ${entry.actor}`);
  } else if (!OPERATOR.test(entry.actor)) {
    fail(entry, "§3", "actor", `expected an operator actor, found ${entry.actor}`);
  }
}

// §4.6: a bundle carries a member's key changes only by chance; those it carries are
// followed, so that the member's later requests are checked with the key in force.
async function keyRotated(state, entry, t) {
  const body = new Body(entry, ["member", "member_key", "key_signature", "request", "signature"]);
  const m = state.members.get(body.member("member"));
  const key = m === undefined ? null : keyAt(m, t);
  const message = requestMessage(state.origin, entry.type, entry.body);
  if (key === null || !(await verifiesWith(key, body.text("signature"), message))) {
    state.uncheckedRequests.push({ seq: entry.seq, member: body.v.member });
  }
  if (m !== undefined) {
    m.member_key = body.text("member_key");
    m.recovery = null;
  }
}

function keyRecovery(state, entry, t, rules) {
  const body = new Body(entry, ["member", "member_key", "key_signature", "effective", "rules_version"]);
  checkRulesVersion(body, rules);
  const [, effectiveS] = body.time("effective");
  const m = state.members.get(body.member("member"));
  if (m !== undefined) {
    m.member_key = keyAt(m, t);
    m.recovery = { key: body.text("member_key"), effective_s: effectiveS };
  }
}

function keyRecoveryRefused(state, entry, t) {
  const body = new Body(entry, ["member", "recovery", "request", "signature"]);
  body.int("recovery", 0);
  const m = state.members.get(body.member("member"));
  if (m !== undefined && m.recovery && t < m.recovery.effective_s) m.recovery = null;
}

function recordClosed(state, entry, t, rules) {
  const body = new Body(entry, CLOSED_KEYS);
  checkRulesVersion(body, rules);
  for (const key of CLOSED_KEYS) {
    if (key.endsWith("_fen") || key === "members" || key === "capped_members") body.int(key, key === "carry_out_fen" ? null : 0);
  }
  let period;
  try {
    period = parsePeriod(body.v.period);
  } catch (e) {
    body.fail("§8.1", "closed.period", e.message);
  }
  body.same("§8.3", "cutoff", period.cutoff);
  if (t < seconds(period.cutoff)) body.fail("§8.1", "closed.early", `expected a close at or after ${period.cutoff}`);
  if (state.closed.has(period.id)) body.fail("§8.1", "closed.twice", `period ${period.id} closed twice`);
  if (!Array.isArray(body.v.claims)) body.fail("§8.3", "claims", "expected a list of claims");
  state.closed.set(period.id, entry);
}

function woundDown(state, entry, t, rules) {
  const body = new Body(entry, ["claims_until", "rules_version"]);
  checkRulesVersion(body, rules);
  const [, untilS] = body.time("claims_until");
  if (state.woundDown !== null) body.fail("§3", "wound_down.twice", "a second wind-down");
  if (untilS < t) body.fail("§3", "wound_down.claims_until", "expected claims_until at or after the entry's time");
  state.woundDown = { at_s: t, until_s: untilS };
}
