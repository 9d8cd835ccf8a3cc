// statement.md §3: P's apportionment (specs/plan.md §8.2) recomputed from the claims'
// payments and reversals in the bundle, the fee rule, the previous period's carry
// and the member count; then the conservation the spec states.

import { feeFen, shareFen } from "../plan/apportion.js";
import { nextPeriod, parsePeriod, periodOpenAt } from "../plan/periods.js";
import { seconds } from "../plan/time.js";
import { failCheck } from "./check.js";

function previousOf(closed, period) {
  for (const id of closed.keys()) if (nextPeriod(parsePeriod(id)).id === period) return id;
  return null;
}

export const apportionStep = {
  id: "apportion",
  async run(ctx) {
    const { replay, doc } = ctx;
    const period = doc.period;
    const pe = replay.closed.get(period);
    if (pe === undefined) failCheck("bundle.complete", `the period.closed of ${period} is missing`);
    const b = pe.body;
    const rules = replay.rules.inForce(seconds(pe.time));
    const first = periodOpenAt(replay.rules.versions[0].effective);
    const prev = previousOf(replay.closed, period);
    if (prev === null && period !== first) failCheck("bundle.complete", `the period.closed before ${period} is missing`);
    const carryIn = prev === null ? 0 : replay.closed.get(prev).body.carry_out_fen;
    const payments = replay.paidIn.get(period) ?? [];
    const recoveries = replay.recoveredIn.get(period) ?? [];
    const listed = JSON.stringify(b.claims);
    if (listed !== JSON.stringify(payments.map(([c]) => c))) {
      failCheck("apportion.claims", `period.closed lists ${listed}, the bundle pays ${JSON.stringify(payments.map(([c]) => c))}`);
    }
    const aid = sum(payments) - sum(recoveries);
    const fee = feeFen(aid, rules.fee_bp);
    const due = aid + fee - carryIn;
    const share = shareFen(due, b.members);
    const want = { aid_fen: aid, fee_fen: fee, carry_in_fen: carryIn, share_fen: share, carry_out_fen: share * b.members - due };
    for (const [k, v] of Object.entries(want)) {
      if (b[k] !== v) failCheck(`apportion.${k.replace(/_fen$/, "")}`, `period ${period} states ${k} ${b[k]}, recomputed ${v}`);
    }
    const total = due + want.carry_out_fen - b.subsidy_fen;
    if (b.contribution_total_fen !== total) {
      failCheck("apportion.conservation", `the contributions add up to ${b.contribution_total_fen}, expected aid + fee − carry_in + carry_out − subsidy = ${total}`);
    }
    ctx.period = { body: b, rules, payments, recoveries, aid, fee, carryIn, share };
    return ["apportion (aid, fee, carry, share, conservation)"];
  },
};

function sum(pairs) {
  return pairs.reduce((n, [, a]) => n + a, 0);
}
