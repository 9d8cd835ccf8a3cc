// The panel draw (specs/plan.md §6): the pool root, the operator's pool signature,
// the appellant's secret, the seed, and the partial Fisher–Yates shuffle fed by the
// block stream H(seed ‖ u64be(k)).

import { concat, ed25519Verify, equal, fromBase64, fromHex, sha256, toHex, u64be } from "../verify/bytes.js";

const TWO64 = 1n << 64n;

/** A malformed draw input, or one that does not check. */
export class DrawError extends Error {}

/** pool_root = H("tally/pool/v1\n" ‖ claim ‖ "\n" ‖ id₁ ‖ "\n" ‖ …) over sorted ids. */
export function poolRoot(claim, sortedIds) {
  sortedIds.forEach((id, k) => {
    if (k && !(sortedIds[k - 1] < id)) throw new DrawError(`the pool must be sorted by member id, found ${sortedIds[k - 1]} before ${id}`);
  });
  return sha256(`tally/pool/v1\n${claim}\n${sortedIds.map((id) => `${id}\n`).join("")}`);
}

/** Check the log key's signature over a pool; returns the 64 signature bytes. */
export async function verifyPoolSignature(logKey, origin, claim, root, signatureB64) {
  const signature = fromBase64(signatureB64, "pool_signature");
  if (signature.length !== 64) throw new DrawError(`expected a 64-byte pool_signature, found ${signature.length}`);
  const message = concat(`tally/pool-signature/v1\n${origin}\n${claim}\n${toHex(root)}\n`);
  if (!(await ed25519Verify(logKey.publicKey, signature, message))) {
    throw new DrawError(`the pool signature of ${claim} does not verify with the log's key`);
  }
  return signature;
}

/** The secret (hex) must open the appeal's commitment: H(secret) = secret_commitment. */
export async function checkSecret(secretHex, commitmentHex) {
  const secret = fromHex(secretHex, "secret");
  if (secret.length !== 32) throw new DrawError("expected a 32-byte secret");
  const opened = await sha256(secret);
  if (!equal(opened, fromHex(commitmentHex, "secret_commitment"))) {
    throw new DrawError(`H(secret) is ${toHex(opened)}, the appeal committed to ${commitmentHex}`);
  }
  return secret;
}

/** seed = H("tally/seed/v1\n" ‖ pool_root ‖ pool_signature ‖ secret), raw bytes. */
export function seedOf(root, signature, secret) {
  return sha256(concat("tally/seed/v1\n", root, signature, secret));
}

/** The first `size` ids of the seeded partial Fisher–Yates shuffle of the sorted pool. */
export async function draw(sortedIds, seed, size) {
  if (size < 0 || size > sortedIds.length) throw new DrawError(`a panel of ${size} from a pool of ${sortedIds.length}`);
  const ids = [...sortedIds];
  const stream = { k: 0n, seed };
  for (let i = 0; i < size; i++) {
    const j = i + (await uniformBelow(stream, BigInt(ids.length - i)));
    [ids[i], ids[j]] = [ids[j], ids[i]];
  }
  return ids.slice(0, size);
}

// One block counter runs through the whole draw; v is accepted if v < ⌊2^64/m⌋·m.
async function uniformBelow(stream, m) {
  const limit = (TWO64 / m) * m;
  for (;;) {
    const block = await sha256(concat(stream.seed, u64be(stream.k)));
    stream.k++;
    const v = new DataView(block.buffer).getBigUint64(0);
    if (v < limit) return Number(v % m);
  }
}
