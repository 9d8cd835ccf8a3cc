"""The operator's read-only commands on a large plan: what each costs as it grows.

``python -m bench.lookups --members 1000000`` builds a SQLite ledger of the reference
rules and ``--members`` members joining (bench.filler), then times ``tally plan
status``, ``tally claim queue`` and ``tally member show`` as an operator runs them
(a new process each), with the peak memory of each.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.filler import joins
from ledger.domain.rules import reference_rules
from ledger.instance import init_ledger
from ledger.log.log import NewEntry

START = "2025-01-01T00:00:00Z"
BATCH = 5_000


def build(folder: Path, members: int) -> tuple[str, str]:
    """The ledger's URL and a member id to look up."""
    url = f"sqlite:///{folder}/lookups.db"
    ledger, _ = init_ledger(
        url, folder / "lookups.key", "bench.example/lookups", genesis_time=START
    )
    try:
        body = reference_rules(START).to_body()
        ledger.log.append_batch([NewEntry("plan.rules", "operator", body, time=START)])
        for first in range(0, members, BATCH):
            ledger.log.append_batch(joins(first, min(BATCH, members - first), START))
        member = str(joins(members // 2, 1, START)[0].body["member"])
    finally:
        ledger.close()
    return url, member


def timed(url: str, *args: str) -> tuple[float, int]:
    """Seconds and peak RSS (MB) of one ``tally`` command in its own process."""
    began = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "ledger.cli", "--db", url, *args],
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - began
    if done.returncode != 0:
        raise SystemExit(f"tally {' '.join(args)} failed: {done.stderr[-1000:]}")
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024
    return seconds, peak


def main(argv: list[str] | None = None) -> int:
    """Build, time, print."""
    parser = argparse.ArgumentParser(prog="python -m bench.lookups", description=__doc__)
    parser.add_argument("--members", type=int, default=1_000_000)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="tally-bench-lookups-") as tmp:
        began = time.perf_counter()
        url, member = build(Path(tmp), args.members)
        print(f"built {args.members:,} members in {time.perf_counter() - began:.1f} s")
        for command in (["plan", "status"], ["claim", "queue"], ["member", "show", member]):
            seconds, peak = timed(url, *command)
            print(
                f"  tally {' '.join(command[:2]):<14} {seconds:7.1f} s   peak RSS so far {peak} MB"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
