"""Runs every measurement on one backend, each on a fresh log.

Two logs per backend: a small one for the write measurements (append rates and
append-to-checkpoint latency), and the large one built to ``--entries`` for the
read measurements (inclusion proofs and ``tally check``), so the build rate is
measured from an empty log and the read numbers see exactly the size asked for.
"""

from __future__ import annotations

import random
import tempfile
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

from bench.appends import batched_appends, single_appends
from bench.build import build_log
from bench.checks import check_rate
from bench.databases import Target, describe, log_bytes, postgres_target, sqlite_target
from bench.latency import checkpoint_latency
from bench.proofs import proof_rate
from bench.results import BackendResult, Config
from ledger.instance import Ledger, init_ledger

ORIGIN = "bench.tally.example/log"
Progress = Callable[[str], None]


@contextmanager
def _opened(target: Target) -> Iterator[Ledger]:
    ledger, _ = init_ledger(target.url, target.key_path, ORIGIN)
    try:
        yield ledger
    finally:
        ledger.close()


def run_backend(backend: str, config: Config, pg_url: str, say: Progress) -> BackendResult:
    """Measure everything on ``backend``; a failure is recorded, not raised."""
    result = BackendResult(backend)

    def progress(message: str) -> None:
        say(f"[{backend}] {message}")

    workdir = Path(tempfile.mkdtemp(prefix="tally-bench-", dir=config.workdir))

    def target(name: str) -> AbstractContextManager[Target]:
        if backend == "sqlite":
            return sqlite_target(workdir, name)
        return postgres_target(pg_url, workdir, name)

    try:
        with target("writes") as t, _opened(t) as ledger:
            result.info = describe(t, ledger.store)
            rng = random.Random(config.seed)
            result.batched = batched_appends(
                ledger.log, rng, config.batched_entries, config.batch_size, progress
            )
            result.single = single_appends(ledger.log, rng, config.single_entries, progress)
            result.latency = checkpoint_latency(
                ledger.log,
                ledger.publisher,
                rng,
                config.latency_rounds,
                config.latency_max_batch,
                progress,
            )
        with target("reads") as t, _opened(t) as ledger:
            rng = random.Random(config.seed + 1)
            build = build_log(ledger, rng, config.entries, progress)
            build.log_bytes = log_bytes(t, ledger.store)
            build.bytes_per_entry = round(build.log_bytes / build.size, 1)
            result.build = build
            for threads in (1, 2):
                result.proofs.append(
                    proof_rate(
                        ledger.log, build.size, threads, config.proof_seconds, config.seed, progress
                    )
                )
            for full in (False, True):
                for workers in (1, None):
                    result.checks.append(
                        check_rate(ledger.store, full=full, workers=workers, progress=progress)
                    )
    except Exception as exc:  # a broken backend must not hide the other's numbers
        result.error = f"{type(exc).__name__}: {exc}"
        progress(f"FAILED: {result.error}")
    finally:
        for leftover in workdir.iterdir():
            leftover.unlink()
        workdir.rmdir()
    return result
