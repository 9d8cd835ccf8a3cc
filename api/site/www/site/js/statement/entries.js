// statement.md §1 and §3: entries sorted by seq, below the checkpoint's size, each
// with its RFC 9162 inclusion proof against the checkpoint; each entry's bytes are
// canonical (entries.md §3) and adjacent seqs are chained by hash (log.md §3).

import { fromBase64 } from "../verify/bytes.js";
import { chainHash, leafHash, parseEntry } from "../verify/entry.js";
import { verifyInclusions } from "../verify/merkle.js";
import { seconds, showTime } from "../plan/time.js";
import { failCheck } from "./check.js";

/** log.md §3: how far past the time a checkpoint was received an entry it covers may be dated. */
export const TIME_AHEAD_S = 600;

function decode(doc, cp) {
  let last = -1;
  return doc.entries.map((item, i) => {
    if (item.seq <= last) failCheck("entries.order", `entries[${i}]: seq ${item.seq} after seq ${last}`);
    if (BigInt(item.seq) >= cp.size) failCheck("entries.order", `entries[${i}]: seq ${item.seq} is not below the checkpoint size ${cp.size}`);
    last = item.seq;
    try {
      return { seq: item.seq, raw: fromBase64(item.leaf, `entries[${i}].leaf`), proof: item.proof.map((p) => fromBase64(p, `entries[${i}].proof`)) };
    } catch (e) {
      return failCheck("entries.format", e.message);
    }
  });
}

// All the proofs are walked together, a level at a time (merkle.js); the first
// failure in seq order is the one reported.
async function proveAll(items, cp) {
  const leaves = await Promise.all(items.map((it) => leafHash(it.raw)));
  const errors = await verifyInclusions(items.map((it, i) => ({ index: it.seq, leaf: leaves[i], proof: it.proof })), cp.size, cp.root);
  const at = errors.findIndex((e) => e !== null);
  if (at >= 0) failCheck("entry.inclusion", `entry at seq ${items[at].seq}: its inclusion proof fails: ${errors[at]}`);
}

export const entriesStep = {
  id: "entry.inclusion",
  async run(ctx) {
    const items = decode(ctx.doc, ctx.cp);
    await proveAll(items, ctx.cp);
    ctx.entries = items.map((it) => {
      let entry;
      try {
        entry = parseEntry(it.raw);
      } catch (e) {
        failCheck("entry.parse", `entry at seq ${it.seq}: ${e.message}`);
      }
      if (entry.seq !== it.seq) failCheck("entry.parse", `the bundle says seq ${it.seq}, the entry's bytes ${entry.seq}`);
      return entry;
    });
    // log.md §3: where two seqs of the bundle are adjacent, the later names the earlier's hash.
    const chained = await Promise.all(items.map((it, i) => (i > 0 && items[i - 1].seq + 1 === it.seq ? chainHash(items[i - 1].raw) : null)));
    chained.forEach((hash, i) => {
      if (hash !== null && ctx.entries[i].prev !== hash) {
        failCheck("entry.chain", `entry at seq ${items[i].seq}: prev is not the hash of seq ${items[i - 1].seq}`);
      }
    });
    // log.md §3: no entry is dated more than 600 s after the checkpoint was received.
    const latest = Math.floor((ctx.received ?? Date.now()) / 1000) + TIME_AHEAD_S;
    for (const e of ctx.entries) {
      if (seconds(e.time) > latest) {
        failCheck("entry.time", `entry at seq ${e.seq} is dated ${e.time}, after ${showTime(latest)}: more than 600 s after the checkpoint covering it was received`);
      }
    }
    return [`entry.inclusion (${items.length})`, "entry.parse", "entry.chain", "entry.time"];
  },
};

export const genesisStep = {
  id: "genesis",
  async run(ctx) {
    const g = ctx.entries[0];
    if (g === undefined || g.seq !== 0 || g.type !== "log.genesis") failCheck("genesis", "expected entry 0, log.genesis, in the bundle");
    if (g.body.origin !== ctx.key.name || g.body.verifier_key !== ctx.key.text) {
      failCheck("genesis", "expected the genesis entry to name the pinned origin and key");
    }
    return ["genesis"];
  },
};

export const completeStep = {
  id: "bundle.complete",
  async run(ctx) {
    const joined = new Map();
    for (const e of ctx.entries) if (e.type === "member.joined") joined.set(e.body.member, e.seq);
    if (!joined.has(ctx.doc.member)) failCheck("bundle.complete", `the member's own member.joined (${ctx.doc.member}) is missing`);
    for (const e of ctx.entries) {
      if (e.type !== "claim.filed") continue;
      const at = joined.get(e.body.member);
      if (at === undefined || at > e.seq) failCheck("bundle.complete", `the claimant's member.joined for c-${e.seq} is missing`);
    }
    return ["bundle.complete"];
  },
};
