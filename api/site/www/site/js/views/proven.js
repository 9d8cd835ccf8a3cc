// One entry fetched as its exact bytes, parsed strictly (specs/entries.md §3) and
// proven in a verified checkpoint with its RFC 9162 inclusion proof.

import { getJSON } from "../api.js";
import { fromBase64 } from "../verify/bytes.js";
import { leafHash, parseEntry } from "../verify/entry.js";
import { verifyInclusion } from "../verify/merkle.js";

const cache = new Map();

/** {proof: "ok" | "pending" | "fail", entry?, error?} for the entry at `seq` in `cp`. */
export function fetchProven(seq, cp) {
  const id = `${seq}@${cp.size}`;
  if (!cache.has(id)) cache.set(id, prove(seq, cp));
  return cache.get(id);
}

async function prove(seq, cp) {
  try {
    const page = await getJSON("v1/entries", { start: seq, end: seq + 1 });
    const item = page.entries?.[0];
    if (item?.seq !== seq) throw new Error(`asked for seq ${seq}, the server sent ${item?.seq}`);
    const raw = fromBase64(item.leaf, "leaf");
    const entry = parseEntry(raw);
    if (entry.seq !== seq) throw new Error(`the bytes of seq ${seq} say seq ${entry.seq}`);
    if (BigInt(seq) >= cp.size) return { proof: "pending", entry };
    const proof = await getJSON("v1/proof/inclusion", { seq, tree_size: String(cp.size) });
    const hashes = proof.hashes.map((x) => fromBase64(x, "proof hash"));
    await verifyInclusion(seq, cp.size, await leafHash(raw), hashes, cp.root);
    return { proof: "ok", entry };
  } catch (e) {
    return { proof: "fail", error: e.message };
  }
}
