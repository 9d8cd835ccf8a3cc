// Members and jurors (specs/plan.md §4): joining, leaving, enrolling as a juror.

import { fromBase64 } from "../verify/bytes.js";
import { Body } from "./body.js";
import { checkRequest, isSigned, keysFor, requestMessage, verifiesWith } from "./requests.js";
import { DAY, showTime } from "./time.js";

/** §4.1: a new id, an age band of the rules in force, a commitment; a keyed join proves
 * it holds the key it names (the key is kept to check the member's signed requests). */
export async function joined(state, entry, t, rules) {
  const keyed = isSigned(entry.body);
  const keys = ["member", "age_band", "identity_commitment"];
  const body = new Body(entry, keyed ? [...keys, "member_key", "request", "signature"] : keys);
  const id = body.member("member");
  if (state.woundDown) body.fail("§4.1", "joined.wound_down", `expected no joins after the wind-down, found ${id}`);
  if (state.members.has(id)) body.fail("§4.1", "joined.new", `expected a new member id, found ${id} again`);
  const band = body.text("age_band");
  if (!Object.hasOwn(rules.benefits, band)) body.fail("§4.1", "joined.age_band", `expected an age band of rules version ${rules.version}, found ${band}`);
  body.hex64("identity_commitment");
  let memberKey = null;
  if (keyed) {
    memberKey = body.text("member_key");
    body.int("request", 0, "§4.5");
    const message = requestMessage(state.origin, entry.type, entry.body);
    if (!(await verifiesWith(memberKey, body.text("signature"), message))) {
      body.fail("§4.1", "member.joined.signature", "expected the join signed with the member key it names");
    }
  } else if (rules.member_signatures === "required") {
    body.fail("§4.5", "request.required", `expected a keyed join, found ${id} joining without a key`);
  }
  state.members.set(id, {
    id, joined_seq: entry.seq, joined_at: entry.time, joined_s: t, age_band: band, left_s: null, left_seq: null,
    juror_key: null, juror_seq: null, member_key: memberKey, recovery: null,
  });
}

/** The record of an active member named by `key`, or a §-section failure. */
export function active(state, body, key, section, rule) {
  const id = body.member(key);
  const m = state.members.get(id);
  if (m === undefined) body.fail(section, rule, `expected an active member as ${key}, found ${id}, whose member.joined is not here`);
  if (m.left_s !== null) body.fail(section, rule, `expected an active member as ${key}, found ${id}, who left at seq ${m.left_seq}`);
  return m;
}

/** §4.2: the member is active. */
export async function left(state, entry, t, rules) {
  const body = new Body(entry, keysFor(entry.type, entry.body, ["member"]));
  const m = active(state, body, "member", "§4.2", "left.active");
  await checkRequest(state, body, m.id, t, rules);
  m.left_s = t;
  m.left_seq = entry.seq;
  state.jurors.delete(m.id);
}

/** §4.4: active, no juror key yet, joined at least juror_tenure_days before. */
export async function enrolled(state, entry, t, rules) {
  const body = new Body(entry, keysFor(entry.type, entry.body, ["member", "juror_key"]));
  const m = active(state, body, "member", "§4.4", "enrolled.active");
  await checkRequest(state, body, m.id, t, rules);
  if (m.juror_key !== null) body.fail("§4.4", "enrolled.twice", `expected no juror key yet, found one at seq ${m.juror_seq}`);
  const tenure = m.joined_s + rules.juror_tenure_days * DAY;
  if (t < tenure) body.fail("§4.4", "enrolled.tenure", `expected enrolment at or after ${showTime(tenure)}, found ${entry.time}`);
  const key = body.text("juror_key");
  let raw = null;
  try {
    raw = fromBase64(key, "juror_key");
  } catch {
    raw = null;
  }
  if (raw === null || raw.length !== 32) body.fail("§3", "juror_key.format", "expected a base64 32-byte Ed25519 key");
  m.juror_key = key;
  m.juror_seq = entry.seq;
  state.jurors.add(m.id);
}

/** Counted in N at a cutoff: joined before it and not left before it (§8.2). */
export function countedAt(m, cutoffS) {
  return m.joined_s < cutoffS && (m.left_s === null || m.left_s >= cutoffS);
}
