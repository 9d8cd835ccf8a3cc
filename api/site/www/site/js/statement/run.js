// The member's statement checked in the browser (specs/statement.md §3), step by
// step. Nothing in the bundle is believed: every step recomputes what it checks,
// and the first failure ends the run (the page then shows only the failure).

import { apportionStep } from "./apportion.js";
import { chargeStep } from "./charge.js";
import { CheckFailed } from "./check.js";
import { consistencyStep, signatureStep } from "./checkpoint.js";
import { claimsStep } from "./claims.js";
import { contributionsStep } from "./contributions.js";
import { completeStep, entriesStep, genesisStep } from "./entries.js";
import { formatStep, keyStep } from "./format.js";
import { buildReport } from "./report.js";
import { rulesStep } from "./rules.js";

/** The steps, in order. A new check of the spec is a new module added here. */
export const STEPS = [
  formatStep,
  keyStep,
  signatureStep,
  consistencyStep,
  entriesStep,
  genesisStep,
  completeStep,
  rulesStep,
  contributionsStep,
  apportionStep,
  chargeStep,
  claimsStep,
];

/**
 * Check a parsed bundle `doc` with the pinned `key`. `lastSeen` is the last
 * checkpoint this browser saw (or null) and `fetchConsistency(first, second)` gives
 * the proof hashes between two sizes. `onStep(id)` is told as each step starts.
 * `received` is when the bundle (and its checkpoint) was received, in ms since 1970
 * (default: now); no entry may be dated more than 600 s after it (log.md §3).
 * Returns {ok: true, checks, report, notes, latestSeen} or {ok: false, check,
 * message, checks, latestSeen}.
 */
export async function verifyStatement(doc, key, { lastSeen = null, fetchConsistency, member, period, onStep, received } = {}) {
  const ctx = { doc, key, lastSeen, fetchConsistency, member, period, received, notes: [], latestSeen: null };
  const checks = [];
  let current = STEPS[0].id;
  try {
    for (const step of STEPS) {
      current = step.id;
      onStep?.(step.id);
      checks.push(...(await step.run(ctx)));
    }
    return { ok: true, checks, report: buildReport(ctx), notes: ctx.notes, latestSeen: ctx.latestSeen };
  } catch (e) {
    const failed = e instanceof CheckFailed ? e : new CheckFailed(current, e?.message ?? String(e));
    return { ok: false, check: failed.check, message: failed.message, checks, latestSeen: ctx.latestSeen };
  }
}
