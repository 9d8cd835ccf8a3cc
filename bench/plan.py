"""The plan's benchmark: ``python -m bench.plan``.

Builds a plan of N members (joined in batches through the plan's rules), pays a
few claims, then measures the two figures an operator of a large plan needs:

- closing a period for all N members: apportionment, the contribution sum tree,
  the ``period.closed`` entry checked by the rules, and every contribution row and
  tree node stored, and the members' charges for the year added to the state
  tables (the command ``tally`` runs, end to end);
- the replay rate: replaying every entry through the plan's rules in memory and
  comparing the plan's state tables with it row by row (what ``tally check`` does
  after the log check), in entries per second.

Every database is created for the run and removed afterwards. It only measures.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench.databases import Target, postgres_target, sqlite_target
from bench.machine import describe_machine
from ledger.domain.plan import Plan
from ledger.domain.replay import replay_plan
from ledger.domain.rules import reference_rules
from ledger.instance import init_ledger

START = "2025-01-01T00:00:00Z"
JOIN_BATCH = 10_000


def measure(target: Target, members: int, log: Any) -> dict[str, Any]:
    """Build the plan in ``target`` and time a period close and a full replay."""
    ledger, _ = init_ledger(target.url, target.key_path, "bench.example/plan", genesis_time=START)
    try:
        plan = Plan(ledger, random_bytes=os.urandom)
        plan.set_rules(reference_rules(START, member_signatures=None), at=START)
        t0 = time.perf_counter()
        for done in range(0, members, JOIN_BATCH):
            count = min(JOIN_BATCH, members - done)
            plan.join_many([("0-39", {"n": done + i}) for i in range(count)], at=START)
            log(f"[{target.backend}]   joined {done + count:,} / {members:,}")
        join_seconds = time.perf_counter() - t0
        people = sorted(plan.state.members)
        claims = []
        for i in range(5):
            claim = plan.file_claim(
                people[i], "ACC", 30_000_000, START, b"e", at="2025-01-02T00:00:00Z"
            )
            plan.assess(claim, "approve", 30_000_000, "ok", b"r", at="2025-01-02T00:00:00Z")
            plan.disclose(claim, at="2025-01-02T00:00:00Z")
            claims.append(claim)
        for claim in claims:
            plan.decide(claim, at="2025-01-08T00:00:00Z")
            plan.pay(claim, at="2025-01-08T00:00:00Z")
        log(f"[{target.backend}] closing a period for {members:,} members")
        t0 = time.perf_counter()
        body = plan.close_period(at="2025-01-14T00:00:00Z")
        close_seconds = time.perf_counter() - t0
        log(f"[{target.backend}] replaying the plan")
        t0 = time.perf_counter()
        report, _ = replay_plan(ledger.store)
        replay_seconds = time.perf_counter() - t0
        return {
            "backend": target.backend,
            "members": members,
            "entries": report.entries,
            "join_seconds": round(join_seconds, 2),
            "joins_per_s": round(members / join_seconds),
            "close_seconds": round(close_seconds, 2),
            "share_fen": body["share_fen"],
            "replay_seconds": round(replay_seconds, 2),
            "replay_entries_per_s": round(report.entries / replay_seconds),
            "replay_ok": report.ok,
        }
    finally:
        ledger.close()


@contextmanager
def _target(backend: str, workdir: Path, pg_url: str) -> Iterator[Target]:
    if backend == "sqlite":
        with sqlite_target(workdir, "plan") as target:
            yield target
    else:
        with postgres_target(pg_url, workdir, "plan") as target:
            yield target


def main(argv: list[str] | None = None) -> int:
    """Run the plan benchmark and print the results."""
    parser = argparse.ArgumentParser(prog="python -m bench.plan", description=__doc__)
    parser.add_argument("--members", type=int, default=1_000_000)
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument(
        "--pg-url",
        default=os.environ.get(
            "TALLY_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
        ),
    )
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    backends = ("sqlite", "postgresql") if args.backend == "both" else (args.backend,)
    results = []
    with tempfile.TemporaryDirectory(prefix="tally-bench-plan-") as tmp:
        for backend in backends:
            with _target(backend, Path(tmp), args.pg_url) as target:
                results.append(measure(target, args.members, log))
    machine = describe_machine()
    print(f"Tally plan bench, {args.members:,} members; {machine.cpu_model}, {machine.cores} cores")
    for r in results:
        print(
            f"  {r['backend']:<10} joins {r['joins_per_s']:>8,}/s   period close "
            f"{r['close_seconds']:>6.2f} s   replay {r['replay_entries_per_s']:>8,} entries/s"
            f"   ({r['entries']:,} entries, replay ok: {r['replay_ok']})"
        )
    if args.json is not None:
        args.json.write_text(
            json.dumps({"machine": machine.__dict__, "results": results}, indent=2)
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
