// Claims (specs/plan.md §5): each step at time t checked against R, the rules in
// force at t, and the state the entries before it imply; every stated field is
// re-derived and compared. The panel's steps (§6, §7) are in panel.js.

import { Body, fail } from "./body.js";
import { active } from "./members.js";
import { periodOpenAt } from "./periods.js";
import { checkRequest, keysFor } from "./requests.js";
import { benefit, checkRulesVersion } from "./rules.js";
import { DAY, formatTime, showTime } from "./time.js";

const BP = 10000;

/** The claim a step names; its history gains the entry. */
export function claimOf(state, body) {
  const id = body.claim("claim");
  const c = state.claims.get(id);
  if (c === undefined) body.fail("§3", "claim.unknown", `expected a claim filed earlier, found ${id}`);
  c.history.push({ seq: body.entry.seq, type: body.entry.type, time: body.entry.time });
  return c;
}

function disclosedBy(body, c, section) {
  if (c.objections_close_s === null) body.fail(section, "claim.order", `expected ${c.id} disclosed first`);
  return c.objections_close_s;
}

export function undecided(body, c, section) {
  if (c.outcome !== null) body.fail(section, "claim.decided", `expected ${c.id} undecided, found it ${c.outcome}`);
}

/** §5.1: an active member, a covered condition, diagnosed after the waiting period. */
export async function filed(state, entry, t, rules) {
  const body = new Body(entry, keysFor(entry.type, entry.body, ["member", "condition", "amount_fen", "diagnosed", "evidence_commitment"]));
  const m = active(state, body, "member", "§5.1", "filed.member");
  await checkRequest(state, body, m.id, t, rules);
  const code = body.text("condition");
  const cond = rules.conditions.get(code);
  if (cond === undefined) body.fail("§5.1", "filed.condition", `expected a condition of rules version ${rules.version}, found ${code}`);
  const amount = body.int("amount_fen");
  if (amount <= 0) body.fail("§5.1", "filed.amount", `expected amount_fen > 0, found ${amount}`);
  const [diagnosed, diagnosedS] = body.time("diagnosed");
  if (diagnosedS > t) body.fail("§5.1", "filed.diagnosed", `expected diagnosed <= ${entry.time}, found ${diagnosed}`);
  const cover = m.joined_s + rules.waiting_days * DAY;
  if (cond.kind !== "accident" && diagnosedS < cover) {
    body.fail("§5.1", "filed.waiting", `expected diagnosed >= join + ${rules.waiting_days} days = ${showTime(cover)}, found ${diagnosed}`);
  }
  body.hex64("evidence_commitment");
  const w = state.woundDown;
  if (w && (t > w.until_s || diagnosedS >= w.at_s)) body.fail("§3", "wound_down", "a claim the wind-down does not allow");
  const id = `c-${entry.seq}`;
  state.claims.set(id, {
    id, seq: entry.seq, member: m.id, condition: code, kind: cond.kind, category: cond.category,
    claimed_fen: amount, filed_s: t, history: [{ seq: entry.seq, type: entry.type, time: entry.time }],
    decision: null, assessed_fen: null, objections_close: null, objections_close_s: null, objectors: [],
    appellant: null, appealed_s: null, pool: null, pool_root: null, pool_signature: null, jurors: null,
    voting_closes: null, voting_closes_s: null, votes: new Map(), outcome: null, basis: null,
    decided_fen: null, paid_fen: null, paid_period: null, recovered_fen: null, recovered_period: null,
    panel_size: null, quorum: null,
  });
}

/** §5.2: once; approve up to the claimed amount and the benefit, or deny with a reason. */
export function assessed(state, entry, t, rules) {
  const body = new Body(entry, ["claim", "decision", "amount_fen", "reason", "report_commitment", "rules_version"]);
  const c = claimOf(state, body);
  checkRulesVersion(body, rules);
  if (c.decision !== null) body.fail("§5.2", "assessed.twice", `expected ${c.id} not yet assessed`);
  const decision = body.choice("decision", ["approve", "deny"], "§5.2");
  const amount = body.int("amount_fen");
  const reason = body.text("reason");
  body.hex64("report_commitment");
  if (decision === "approve") {
    const band = state.members.get(c.member).age_band;
    const most = benefit(rules, c.kind, band);
    if (most === null) body.fail("§5.2", "assessed.benefit", `no benefit for the age band ${band}`);
    const cap = Math.min(c.claimed_fen, most);
    if (!(amount > 0 && amount <= cap)) body.fail("§5.2", "assessed.amount", `expected 0 < amount_fen <= ${cap}, found ${amount}`);
  } else {
    if (amount !== 0) body.fail("§5.2", "assessed.amount", `expected amount_fen 0 for a denial, found ${amount}`);
    if (!reason) body.fail("§5.2", "assessed.reason", "expected a reason for a denial");
  }
  c.decision = decision;
  c.assessed_fen = amount;
}

/** §5.3: the coarse fields are what the log says; objections close in objection_days. */
export function disclosed(state, entry, t, rules) {
  const body = new Body(entry, ["claim", "age_band", "category", "amount_fen", "days_since_joining", "objections_close"]);
  const c = claimOf(state, body);
  if (c.decision === null) body.fail("§5.3", "claim.order", `expected ${c.id} assessed first`);
  if (c.objections_close !== null) body.fail("§5.3", "disclosed.twice", `expected ${c.id} not yet disclosed`);
  const m = state.members.get(c.member);
  body.same("§5.3", "age_band", m.age_band);
  body.same("§5.3", "category", c.category);
  body.same("§5.3", "amount_fen", c.assessed_fen);
  body.same("§5.3", "days_since_joining", Math.floor((c.filed_s - m.joined_s) / DAY));
  const closeS = t + rules.objection_days * DAY;
  const close = formatTime(closeS);
  if (close === null) body.fail("§3", "time.range", "objections_close past year 9999");
  body.same("§5.3", "objections_close", close);
  c.objections_close = close;
  c.objections_close_s = closeS;
}

/** §5.4: before objections close, by an active member other than the claimant, once. */
export async function objected(state, entry, t, rules) {
  const body = new Body(entry, keysFor(entry.type, entry.body, ["claim", "objector", "reason_hash"]));
  const c = claimOf(state, body);
  const close = disclosedBy(body, c, "§5.4");
  if (t >= close) body.fail("§5.4", "objected.closed", `expected a time before ${c.objections_close}, found ${entry.time}`);
  const m = active(state, body, "objector", "§5.4", "objected.objector");
  if (m.id === c.member) body.fail("§5.4", "objected.claimant", "expected an objector other than the claimant");
  if (c.objectors.includes(m.id)) body.fail("§5.4", "objected.twice", `a second objection by ${m.id}`);
  body.hex64("reason_hash");
  await checkRequest(state, body, m.id, t, rules);
  c.objectors.push(m.id);
}

/** §5.5: once, in time, by the right member; fixes the pool of the draw (§6). */
export async function appealed(state, entry, t, rules) {
  const body = new Body(entry, keysFor(entry.type, entry.body, ["claim", "appellant", "secret_commitment"]));
  const c = claimOf(state, body);
  const close = disclosedBy(body, c, "§5.5");
  undecided(body, c, "§5.5");
  if (c.appellant !== null) body.fail("§5.5", "appealed.twice", `expected ${c.id} not appealed before`);
  const until = close + rules.appeal_days * DAY;
  if (t >= until) body.fail("§5.5", "appealed.closed", `expected a time before ${showTime(until)}, found ${entry.time}`);
  const m = active(state, body, "appellant", "§5.5", "appealed.appellant");
  const allowed = c.decision === "deny" ? [c.member] : c.objectors;
  if (!allowed.includes(m.id)) body.fail("§5.5", "appealed.appellant", `expected one of ${allowed.join(", ") || "none"}, found ${m.id}`);
  await checkRequest(state, body, m.id, t, rules);
  c.secret_commitment = body.hex64("secret_commitment");
  c.appellant = m.id;
  c.appealed_s = t;
  c.panel_size = rules.panel_size;
  const excluded = new Set([c.member, ...c.objectors]);
  c.pool = [...state.jurors].filter((j) => !excluded.has(j)).sort();
}

/** §5.8: the outcome, amount, basis and counts the log implies, once, when due. */
export function decided(state, entry, t, rules) {
  const body = new Body(entry, ["claim", "outcome", "amount_fen", "basis", "approve", "deny", "rules_version"]);
  const c = claimOf(state, body);
  checkRulesVersion(body, rules);
  const close = disclosedBy(body, c, "§5.8");
  if (c.outcome !== null) body.fail("§5.8", "decided.twice", `expected ${c.id} not decided before`);
  const approve = [...c.votes.values()].filter((v) => v === "approve").length;
  const deny = c.votes.size - approve;
  const { due, outcome, basis } = decisionOf(c, rules, close, t, approve, deny);
  if (t < due) body.fail("§5.8", "decided.early", `expected a decision at or after ${showTime(due)}, found ${entry.time}`);
  let amount = 0;
  if (outcome === "approved") {
    if (c.decision === "approve") amount = c.assessed_fen;
    else {
      const most = benefit(rules, c.kind, state.members.get(c.member).age_band);
      if (most === null) body.fail("§5.8", "decided.benefit", "no benefit for the claimant's age band");
      amount = Math.min(c.claimed_fen, most);
    }
  }
  body.same("§5.8", "approve", approve);
  body.same("§5.8", "deny", deny);
  body.same("§5.8", "basis", basis);
  body.same("§5.8", "outcome", outcome);
  body.same("§5.8", "amount_fen", amount);
  Object.assign(c, { outcome, basis, decided_fen: amount });
}

function decisionOf(c, rules, close, t, approve, deny) {
  const assessed = c.decision === "approve" ? "approved" : "denied";
  if (c.appealed_s === null) return { due: close + rules.appeal_days * DAY, outcome: assessed, basis: "assessment" };
  if (c.jurors === null) return { due: c.appealed_s + rules.reveal_days * DAY, outcome: assessed, basis: "assessment" };
  const due = c.votes.size === c.jurors.length ? t : c.voting_closes_s;
  const cast = approve + deny;
  c.quorum = rules.quorum;
  if (cast < rules.quorum) return { due, outcome: assessed, basis: "assessment" };
  return { due, outcome: approve * BP > rules.threshold_bp * cast ? "approved" : "denied", basis: "panel" };
}

/** §5.9: approved, once, the decided amount, after objections close, in the open period. */
export function paid(state, entry, t) {
  const body = new Body(entry, ["claim", "amount_fen", "period"]);
  const c = claimOf(state, body);
  if (c.outcome !== "approved") body.fail("§5.9", "paid.approved", `expected ${c.id} decided approved, found ${c.outcome ?? "undecided"}`);
  if (c.paid_fen !== null) body.fail("§5.9", "paid.twice", `expected ${c.id} not paid before`);
  const close = disclosedBy(body, c, "§5.9");
  if (t < close) body.fail("§5.9", "paid.early", `expected a payment at or after ${c.objections_close}`);
  body.same("§5.9", "amount_fen", c.decided_fen);
  const period = periodOpenAt(entry.time);
  body.same("§5.9", "period", period);
  c.paid_fen = c.decided_fen;
  c.paid_period = period;
  push(state.paidIn, period, [c.id, c.decided_fen]);
}

/** §5.10: paid, once, 0 < recovered <= paid, credited to the period open at t. */
export function reversed(state, entry) {
  const body = new Body(entry, ["claim", "recovered_fen", "reason"]);
  const c = claimOf(state, body);
  if (c.paid_fen === null) body.fail("§5.10", "reversed.paid", `expected ${c.id} paid`);
  if (c.recovered_fen !== null) body.fail("§5.10", "reversed.twice", `expected ${c.id} not reversed before`);
  const recovered = body.int("recovered_fen");
  if (!(recovered > 0 && recovered <= c.paid_fen)) body.fail("§5.10", "reversed.amount", `expected 0 < recovered_fen <= ${c.paid_fen}, found ${recovered}`);
  body.text("reason", true, "§5.10");
  c.recovered_fen = recovered;
  c.recovered_period = periodOpenAt(entry.time);
  push(state.recoveredIn, c.recovered_period, [c.id, recovered]);
}

function push(map, key, item) {
  if (!map.has(key)) map.set(key, []);
  map.get(key).push(item);
}

export { fail };
