// What a verified statement says, in numbers: the member's charge, the claims it
// paid for and the member's part of each, the fee, carry, subsidy and recoveries.
// The parts are the charge split in proportion to each paid claim's amount and the
// fee, by largest remainder so that they add up exactly to the charge.

/** Split `total` in proportion to `weights` (largest remainder); sums to `total`. */
export function splitProportionally(total, weights) {
  const w = weights.reduce((a, b) => a + BigInt(b), 0n);
  const t = BigInt(total);
  if (w <= 0n || t <= 0n) return weights.map(() => 0);
  const floors = weights.map((x) => (t * BigInt(x)) / w);
  let rest = t - floors.reduce((a, b) => a + b, 0n);
  const order = weights.map((x, i) => [(t * BigInt(x)) % w, i]).sort((a, b) => (a[0] === b[0] ? a[1] - b[1] : a[0] > b[0] ? -1 : 1));
  for (const [, i] of order) {
    if (rest === 0n) break;
    floors[i] += 1n;
    rest--;
  }
  return floors.map(Number);
}

/** The report of a verified bundle (ctx after every step passed). */
export function buildReport(ctx) {
  const { period, charge, replay, doc } = ctx;
  const b = period.body;
  const weights = [...period.payments.map(([, a]) => a), period.fee];
  const parts = splitProportionally(charge.charge, weights);
  const claim = (id) => replay.claims.get(id);
  return {
    member: doc.member,
    period: doc.period,
    checkpointSize: ctx.cp.size,
    checkpointRoot: ctx.cp.root,
    charge: charge.charge,
    share: period.share,
    capped: charge.charge < period.share,
    chargedBefore: charge.before,
    annualCap: period.rules.annual_cap_fen,
    fee: period.fee,
    feePart: parts.at(-1),
    carryIn: period.carryIn,
    carryOut: b.carry_out_fen,
    subsidy: b.subsidy_fen,
    members: b.members,
    aid: period.aid,
    claims: period.payments.map(([id, amount], i) => ({
      id, amount, part: parts[i], category: claim(id).category, condition: claim(id).condition,
      basis: claim(id).basis, history: claim(id).history,
    })),
    recoveries: period.recoveries.map(([id, amount]) => ({ id, amount })),
    history: charge.history,
  };
}
