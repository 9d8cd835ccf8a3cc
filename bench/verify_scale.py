"""The verifier's memory and speed on a large plan: ``python -m bench.verify_scale``.

For each ``--members`` size (default 100,000 and 1,000,000), writes the synthetic
plan of :mod:`bench.bigplan` (24 closed periods across a year end, claims paid
every period, members joining throughout and some leaving, the annual cap binding)
as a dump, then runs ``tally-verify audit --dir`` on it in a process of its own:
every entry parsed and chained, the tree recomputed, every plan rule replayed, and
every period's apportionment and contribution root recomputed over all its
members. Reports entries, seconds, entries/s, member-periods/s and the audit
process's peak resident set size (from ``wait4``). The audit must pass.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.bigdump import write_dump
from bench.machine import describe_machine

ROOT = Path(__file__).resolve().parents[1]


def audit(folder: Path, key: str, state: Path, code: Path) -> tuple[float, int, dict[str, Any]]:
    """Run ``tally-verify --json audit --dir`` on ``folder`` with the verifier of the checkout
    ``code``; return (seconds, peak RSS in bytes, its JSON output)."""
    command = [
        sys.executable,
        "-c",
        "from verifier.cli import cli; cli()",
        "--json",
        "--state",
        str(state),
        "audit",
        "--dir",
        str(folder),
        "--key",
        key,
    ]
    # Run in ``code``: ``python -c`` puts the working directory first on sys.path.
    env = dict(os.environ, PYTHONPATH=str(code))
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        began = time.perf_counter()
        proc = subprocess.Popen(command, stdout=out, stderr=err, env=env, cwd=code)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - began
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        text, problem = out.read(), err.read()
    if proc.returncode != 0:
        raise SystemExit(f"audit failed ({proc.returncode}): {text[-2000:]!r} {problem[-2000:]!r}")
    return seconds, usage.ru_maxrss * 1024, json.loads(text)


def measure(n: int, dumps: Path, code: Path, log: Any) -> dict[str, Any]:
    """Write (or reuse) the plan of ``n`` members in ``dumps``, audit it, return the figures."""
    folder, about = dumps / f"dump-{n}", dumps / f"dump-{n}.json"
    if about.exists():
        made = json.loads(about.read_text())
        log(f"reusing the dump of {made['entries']:,} entries in {folder}")
    else:
        began = time.perf_counter()
        made = write_dump(folder, n, log)
        made["write_seconds"] = round(time.perf_counter() - began, 1)
        about.write_text(json.dumps(made))
        log(f"wrote {made['entries']:,} entries in {made['write_seconds']} s; auditing")
    with tempfile.TemporaryDirectory(prefix="tally-bench-state-") as state:
        seconds, peak, doc = audit(folder, made["key"], Path(state), code)
    return {
        "members": n,
        "entries": made["entries"],
        "member_periods": made["member_periods"],
        "dump_bytes": sum(p.stat().st_size for p in folder.iterdir()),
        "write_seconds": made.get("write_seconds"),
        "seconds": round(seconds, 1),
        "per_s": round(made["entries"] / seconds),
        "member_periods_per_s": round(made["member_periods"] / seconds),
        "peak_rss_mb": round(peak / 2**20),
        "plan": doc["plan"],
    }


def main(argv: list[str] | None = None) -> int:
    """Measure each size, print a line each, write ``--json``."""
    parser = argparse.ArgumentParser(prog="python -m bench.verify_scale", description=__doc__)
    parser.add_argument("--members", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument(
        "--dumps", type=Path, help="keep the dumps here and reuse them (default: a temp dir)"
    )
    parser.add_argument(
        "--code", type=Path, default=ROOT, help="the checkout whose verifier audits (default: this)"
    )
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    log(str(describe_machine()))
    results = []
    with tempfile.TemporaryDirectory(prefix="tally-bench-scale-") as tmp:
        dumps = (args.dumps or Path(tmp)).resolve()
        dumps.mkdir(parents=True, exist_ok=True)
        for n in sorted(args.members):
            r = measure(n, dumps, args.code.resolve(), log)
            results.append(r)
            print(
                f"{r['members']:>11,} members {r['entries']:>11,} entries {r['seconds']:>8.1f} s "
                f"{r['per_s']:>8,}/s {r['member_periods_per_s']:>10,} member-periods/s "
                f"peak RSS {r['peak_rss_mb']:>6,} MB",
                flush=True,
            )
    if args.json is not None:
        args.json.write_text(
            json.dumps({"machine": str(describe_machine()), "runs": results}, indent=2)
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
