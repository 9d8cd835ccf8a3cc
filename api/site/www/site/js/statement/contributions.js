// statement.md §1 and §3: each of the member's contributions verifies against the
// root, count and total its period.closed entry states (specs/plan.md §9): a leaf
// (the member's charge), or a proof of absence (the two leaves between which the
// member's id would be, whose ids bracket it strictly).

import { fromBase64 } from "../verify/bytes.js";
import { isInt, isObject } from "../verify/json.js";
import { leaf, makeNode, verifySumProof } from "../plan/sumtree.js";
import { as, failCheck } from "./check.js";

const LEAF_KEYS = "amount_fen,index,period,siblings";
const ABSENCE_KEYS = "absent,period";

function node(s, i) {
  if (!isObject(s) || Object.keys(s).sort().join() !== "count,hash,total" || !isInt(s.count) || !isInt(s.total)) {
    failCheck("contribution.format", `contributions[${i}]: a malformed sibling`);
  }
  return makeNode(fromBase64(s.hash, "sibling hash"), s.count, s.total);
}

function siblings(items, i) {
  if (!Array.isArray(items)) failCheck("contribution.format", `contributions[${i}].siblings: expected a list`);
  return items.map((s) => node(s, i));
}

async function verifyLeaf(period, member, amount, index, sibs, root) {
  await as("contribution.proof", async () => {
    try {
      await verifySumProof(await leaf(period, member, amount), index, root.count, sibs, root);
    } catch (e) {
      throw new Error(`the leaf of ${member} in ${period} does not verify: ${e.message}`);
    }
  });
}

// statement.md §1: index is the number of leaves with a smaller member id; the
// leaves at index − 1 and index (null past either end) bracket the member strictly.
async function verifyAbsence(i, period, member, absent, root) {
  const where = `contributions[${i}].absent`;
  if (!isObject(absent) || Object.keys(absent).sort().join() !== "index,left,right" || !isInt(absent.index) || absent.index < 0) {
    failCheck("contribution.format", `${where}: expected {index, left, right}`);
  }
  const index = BigInt(absent.index);
  if (index > root.count) failCheck("contribution.absence", `${where}: index ${index} past the ${root.count} leaves`);
  const sides = [["left", index - 1n, index > 0n], ["right", index, index < root.count]];
  for (const [side, position, exists] of sides) {
    const n = absent[side];
    if (!exists) {
      if (n !== null) failCheck("contribution.absence", `${where}.${side}: expected null`);
      continue;
    }
    if (!isObject(n) || Object.keys(n).sort().join() !== "amount_fen,member,siblings" || !isInt(n.amount_fen) || n.amount_fen < 0) {
      failCheck("contribution.format", `${where}.${side}: expected {member, amount_fen, siblings}`);
    }
    const brackets = typeof n.member === "string" && (side === "left" ? n.member < member : n.member > member);
    if (!brackets) failCheck("contribution.absence", `in ${period}, the ${side} leaf ${JSON.stringify(n.member)} does not bracket ${member}`);
    await verifyLeaf(period, n.member, n.amount_fen, Number(position), siblings(n.siblings, i), root);
  }
}

export const contributionsStep = {
  id: "contribution.proof",
  async run(ctx) {
    const closed = ctx.replay.closed;
    const member = ctx.doc.member;
    ctx.contribs = new Map();
    let absences = 0;
    for (const [i, c] of ctx.doc.contributions.entries()) {
      const keys = isObject(c) ? Object.keys(c).sort().join() : "";
      const isLeaf = keys === LEAF_KEYS && isInt(c.amount_fen) && c.amount_fen >= 0 && isInt(c.index) && c.index >= 0;
      if (!isLeaf && keys !== ABSENCE_KEYS) {
        failCheck("contribution.format", `contributions[${i}]: expected {period, index, amount_fen, siblings} or {period, absent}`);
      }
      if (!closed.has(c.period)) failCheck("bundle.complete", `the period.closed of ${c.period} is missing`);
      if (ctx.contribs.has(c.period)) failCheck("contribution.format", `two contributions for ${c.period}`);
      const body = closed.get(c.period).body;
      const root = await as("contribution.proof", async () =>
        makeNode(fromBase64(body.contribution_root, "contribution_root"), body.members, body.contribution_total_fen));
      if (isLeaf) {
        await verifyLeaf(c.period, member, c.amount_fen, c.index, siblings(c.siblings, i), root);
        ctx.contribs.set(c.period, c.amount_fen);
      } else {
        await verifyAbsence(i, c.period, member, c.absent, root);
        ctx.contribs.set(c.period, null);
        absences++;
      }
    }
    const checks = [`contribution.proof (${ctx.contribs.size - absences})`];
    if (absences) checks.push(`contribution.absence (${absences})`);
    return checks;
  },
};
