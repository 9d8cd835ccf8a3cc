// statement.md §1 and §3: entries sorted by seq, below the checkpoint's size, each
// with its RFC 9162 inclusion proof against the checkpoint; each entry's bytes are
// canonical (entries.md §3) and adjacent seqs are chained by hash (log.md §3).

import { fromBase64 } from "../verify/bytes.js";
import { chainHash, leafHash, parseEntry } from "../verify/entry.js";
import { NodeCache, verifyInclusion } from "../verify/merkle.js";
import { CheckFailed, failCheck } from "./check.js";

const WIDTH = 128;

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

// One node cache for all the proofs: they share their upper nodes (merkle.js).
// Proofs run a few at a time (Web Crypto digests off the main thread); the first
// failure in seq order is the one reported.
async function proveAll(items, cp) {
  const cache = new NodeCache();
  const prove = async (it) => {
    try {
      await verifyInclusion(it.seq, cp.size, await leafHash(it.raw), it.proof, cp.root, cache);
      return null;
    } catch (e) {
      return new CheckFailed("entry.inclusion", `entry at seq ${it.seq}: its inclusion proof fails: ${e.message}`);
    }
  };
  for (let i = 0; i < items.length; i += WIDTH) {
    const failed = (await Promise.all(items.slice(i, i + WIDTH).map(prove))).find((r) => r !== null);
    if (failed) throw failed;
  }
}

export const entriesStep = {
  id: "entry.inclusion",
  async run(ctx) {
    const items = decode(ctx.doc, ctx.cp);
    await proveAll(items, ctx.cp);
    let prev = null;
    ctx.entries = [];
    for (const it of items) {
      let entry;
      try {
        entry = parseEntry(it.raw);
      } catch (e) {
        failCheck("entry.parse", `entry at seq ${it.seq}: ${e.message}`);
      }
      if (entry.seq !== it.seq) failCheck("entry.parse", `the bundle says seq ${it.seq}, the entry's bytes ${entry.seq}`);
      if (prev !== null && prev.seq + 1 === it.seq && entry.prev !== (await chainHash(prev.raw))) {
        failCheck("entry.chain", `entry at seq ${it.seq}: prev is not the hash of seq ${prev.seq}`);
      }
      ctx.entries.push(entry);
      prev = it;
    }
    return [`entry.inclusion (${items.length})`, "entry.parse", "entry.chain"];
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
