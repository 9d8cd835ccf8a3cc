// Entry times (specs/entries.md §1) as whole seconds since 1970, so that "t + n days"
// (a day is 86,400 seconds, specs/plan.md conventions) is integer arithmetic.

export const DAY = 86400;

/** Seconds since 1970-01-01T00:00:00Z of a valid entry time. */
export function seconds(text) {
  const d = new Date(0);
  d.setUTCFullYear(+text.slice(0, 4), +text.slice(5, 7) - 1, +text.slice(8, 10));
  d.setUTCHours(+text.slice(11, 13), +text.slice(14, 16), +text.slice(17, 19), 0);
  return d.getTime() / 1000;
}

/** The entry-time spelling of `secs`, or null outside the years 0001-9999. */
export function formatTime(secs) {
  const d = new Date(secs * 1000);
  const y = d.getUTCFullYear();
  if (!Number.isFinite(secs) || y < 1 || y > 9999) return null;
  const two = (n) => String(n).padStart(2, "0");
  return `${String(y).padStart(4, "0")}-${two(d.getUTCMonth() + 1)}-${two(d.getUTCDate())}T${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())}Z`;
}

/** `secs` as an entry time for a message, even past year 9999. */
export function showTime(secs) {
  return formatTime(secs) ?? `${secs} s after 1970`;
}
