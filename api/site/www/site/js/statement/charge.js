// statement.md §3: the member's charge in every covered period (P and each earlier
// period of its calendar year, from the plan's first) recomputed from the share, the
// annual cap and their earlier charges that year (specs/plan.md §8.2). A member
// counted at a period's cutoff must have a leaf of exactly that charge; any other
// member must be proved absent.

import { chargeFen } from "../plan/apportion.js";
import { countedAt } from "../plan/members.js";
import { nextPeriod, parsePeriod, periodOpenAt } from "../plan/periods.js";
import { seconds } from "../plan/time.js";
import { failCheck } from "./check.js";

function firstCovered(replay, year) {
  const first = parsePeriod(periodOpenAt(replay.rules.versions[0].effective));
  return first.year === year ? first : parsePeriod(`${String(year).padStart(4, "0")}-01a`);
}

function shown(found) {
  return found === null ? "no leaf" : `a leaf of ${found} fen`;
}

export const chargeStep = {
  id: "charge",
  async run(ctx) {
    const { replay, doc, contribs } = ctx;
    const member = replay.members.get(doc.member);
    let p = firstCovered(replay, parsePeriod(doc.period).year);
    let before = 0;
    const history = [];
    for (;;) {
      const closed = replay.closed.get(p.id);
      if (closed === undefined || !contribs.has(p.id)) failCheck("bundle.complete", `your contribution for ${p.id} is missing`);
      const counted = countedAt(member, seconds(p.cutoff));
      const found = contribs.get(p.id);
      if (counted !== (found !== null)) {
        failCheck("contribution.counted", `in ${p.id} you were ${counted ? "counted" : "not counted"} (joined before its cutoff and not left before it), but the bundle shows ${shown(found)}`);
      }
      const cap = replay.rules.inForce(seconds(closed.time)).annual_cap_fen;
      const share = closed.body.share_fen;
      const charge = counted ? chargeFen(share, cap, before) : 0;
      if (counted && found !== charge) {
        failCheck("charge", `your charge in ${p.id} is ${found}, recomputed min(share ${share}, cap ${cap} − ${before} charged earlier) = ${charge}`);
      }
      history.push({ period: p.id, counted, share, charge, cap, subsidy: counted ? share - charge : 0 });
      before += charge;
      if (p.id === doc.period) break;
      p = nextPeriod(p);
    }
    const extra = [...contribs.keys()].filter((id) => !history.some((c) => c.period === id));
    if (extra.length) failCheck("contribution.format", `contributions for periods the statement does not cover: ${extra.sort().join(", ")}`);
    const mine = history.at(-1);
    ctx.charge = {
      counted: mine.counted,
      charge: mine.charge,
      cap: mine.cap,
      subsidy: mine.subsidy,
      before: before - mine.charge,
      yearCharged: before,
      yearSubsidy: history.reduce((n, c) => n + c.subsidy, 0),
      history,
    };
    return [`charge (${history.length} periods: share, annual cap, earlier charges)`];
  },
};
