// What a verified statement says, in numbers (specs/statement.md §4): the member's
// charge, the claims it paid for and the member's part of each, the fee, each
// recovery credited to the period, the carries, the annual cap and the subsidy.

/**
 * Split `total` fen in proportion to signed `weights` (statement.md §4): part i is
 * ⌊total × wᵢ / W⌋ with W the weights' sum, and the fen left over go one each to the
 * parts with the largest remainder (total × wᵢ mod W), the earlier first on ties. The
 * parts add up to `total`; all are 0 when `total` or W is not positive.
 */
export function splitSigned(total, weights) {
  const ws = weights.map((x) => BigInt(x));
  const w = ws.reduce((a, b) => a + b, 0n);
  const t = BigInt(total);
  if (w <= 0n || t <= 0n) return weights.map(() => 0);
  const floorDiv = (a, b) => (a >= 0n ? a / b : -((-a + b - 1n) / b));
  const parts = ws.map((x) => floorDiv(t * x, w));
  const rem = ws.map((x, i) => t * x - parts[i] * w);
  let rest = t - parts.reduce((a, b) => a + b, 0n);
  const order = ws.map((_, i) => i).sort((a, b) => (rem[a] === rem[b] ? a - b : rem[a] > rem[b] ? -1 : 1));
  for (const i of order) {
    if (rest === 0n) break;
    parts[i] += 1n;
    rest--;
  }
  return parts.map(Number);
}

/** The report of a verified bundle (ctx after every step passed). */
export function buildReport(ctx) {
  const { period, charge, replay, doc } = ctx;
  const b = period.body;
  const weights = [
    ...period.payments.map(([, a]) => a),
    period.fee,
    ...period.recoveries.map(([, a]) => -a),
    -period.carryIn,
    b.carry_out_fen,
  ];
  const parts = splitSigned(charge.charge, weights);
  const n = period.payments.length;
  return {
    member: doc.member,
    period: doc.period,
    checkpointSize: ctx.cp.size,
    checkpointRoot: ctx.cp.root,
    counted: charge.counted,
    charge: charge.charge,
    share: period.share,
    capped: charge.counted && charge.charge < period.share,
    chargedBefore: charge.before,
    annualCap: charge.cap,
    subsidyMine: charge.subsidy,
    yearCharged: charge.yearCharged,
    yearSubsidy: charge.yearSubsidy,
    fee: period.fee,
    feePart: parts[n],
    carryIn: period.carryIn,
    carryInPart: parts.at(-2),
    carryOut: b.carry_out_fen,
    carryOutPart: parts.at(-1),
    subsidy: b.subsidy_fen,
    members: b.members,
    aid: period.aid,
    claims: period.payments.map(([id, amount], i) => {
      const c = replay.claims.get(id);
      return {
        id, amount, part: parts[i], category: c.category, condition: c.condition, basis: c.basis,
        history: c.history, recovered: c.recovered_fen, recoveredPeriod: c.recovered_period,
      };
    }),
    recoveries: period.recoveries.map(([id, amount], i) => ({ id, amount, part: parts[n + 1 + i] })),
    history: charge.history,
  };
}
