// statement.md §3: the checkpoint is signed by the pinned key and names the origin;
// it is consistent with the last checkpoint this browser saw (RFC 9162 §2.1.4).

import { verifyCheckpoint } from "../verify/checkpoint.js";
import { fromBase64 } from "../verify/bytes.js";
import { verifyConsistency } from "../verify/merkle.js";
import { as, failCheck } from "./check.js";

export const signatureStep = {
  id: "checkpoint.signature",
  async run(ctx) {
    if (typeof ctx.doc.checkpoint !== "string") failCheck("checkpoint.signature", "expected the checkpoint as text");
    ctx.cp = await as("checkpoint.signature", () => verifyCheckpoint(ctx.doc.checkpoint, ctx.key));
    return ["checkpoint.signature"];
  },
};

/** Check `cp` against `seen` (the last checkpoint seen, or null); returns the later one. */
export async function checkConsistent(cp, seen, fetchProof) {
  if (seen === null) return { latest: cp, first: true };
  const [older, newer] = seen.size <= cp.size ? [seen, cp] : [cp, seen];
  const proof = older.size === newer.size ? [] : (await fetchProof(older.size, newer.size)).map((h) => fromBase64(h, "proof hash"));
  await verifyConsistency(older.size, newer.size, older.root, newer.root, proof);
  return { latest: newer, first: false };
}

export const consistencyStep = {
  id: "checkpoint.consistency",
  async run(ctx) {
    const result = await as("checkpoint.consistency", async () => {
      try {
        return await checkConsistent(ctx.cp, ctx.lastSeen, ctx.fetchConsistency);
      } catch (e) {
        const seen = ctx.lastSeen;
        throw new Error(`this checkpoint (size ${ctx.cp.size}) and the one this browser saw before (size ${seen.size}) are not of one history: ${e.message}`);
      }
    });
    ctx.latestSeen = result.latest;
    if (result.first) ctx.notes.push({ key: "note.first_checkpoint" });
    return ["checkpoint.consistency"];
  },
};
