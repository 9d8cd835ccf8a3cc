// RFC 9162 Merkle tree proofs (specs/tree.md §5): inclusion (§2.1.3.2) and
// consistency (§2.1.4.2), with the checks in the order tree.md gives. Indexes and
// sizes are BigInt, so any u64 tree size is handled exactly.

import { concat, equal, sha256 } from "./bytes.js";

const NODE = new Uint8Array([1]);

/** A proof refused; the message says which rule. */
export class ProofError extends Error {}

function node(left, right) {
  return sha256(concat(NODE, left, right));
}

function checkHashes(hashes, what) {
  hashes.forEach((h, i) => {
    if (!(h instanceof Uint8Array) || h.length !== 32) {
      throw new ProofError(`${what}[${i}]: expected a 32-byte hash, found ${h?.length ?? "none"}`);
    }
  });
}

function bitLength(x) {
  return x === 0n ? 0 : x.toString(2).length;
}

function popCount(x) {
  let n = 0;
  for (const c of x.toString(2)) if (c === "1") n++;
  return n;
}

/** The number of hashes in the inclusion proof of `index` in a tree of `size` (> index). */
export function inclusionLength(index, size) {
  const inner = bitLength(index ^ (size - 1n));
  return inner + popCount(index >> BigInt(inner));
}

/** RFC 9162 §2.1.3.2: is `leaf` (its leaf hash) at `index` in the tree of `size` with `root`? */
export async function verifyInclusion(index, size, leaf, proof, root) {
  index = BigInt(index);
  size = BigInt(size);
  if (index < 0n || index >= size) throw new ProofError(`index ${index} is not below the tree size ${size}`);
  checkHashes([leaf, root, ...proof], "hash");
  const want = inclusionLength(index, size);
  if (proof.length !== want) {
    throw new ProofError(`expected ${want} hashes for entry ${index} of ${size}, found ${proof.length}`);
  }
  let fn = index;
  let sn = size - 1n;
  let r = leaf;
  for (const p of proof) {
    if ((fn & 1n) === 1n || fn === sn) {
      r = await node(p, r);
      while ((fn & 1n) === 0n && fn !== 0n) {
        fn >>= 1n;
        sn >>= 1n;
      }
    } else {
      r = await node(r, p);
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  if (!equal(r, root)) throw new ProofError(`the proof of entry ${index} gives another root than the checkpoint's`);
}

/**
 * RFC 9162 §2.1.3.2 for many leaves against one root at once: each proof is walked
 * exactly as verifyInclusion walks it, but all of them a level at a time, so that
 * each round's node hashes go to Web Crypto together (and a node shared by several
 * paths is hashed once). Returns one null (verified) or error message per item
 * {index, leaf, proof}, in order.
 */
export async function verifyInclusions(items, size, root) {
  size = BigInt(size);
  const walks = items.map((it) => startWalk(it, size, root));
  const unfinished = (w) => w.error === null && w.k < w.proof.length;
  for (let live = walks.filter(unfinished); live.length; live = live.filter(unfinished)) {
    const digests = new Map();
    for (const w of live) {
      const p = w.proof[w.k];
      const left = (w.fn & 1n) === 1n || w.fn === w.sn;
      const data = left ? concat(NODE, p, w.r) : concat(NODE, w.r, p);
      const key = String.fromCharCode.apply(null, data);
      if (!digests.has(key)) digests.set(key, sha256(data));
      w.pending = digests.get(key);
      w.left = left;
    }
    for (const w of live) {
      w.r = await w.pending;
      if (w.left) {
        while ((w.fn & 1n) === 0n && w.fn !== 0n) {
          w.fn >>= 1n;
          w.sn >>= 1n;
        }
      }
      w.fn >>= 1n;
      w.sn >>= 1n;
      w.k++;
    }
  }
  return walks.map((w) => w.error ?? (equal(w.r, root) ? null : `the proof of entry ${w.index} gives another root than the checkpoint's`));
}

function startWalk(it, size, root) {
  const index = BigInt(it.index);
  const walk = { index, fn: index, sn: size - 1n, r: it.leaf, proof: it.proof, k: 0, error: null };
  try {
    if (index < 0n || index >= size) throw new ProofError(`index ${index} is not below the tree size ${size}`);
    checkHashes([it.leaf, root, ...it.proof], "hash");
    const want = inclusionLength(index, size);
    if (it.proof.length !== want) throw new ProofError(`expected ${want} hashes for entry ${index} of ${size}, found ${it.proof.length}`);
  } catch (e) {
    walk.error = e.message;
  }
  return walk;
}

/** RFC 9162 §2.1.4.2: is the tree of `m` leaves with `rootM` a prefix of the one of `n` with `rootN`? */
export async function verifyConsistency(m, n, rootM, rootN, proof) {
  m = BigInt(m);
  n = BigInt(n);
  if (m === 0n) throw new ProofError("no consistency proof starts from the empty tree");
  if (m > n) throw new ProofError(`the first size ${m} is larger than the second ${n}`);
  if (m === n) {
    if (proof.length !== 0) throw new ProofError("equal sizes need an empty proof");
    if (!equal(rootM, rootN)) throw new ProofError(`two different roots for the same size ${m}`);
    return;
  }
  if (proof.length === 0) throw new ProofError("an empty proof between different sizes");
  checkHashes([rootM, rootN, ...proof], "hash");
  const path = (m & (m - 1n)) === 0n ? [rootM, ...proof] : proof;
  let fn = m - 1n;
  let sn = n - 1n;
  while ((fn & 1n) === 1n) {
    fn >>= 1n;
    sn >>= 1n;
  }
  let fr = path[0];
  let sr = path[0];
  for (const c of path.slice(1)) {
    if (sn === 0n) throw new ProofError("the consistency proof is too long");
    if ((fn & 1n) === 1n || fn === sn) {
      fr = await node(c, fr);
      sr = await node(c, sr);
      while ((fn & 1n) === 0n && fn !== 0n) {
        fn >>= 1n;
        sn >>= 1n;
      }
    } else {
      sr = await node(sr, c);
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  if (sn !== 0n) throw new ProofError("the consistency proof is too short");
  if (!equal(fr, rootM)) throw new ProofError(`the proof does not give the root at size ${m}`);
  if (!equal(sr, rootN)) throw new ProofError(`the proof does not give the root at size ${n}`);
}
