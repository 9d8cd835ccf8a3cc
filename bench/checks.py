"""``tally check`` throughput: ``ledger.check.check_log`` over the whole log.

Check re-derives the chain and every stored hash from the entry bytes and
verifies every signed checkpoint; its rate says how long an operator (or an
auditor with a copy of the database) waits to re-verify a log of a given size.
The default mode re-reads only the envelope tail of each entry; ``full``
re-validates each entry completely.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from bench.stats import rate
from ledger.check import check_log
from ledger.log.store import Store


@dataclass
class CheckRate:
    """One ``check_log`` run over the whole log."""

    mode: str
    entries: int
    seconds: float
    per_s: float
    ok: bool
    first_mismatch: str | None


def check_rate(
    store: Store, *, full: bool, workers: int | None, progress: Callable[[str], None]
) -> CheckRate:
    """Time ``check_log(store, full=full, workers=workers)`` (None: one per core)."""
    mode = ("full" if full else "fast") + (", 1 process" if workers == 1 else ", all cores")
    progress(f"tally check ({mode})")
    t0 = time.perf_counter()
    report = check_log(store, full=full, workers=workers)
    seconds = time.perf_counter() - t0
    return CheckRate(
        mode=mode,
        entries=report.entries,
        seconds=round(seconds, 3),
        per_s=round(rate(report.entries, seconds), 1),
        ok=report.ok,
        first_mismatch=str(report.mismatches[0]) if report.mismatches else None,
    )
