// statement.md §3: the member's own charge recomputed from the share, the annual cap
// and their earlier charges that calendar year (specs/plan.md §8.2).

import { chargeFen } from "../plan/apportion.js";
import { countedAt } from "../plan/members.js";
import { nextPeriod, parsePeriod, periodOpenAt } from "../plan/periods.js";
import { seconds } from "../plan/time.js";
import { failCheck } from "./check.js";

export const chargeStep = {
  id: "charge",
  async run(ctx) {
    const { replay, doc, contribs } = ctx;
    const member = replay.members.get(doc.member);
    const year = parsePeriod(doc.period).year;
    let p = parsePeriod(periodOpenAt(replay.rules.versions[0].effective));
    let before = 0;
    let charge = null;
    const history = [];
    for (;;) {
      if (p.year === year && countedAt(member, seconds(p.cutoff))) {
        const closed = replay.closed.get(p.id);
        if (closed === undefined || !contribs.has(p.id)) failCheck("bundle.complete", `your contribution for ${p.id} is missing`);
        const cap = replay.rules.inForce(seconds(closed.time)).annual_cap_fen;
        const share = closed.body.share_fen;
        charge = chargeFen(share, cap, before);
        if (contribs.get(p.id) !== charge) {
          failCheck("charge", `your charge in ${p.id} is ${contribs.get(p.id)}, recomputed min(share ${share}, cap ${cap} − ${before} charged earlier) = ${charge}`);
        }
        history.push({ period: p.id, share, charge, cap });
        before += charge;
      }
      if (p.id === doc.period) break;
      p = nextPeriod(p);
    }
    if (charge === null) failCheck("bundle.complete", `you were not counted in ${doc.period}`);
    ctx.charge = { charge, before: before - charge, history };
    return ["charge (share, annual cap, earlier charges)"];
  },
};
