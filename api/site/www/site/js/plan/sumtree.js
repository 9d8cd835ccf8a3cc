// The contribution sum tree (specs/plan.md §9): nodes are (hash, count, total), with
// counts and totals unsigned 64-bit (BigInt here), in RFC 9162's shape. A member's
// proof is checked as RFC 9162 §2.1.3.2 walks an inclusion proof, recomputing hash,
// count and total, and each sibling's count against the leaves the shape puts under it.

import { concat, equal, sha256, u64be } from "../verify/bytes.js";

const U64 = 1n << 64n;
const MEMBER = /^m-[0-9a-f]{20}$/;
const PERIOD = /^[0-9]{4}-[0-9]{2}[ab]$/;

/** A sum-tree proof refused. */
export class SumTreeError extends Error {}

function u64(value, what) {
  const v = typeof value === "bigint" ? value : Number.isSafeInteger(value) ? BigInt(value) : null;
  if (v === null || v < 0n || v >= U64) throw new SumTreeError(`${what}: expected an unsigned 64-bit integer, found ${value}`);
  return v;
}

/** The leaf of `member`'s charge `amount` (fen) in `period`. */
export async function leaf(period, member, amount) {
  if (!PERIOD.test(period) || !MEMBER.test(member)) throw new SumTreeError(`bad leaf ${period} ${member}`);
  const total = u64(amount, "leaf amount");
  const text = `tally/contribution/v1\n${period}\n${member}\n${total}\n`;
  return { hash: await sha256(concat(new Uint8Array([0]), text)), count: 1n, total };
}

/** A node from JSON: {hash (base64 decoded by the caller), count, total}. */
export function makeNode(hash, count, total) {
  if (!(hash instanceof Uint8Array) || hash.length !== 32) throw new SumTreeError("expected a 32-byte node hash");
  return { hash, count: u64(count, "node count"), total: u64(total, "node total") };
}

/** The parent of two nodes; a count or total past 2^64 − 1 is refused. */
export async function interior(l, r) {
  const count = u64(l.count + r.count, "interior count");
  const total = u64(l.total + r.total, "interior total");
  const hash = await sha256(
    concat(new Uint8Array([1]), l.hash, u64be(l.count), u64be(l.total), r.hash, u64be(r.count), u64be(r.total)),
  );
  return { hash, count, total };
}

/** Check that `leafNode` is leaf `index` of the `size`-leaf tree whose root is `root`. */
export async function verifySumProof(leafNode, index, size, siblings, root) {
  let fn = u64(index, "index");
  const n = u64(size, "size");
  if (fn >= n) throw new SumTreeError(`index ${fn} is not below the tree size ${n}`);
  let sn = n - 1n;
  let level = 0n;
  let r = leafNode;
  for (const [k, sib] of siblings.entries()) {
    if (sn === 0n) throw new SumTreeError(`the proof is too long: ${siblings.length} siblings for leaf ${index} of ${n}`);
    if ((fn & 1n) === 1n || fn === sn) {
      while ((fn & 1n) === 0n && fn !== 0n) {
        fn >>= 1n;
        sn >>= 1n;
        level++;
      }
      shape(k, sib, 1n << level);
      r = await interior(sib, r);
    } else {
      const start = (fn + 1n) << level;
      const width = n - start < 1n << level ? n - start : 1n << level;
      shape(k, sib, width);
      r = await interior(r, sib);
    }
    fn >>= 1n;
    sn >>= 1n;
    level++;
  }
  if (sn !== 0n) throw new SumTreeError(`the proof is too short: ${siblings.length} siblings for leaf ${index} of ${n}`);
  if (!equal(r.hash, root.hash)) throw new SumTreeError("the proof gives another root hash than the period's");
  if (r.count !== root.count) throw new SumTreeError(`the proof counts ${r.count} members, the period states ${root.count}`);
  if (r.total !== root.total) throw new SumTreeError(`the proof adds up to ${r.total} fen, the period states ${root.total}`);
}

function shape(k, sibling, expected) {
  if (sibling.count !== expected) {
    throw new SumTreeError(`sibling ${k} must cover ${expected} members by the tree's shape, found ${sibling.count}`);
  }
}
