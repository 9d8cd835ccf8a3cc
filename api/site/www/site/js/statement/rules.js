// statement.md §3: the plan's rules (specs/plan.md §2-§7) re-run over the entries of
// the bundle: the rules in force at each step, the waiting period, the condition,
// the benefit, disclosure and the objection window, the pool and its signature, the
// secret, the seed and the draw, every vote's signature, quorum and threshold, the
// decision and the payment.

import { SparseReplay } from "../plan/replay.js";
import { as } from "./check.js";

export const rulesStep = {
  id: "plan.rules",
  async run(ctx) {
    const replay = new SparseReplay();
    await as("plan.rules", async () => {
      for (const e of ctx.entries) await replay.apply(e);
    });
    ctx.replay = replay;
    for (const id of replay.placeholders) ctx.notes.push({ key: "note.objector", params: { member: id } });
    for (const { seq, member } of replay.uncheckedRequests) {
      ctx.notes.push({ key: "note.unchecked_request", params: { seq, member } });
    }
    return ["plan.rules"];
  },
};
