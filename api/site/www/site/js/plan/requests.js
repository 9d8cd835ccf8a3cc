// Member-signed requests (specs/requests.md; specs/plan.md §4.1, §4.5, §4.6): which
// bodies are signed, the bytes a member signs, and their check with the key the
// bundle shows. A statement bundle does not carry the entries that change a member's
// key, so a signature that does not verify with that key is noted, not refused; a full
// audit (tally-verify audit) checks every one against the whole log.

import { concat, ed25519Verify, fromBase64 } from "../verify/bytes.js";
import { canonicalize, isObject } from "../verify/json.js";

/** The member actions of §3, each with the body key naming the member who acts. */
export const ACTING = {
  "member.left": "member",
  "juror.enrolled": "member",
  "claim.filed": "member",
  "claim.objected": "objector",
  "claim.appealed": "appellant",
};
/** Entries a member writes, always signed (§4.6). */
export const ALWAYS_SIGNED = { "member.key_rotated": "member", "member.key_recovery_refused": "member" };

/** Is the body in the signed form (§4.5)? */
export function isSigned(body) {
  return isObject(body) && Object.hasOwn(body, "signature");
}

/** The keys a member action's body has: those of §3, and the signed ones if signed. */
export function keysFor(type, body, keys) {
  if (!isSigned(body)) return keys;
  const extra = type === "juror.enrolled" ? ["request", "signature", "juror_signature"] : ["request", "signature"];
  return [...keys, ...extra];
}

/** The bytes a member signs (requests.md §2-§3). */
export function requestMessage(origin, type, body) {
  const left = new Set(["signature", ...(type === "member.joined" ? ["age_band", "identity_commitment"] : [])]);
  const object = Object.fromEntries(Object.entries(body).filter(([k]) => !left.has(k)));
  return concat(`tally/request/v1\n${origin}\n${type}\n`, canonicalize(object), "\n");
}

/** Does `signatureB64` verify over `message` with `keyB64` (both base64)? */
export async function verifiesWith(keyB64, signatureB64, message) {
  let key;
  let signature;
  try {
    key = fromBase64(keyB64, "key");
    signature = fromBase64(signatureB64, "signature");
  } catch {
    return false;
  }
  if (key.length !== 32 || signature.length !== 64) return false;
  return ed25519Verify(key, signature, message);
}

/** The member's key the bundle shows in force at `t` (seconds), or null. */
export function keyAt(m, t) {
  if (m.recovery && t >= m.recovery.effective_s) return m.recovery.key;
  return m.member_key ?? null;
}

/** §4.5 for a member action: required where the rules say so; a signed one's signature
 * checked with the key the bundle shows (noted when it does not verify, see above). */
export async function checkRequest(state, body, id, t, rules) {
  const entry = body.entry;
  if (!isSigned(entry.body)) {
    if (rules.member_signatures === "required") {
      body.fail("§4.5", "request.required", `expected ${entry.type} signed by ${id}, found it written by ${entry.actor}`);
    }
    return;
  }
  body.int("request", 0, "§4.5");
  const m = state.members.get(id);
  const key = m === undefined ? null : keyAt(m, t);
  const message = requestMessage(state.origin, entry.type, entry.body);
  if (key === null || !(await verifiesWith(key, body.text("signature"), message))) {
    state.uncheckedRequests.push({ seq: entry.seq, member: id });
  }
}
