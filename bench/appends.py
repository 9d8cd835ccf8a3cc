"""Durable append rates: batched (group commit) and one entry per commit.

Every ``Log.append_batch`` is one write transaction and so one fsync (SQLite WAL
with ``synchronous=FULL``, PostgreSQL with its configured ``synchronous_commit``),
so entries per second depend mostly on batch size: the batched rate shows the
sequencer's CPU cost per entry, the single rate shows the cost of a durable
commit. Entries are generated before the clock starts.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass

from bench.stats import ms, percentile, rate
from bench.workload import make_batch
from ledger.log.log import Log

Progress = Callable[[str], None]


@dataclass
class BatchedAppends:
    """Appending ``entries`` in batches of ``batch_size``, one transaction each."""

    entries: int
    batch_size: int
    seconds: float
    per_s: float
    mean_entry_bytes: float
    batch_p50_ms: float
    batch_p99_ms: float


@dataclass
class SingleAppends:
    """Appending ``entries`` with ``Log.append``: one entry, one transaction, one fsync."""

    entries: int
    seconds: float
    per_s: float
    commit_p50_ms: float
    commit_p99_ms: float


def batched_appends(
    log: Log, rng: random.Random, entries: int, batch_size: int, progress: Progress
) -> BatchedAppends:
    """Append ``entries`` in batches of ``batch_size`` and time the whole run."""
    batches = [
        make_batch(rng, start, min(batch_size, entries - start))
        for start in range(0, entries, batch_size)
    ]
    samples: list[float] = []
    total_bytes = 0
    progress(f"batched appends: {entries:,} entries in batches of {batch_size:,}")
    started = time.perf_counter()
    for batch in batches:
        t0 = time.perf_counter()
        appended = log.append_batch(batch)
        samples.append(time.perf_counter() - t0)
        total_bytes += sum(len(a.raw) for a in appended)
    seconds = time.perf_counter() - started
    return BatchedAppends(
        entries=entries,
        batch_size=batch_size,
        seconds=round(seconds, 3),
        per_s=round(rate(entries, seconds), 1),
        mean_entry_bytes=round(total_bytes / entries, 1) if entries else 0.0,
        batch_p50_ms=ms(percentile(samples, 50)),
        batch_p99_ms=ms(percentile(samples, 99)),
    )


def single_appends(log: Log, rng: random.Random, entries: int, progress: Progress) -> SingleAppends:
    """Append ``entries`` one per commit and time the whole run."""
    news = make_batch(rng, 0, entries)
    samples: list[float] = []
    progress(f"single appends: {entries:,} entries, one per commit")
    started = time.perf_counter()
    for new in news:
        t0 = time.perf_counter()
        log.append(new)
        samples.append(time.perf_counter() - t0)
    seconds = time.perf_counter() - started
    return SingleAppends(
        entries=entries,
        seconds=round(seconds, 3),
        per_s=round(rate(entries, seconds), 1),
        commit_p50_ms=ms(percentile(samples, 50)),
        commit_p99_ms=ms(percentile(samples, 99)),
    )
