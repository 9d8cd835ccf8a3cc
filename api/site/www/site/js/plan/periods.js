// Periods (specs/plan.md §8.1): YYYY-MMa (cutoff the 14th) and YYYY-MMb (the 28th);
// the period open at t is the first whose cutoff is strictly after t.

const PERIOD = /^([0-9]{4})-([0-9]{2})([ab])$/;

/** A period id refused. */
export class PeriodError extends Error {}

/** Parse a period id; returns {year, month, half, id, cutoff}. */
export function parsePeriod(text) {
  const m = typeof text === "string" ? PERIOD.exec(text) : null;
  if (m === null || +m[1] < 1 || +m[2] < 1 || +m[2] > 12) {
    throw new PeriodError(`expected a period YYYY-MMa or YYYY-MMb, found ${JSON.stringify(text)}`);
  }
  return make(+m[1], +m[2], m[3]);
}

function make(year, month, half) {
  const y = String(year).padStart(4, "0");
  const mo = String(month).padStart(2, "0");
  return { year, month, half, id: `${y}-${mo}${half}`, cutoff: `${y}-${mo}-${half === "a" ? 14 : 28}T00:00:00Z` };
}

/** The period after `p` (a parsed period). */
export function nextPeriod(p) {
  if (p.half === "a") return make(p.year, p.month, "b");
  if (p.month < 12) return make(p.year, p.month + 1, "a");
  if (p.year === 9999) throw new PeriodError("no period follows 9999-12b");
  return make(p.year + 1, 1, "a");
}

/** The id of the period open at the entry time `time`. */
export function periodOpenAt(time) {
  const year = +time.slice(0, 4);
  const month = +time.slice(5, 7);
  for (const half of ["a", "b"]) {
    const p = make(year, month, half);
    if (p.cutoff > time) return p.id; // same fixed-width spelling: text order is time order
  }
  return nextPeriod(make(year, month, "b")).id;
}
