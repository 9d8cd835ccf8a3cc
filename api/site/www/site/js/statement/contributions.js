// statement.md §3: each of the member's contribution leaves verifies against the
// root, count and total its period.closed entry states (specs/plan.md §9).

import { fromBase64 } from "../verify/bytes.js";
import { isInt, isObject } from "../verify/json.js";
import { leaf, makeNode, verifySumProof } from "../plan/sumtree.js";
import { as, failCheck } from "./check.js";

function node(s, i) {
  if (!isObject(s) || Object.keys(s).sort().join() !== "count,hash,total" || !isInt(s.count) || !isInt(s.total)) {
    failCheck("contribution.format", `contributions[${i}]: a malformed sibling`);
  }
  return makeNode(fromBase64(s.hash, "sibling hash"), s.count, s.total);
}

export const contributionsStep = {
  id: "contribution.proof",
  async run(ctx) {
    const closed = ctx.replay.closed;
    ctx.contribs = new Map();
    for (const [i, c] of ctx.doc.contributions.entries()) {
      const ok = isObject(c) && Object.keys(c).sort().join() === "amount_fen,index,period,siblings"
        && isInt(c.amount_fen) && c.amount_fen >= 0 && isInt(c.index) && c.index >= 0 && Array.isArray(c.siblings);
      if (!ok) failCheck("contribution.format", `contributions[${i}]: expected {period, index, amount_fen, siblings}`);
      if (!closed.has(c.period)) failCheck("bundle.complete", `the period.closed of ${c.period} is missing`);
      if (ctx.contribs.has(c.period)) failCheck("contribution.format", `two contributions for ${c.period}`);
      const body = closed.get(c.period).body;
      await as("contribution.proof", async () => {
        const root = makeNode(fromBase64(body.contribution_root, "contribution_root"), body.members, body.contribution_total_fen);
        const sibs = c.siblings.map((s) => node(s, i));
        try {
          await verifySumProof(await leaf(c.period, ctx.doc.member, c.amount_fen), c.index, body.members, sibs, root);
        } catch (e) {
          throw new Error(`your contribution in ${c.period} does not verify: ${e.message}`);
        }
      });
      ctx.contribs.set(c.period, c.amount_fen);
    }
    return [`contribution.proof (${ctx.contribs.size})`];
  },
};
