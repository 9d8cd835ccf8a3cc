// statement.md §3 "for every claim": the replay has checked each step of each claim
// paid (or reversed) in P; this step names one check per claim, with what it covered,
// and notes an appeal that ended without its panel (specs/plan.md §6).

export const claimsStep = {
  id: "claims",
  async run(ctx) {
    const { replay, period } = ctx;
    const ids = [...period.payments.map(([c]) => c), ...period.recoveries.map(([c]) => c)];
    const names = [];
    for (const id of ids) {
      const c = replay.claims.get(id);
      const panel = c.jurors === null ? "" : ` panel: pool ${c.pool.length}, ${c.jurors.length} drawn, ${c.votes.size} signed votes`;
      names.push(`claim ${id} (${c.basis}${panel})`);
      if (c.appellant !== null && c.basis === "assessment") {
        ctx.notes.push({ key: "note.no_panel", params: { claim: id, appellant: c.appellant } });
      }
    }
    return names;
  },
};
