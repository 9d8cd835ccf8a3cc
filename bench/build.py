"""Building the large log that proofs and ``tally check`` are measured on.

The log is grown to exactly ``entries`` entries (genesis included) with
``Log.append_batch`` in batches of 5,000, as a bulk import or replay would, and
then one checkpoint is signed so ``check`` has a real signature to verify. Only
the append calls are timed, so the rate is the store's, not the generator's; the
size of the log's tables afterwards gives bytes per entry on disk.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass

from bench.stats import rate
from bench.workload import make_batch
from ledger.instance import Ledger

BUILD_BATCH = 5_000


@dataclass
class Build:
    """Growing the log to ``size`` entries by appending ``appended`` of them."""

    size: int
    appended: int
    batch_size: int
    seconds: float
    per_s: float
    log_bytes: int = 0
    bytes_per_entry: float = 0.0


def build_log(
    ledger: Ledger,
    rng: random.Random,
    entries: int,
    progress: Callable[[str], None],
    batch_size: int = BUILD_BATCH,
) -> Build:
    """Append until the log holds ``entries`` entries; sign a checkpoint at the end."""
    start = ledger.log.size()
    target = max(entries, start)
    seconds = 0.0
    next_report = time.perf_counter() + 10
    progress(f"building a {target:,}-entry log in batches of {batch_size:,}")
    for at in range(start, target, batch_size):
        batch = make_batch(rng, at, min(batch_size, target - at))
        t0 = time.perf_counter()
        ledger.log.append_batch(batch)
        seconds += time.perf_counter() - t0
        if time.perf_counter() >= next_report:
            done = at + len(batch)
            progress(f"  {done:,} / {target:,} ({rate(done - start, seconds):,.0f}/s)")
            next_report = time.perf_counter() + 10
    ledger.publisher.publish()
    appended = target - start
    return Build(
        size=target,
        appended=appended,
        batch_size=batch_size,
        seconds=round(seconds, 3),
        per_s=round(rate(appended, seconds), 1),
    )
