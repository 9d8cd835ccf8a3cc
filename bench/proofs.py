"""Inclusion proofs served from the store: ``Log.inclusion_proof(seq, size)``.

This is the hot read path of the public API: a proof for a random entry of the
full tree, planned as at most 2*log2(n)+1 stored hash positions and read in one
statement. Random seqs defeat any locality a real workload might enjoy, so this
is a conservative rate. Each run is time-boxed; one thread shows per-request
cost, two threads show how much the store and driver overlap on this 2-core
class of machine (the GIL is released while waiting on the database).
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from bench.stats import rate
from ledger.log.log import Log

WARMUP_PROOFS = 500


@dataclass
class ProofRate:
    """Inclusion proofs served by ``threads`` threads in ``seconds``."""

    threads: int
    size: int
    proofs: int
    seconds: float
    per_s: float
    mean_proof_hashes: float


def proof_rate(
    log: Log,
    size: int,
    threads: int,
    seconds: float,
    seed: int,
    progress: Callable[[str], None],
) -> ProofRate:
    """Serve random inclusion proofs in the tree of ``size`` from ``threads`` threads."""
    progress(f"inclusion proofs: {threads} thread(s) for {seconds:g}s on a {size:,}-entry tree")
    barrier = threading.Barrier(threads + 1)
    counts = [0] * threads
    hashes = [0] * threads
    errors: list[BaseException] = []

    def work(k: int) -> None:
        rng = random.Random(seed * 1000 + k)
        n = h = 0
        try:
            # Each thread warms its own pooled connection before the clock starts.
            for _ in range(WARMUP_PROOFS):
                log.inclusion_proof(rng.randrange(size), size)
        except BaseException as exc:  # re-raised in the calling thread
            errors.append(exc)
        barrier.wait()
        deadline = time.perf_counter() + seconds
        try:
            while not errors and time.perf_counter() < deadline:
                h += len(log.inclusion_proof(rng.randrange(size), size))
                n += 1
        except BaseException as exc:  # re-raised in the calling thread
            errors.append(exc)
        counts[k], hashes[k] = n, h

    workers = [threading.Thread(target=work, args=(k,), daemon=True) for k in range(threads)]
    for w in workers:
        w.start()
    barrier.wait()
    started = time.perf_counter()
    for w in workers:
        w.join()
    elapsed = time.perf_counter() - started
    if errors:
        raise errors[0]
    total = sum(counts)
    return ProofRate(
        threads=threads,
        size=size,
        proofs=total,
        seconds=round(elapsed, 3),
        per_s=round(rate(total, elapsed), 1),
        mean_proof_hashes=round(sum(hashes) / total, 2) if total else 0.0,
    )
