// Apportionment (specs/plan.md §8.2), in exact integers (BigInt inside, so that no
// product of fen and basis points can lose a digit).

const BP = 10000n;

/** fee = ⌊max(aid, 0) × fee_bp / 10000⌋ */
export function feeFen(aid, feeBp) {
  const a = BigInt(aid);
  return Number(((a > 0n ? a : 0n) * BigInt(feeBp)) / BP);
}

/** share = ⌈due / N⌉ if due > 0 and N > 0, else 0 */
export function shareFen(due, n) {
  const d = BigInt(due);
  const m = BigInt(n);
  if (d <= 0n || m <= 0n) return 0;
  return Number((d + m - 1n) / m);
}

/** charge = min(share, annual_cap − charged earlier that year, floored at 0) */
export function chargeFen(share, cap, before) {
  return Math.min(share, Math.max(0, cap - before));
}
