// What a statement step throws when its check fails, and how a step is written.
//
// A step is {id, run(ctx)}: run() checks one thing of specs/statement.md §3, adds
// what it learns to ctx, and returns the names of the checks it passed (or throws
// CheckFailed naming the check). Steps run in order; the first failure ends the run.

/** A named check failed; `check` is its stable name (for example "entry.inclusion"). */
export class CheckFailed extends Error {
  constructor(check, message) {
    super(message);
    this.check = check;
  }
}

/** Throw CheckFailed. */
export function failCheck(check, message) {
  throw new CheckFailed(check, message);
}

/** Run `fn`; any error it throws becomes a failure of `check` with its message. */
export async function as(check, fn) {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof CheckFailed) throw e;
    throw new CheckFailed(check, e?.message ?? String(e));
  }
}
