// Juror votes (specs/plan.md §7): the lines a juror signs with their own enrolled
// Ed25519 key, and the check of one vote's signature.

import { concat, ed25519Verify, fromBase64 } from "../verify/bytes.js";

/** The bytes a juror signs: tally/vote/v1, origin, claim, choice, rationale_hash, each + "\n". */
export function voteMessage(origin, claim, choice, rationaleHash) {
  return concat(`tally/vote/v1\n${origin}\n${claim}\n${choice}\n${rationaleHash}\n`);
}

/** Does the vote's signature verify with the juror's enrolled key (base64)? */
export async function verifyVote(jurorKeyB64, origin, claim, choice, rationaleHash, signatureB64) {
  let key;
  let signature;
  try {
    key = fromBase64(jurorKeyB64, "juror key");
    signature = fromBase64(signatureB64, "vote signature");
  } catch {
    return false;
  }
  if (key.length !== 32 || signature.length !== 64) return false;
  return ed25519Verify(key, signature, voteMessage(origin, claim, choice, rationaleHash));
}
