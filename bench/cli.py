"""Command line of ``python -m bench``: parse options, run each backend, report.

Progress goes to stderr so stdout holds only the report; the exit status is 1
if any backend failed to complete (its partial numbers are still reported).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from bench.databases import BACKENDS, DEFAULT_PG_URL
from bench.machine import describe_machine
from bench.report import render, write_json
from bench.results import Config, Run
from bench.runner import run_backend
from ledger.log.log import MAX_BATCH


def _positive(text: str) -> int:
    value = int(text.replace("_", "").replace(",", ""))
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, found {text}")
    return value


def _batch(text: str) -> int:
    value = _positive(text)
    if value > MAX_BATCH:
        raise argparse.ArgumentTypeError(f"expected at most {MAX_BATCH}, found {text}")
    return value


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Parse the command line."""
    p = argparse.ArgumentParser(
        prog="python -m bench",
        description="Measure Tally's append, checkpoint, proof and check rates.",
    )
    p.add_argument("--backend", choices=[*BACKENDS, "both"], default="both")
    p.add_argument(
        "--entries",
        type=_positive,
        default=1_000_000,
        help="size of the log proofs and check run on (default 1,000,000)",
    )
    p.add_argument(
        "--pg-url",
        default=os.environ.get("TALLY_BENCH_POSTGRES_URL", DEFAULT_PG_URL),
        help="admin connection used to CREATE and DROP the bench's own databases "
        "(default $TALLY_BENCH_POSTGRES_URL or %(default)s)",
    )
    p.add_argument("--json", type=Path, metavar="PATH", help="also write the results as JSON")
    p.add_argument(
        "--batched",
        type=_positive,
        default=50_000,
        help="entries for the batched append rate (default 50,000)",
    )
    p.add_argument(
        "--batch-size",
        type=_batch,
        default=1_000,
        help="entries per batch for the batched append rate (default 1,000)",
    )
    p.add_argument(
        "--single",
        type=_positive,
        default=2_000,
        help="entries for the one-per-commit append rate (default 2,000)",
    )
    p.add_argument(
        "--latency-rounds",
        type=_positive,
        default=300,
        help="append+publish rounds for checkpoint latency (default 300)",
    )
    p.add_argument(
        "--latency-max-batch",
        type=_batch,
        default=100,
        help="largest batch per latency round (default 100)",
    )
    p.add_argument(
        "--proof-seconds",
        type=float,
        default=5.0,
        help="duration of each inclusion proof run (default 5)",
    )
    p.add_argument("--seed", type=int, default=1)
    p.add_argument(
        "--workdir",
        default=tempfile.gettempdir(),
        help="directory for the SQLite files and keys (default %(default)s)",
    )
    return p.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the bench; return the exit status."""
    args = parse_args(argv)
    config = Config(
        backends=list(BACKENDS) if args.backend == "both" else [args.backend],
        entries=args.entries,
        batched_entries=args.batched,
        batch_size=args.batch_size,
        single_entries=args.single,
        latency_rounds=args.latency_rounds,
        latency_max_batch=args.latency_max_batch,
        proof_seconds=args.proof_seconds,
        seed=args.seed,
        workdir=str(Path(args.workdir).resolve()),
    )
    run = Run(describe_machine(), config)

    def say(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    for backend in config.backends:
        run.results.append(run_backend(backend, config, args.pg_url, say))
    print(render(run))
    if args.json is not None:
        write_json(run, args.json)
        say(f"wrote {args.json}")
    return 1 if any(r.error for r in run.results) else 0
