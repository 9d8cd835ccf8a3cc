"""Latency from an append to a signed checkpoint that covers it.

This is how long a member waits before their entry is provable against a signed
root: each iteration appends a small batch (1 to ``max_batch`` entries, random)
and then calls ``Publisher.publish()``; the latency runs from the start of the
append call to the return of that publish. Appends and publishes are serial, as
with one operator process, so this is the floor, not the latency under load.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass

from bench.stats import ms, percentile
from bench.workload import make_batch
from ledger.log.log import Log
from ledger.publish.publisher import Publisher


@dataclass
class CheckpointLatency:
    """Append-to-signed-checkpoint latency over ``iterations`` append+publish rounds."""

    iterations: int
    entries: int
    max_batch: int
    p50_ms: float
    p99_ms: float
    mean_ms: float
    max_ms: float
    append_p50_ms: float
    publish_p50_ms: float


def checkpoint_latency(
    log: Log,
    publisher: Publisher,
    rng: random.Random,
    iterations: int,
    max_batch: int,
    progress: Callable[[str], None],
) -> CheckpointLatency:
    """Run the append-then-publish loop and summarise the latencies."""
    batches = [make_batch(rng, 0, rng.randint(1, max_batch)) for _ in range(iterations)]
    totals: list[float] = []
    appends: list[float] = []
    publishes: list[float] = []
    progress(f"append->checkpoint latency: {iterations} rounds of 1..{max_batch} entries")
    for batch in batches:
        t0 = time.perf_counter()
        appended = log.append_batch(batch)
        t1 = time.perf_counter()
        signed = publisher.publish()
        t2 = time.perf_counter()
        if signed.checkpoint.size <= appended[-1].seq:
            raise RuntimeError(
                f"checkpoint of size {signed.checkpoint.size} does not cover seq {appended[-1].seq}"
            )
        totals.append(t2 - t0)
        appends.append(t1 - t0)
        publishes.append(t2 - t1)
    return CheckpointLatency(
        iterations=iterations,
        entries=sum(len(b) for b in batches),
        max_batch=max_batch,
        p50_ms=ms(percentile(totals, 50)),
        p99_ms=ms(percentile(totals, 99)),
        mean_ms=ms(sum(totals) / len(totals)) if totals else 0.0,
        max_ms=ms(max(totals, default=0.0)),
        append_p50_ms=ms(percentile(appends, 50)),
        publish_p50_ms=ms(percentile(publishes, 50)),
    )
