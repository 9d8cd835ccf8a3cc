"""The operator's commands on a large plan: what each costs as it grows.

``python -m bench.lookups --members 1000000`` builds a SQLite ledger of the reference
rules and ``--members`` members joining (bench.filler, appended without the plan's
state tables), times ``tally projections rebuild`` (what an upgraded ledger does
once), then ``tally plan status``, ``tally claim queue``, ``tally member show``,
``tally claim file`` and ``tally member leave`` as an operator runs them (a new
process each), with the peak memory of each process; then how soon a new ``tally
serve`` answers the plan's endpoints.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from bench.filler import joins
from bench.serving import serving
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
        body = reference_rules(START, member_signatures=None).to_body()
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
    with tempfile.TemporaryFile() as errors:
        child = subprocess.Popen(
            [sys.executable, "-m", "ledger.cli", "--db", url, *args],
            stdout=subprocess.DEVNULL,
            stderr=errors,
        )
        _, status, usage = os.wait4(child.pid, 0)
        child.returncode = os.waitstatus_to_exitcode(status)
        seconds = time.perf_counter() - began
        if child.returncode != 0:
            errors.seek(0)
            message = errors.read().decode(errors="replace")[-1000:]
            raise SystemExit(f"tally {' '.join(args)} failed: {message}")
    return seconds, usage.ru_maxrss // 1024


def main(argv: list[str] | None = None) -> int:
    """Build, time, print."""
    parser = argparse.ArgumentParser(prog="python -m bench.lookups", description=__doc__)
    parser.add_argument("--members", type=int, default=1_000_000)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="tally-bench-lookups-") as tmp:
        began = time.perf_counter()
        folder = Path(tmp)
        url, member = build(folder, args.members)
        print(f"built {args.members:,} members in {time.perf_counter() - began:.1f} s")
        key = str(folder / "lookups.key")
        evidence = folder / "evidence.pdf"
        evidence.write_bytes(b"a discharge summary")
        diagnosis = ["--diagnosed", "2025-06-01T00:00:00Z", "--evidence", str(evidence)]
        other = str(joins(args.members // 3, 1, START)[0].body["member"])
        commands = (
            ["projections", "rebuild"],
            ["plan", "status"],
            ["claim", "queue"],
            ["member", "show", member],
            ["--key", key, "claim", "file", member, "C34", "--amount", "300000", *diagnosis],
            ["--key", key, "member", "leave", other],
        )
        for command in commands:
            seconds, peak = timed(url, *command)
            name = " ".join(c for c in command[:4] if not c.startswith(("-", "/")))
            print(f"  tally {name[:22]:<22} {seconds:7.1f} s   peak RSS {peak} MB")
        served(url, folder, member)
    return 0


def served(url: str, folder: Path, member: str) -> None:
    """How soon a fresh server answers the plan's endpoints, and how fast."""
    began = time.perf_counter()
    with serving(url, folder) as base:
        for path in (f"/v1/members/{member}", "/v1/periods", "/v1/claims", "/v1/stats"):
            asked = time.perf_counter()
            answer = httpx.get(base + path, timeout=600)
            done = time.perf_counter()
            print(
                f"  GET {path[:24]:<24} {answer.status_code}  {1000 * (done - asked):7.1f} ms"
                f"   ({done - began:.1f} s after the server was started)"
            )


if __name__ == "__main__":
    raise SystemExit(main())
