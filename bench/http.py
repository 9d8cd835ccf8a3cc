"""The HTTP benchmark: ``python -m bench.http`` (needs ``wrk``, Debian package ``wrk``).

Builds the demo plan and adds filler entries up to N (default 1,000,000) in a fresh
SQLite ledger, serves it with ``tally serve`` on loopback, and drives it with wrk:
the latest checkpoint, inclusion proofs for random entries of the N-entry tree, random
full level-0 hash tiles (C2SP tlog-tiles), and a member's statement. Prints requests/s
and p50/p99 latency for each. It only measures.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import httpx

from bench.filler import joins
from bench.serving import serving
from ledger.demo import build_demo
from ledger.instance import init_ledger
from ledger.log.entry import parse_entry

START = "2025-01-01T00:00:00Z"


def build(folder: Path, entries: int, log: Any) -> tuple[str, int]:
    """The demo plan, then members joining up to ``entries``; returns (url, size)."""
    url = f"sqlite:///{folder}/http.db"
    ledger, _ = init_ledger(url, folder / "http.key", "bench.example/http", genesis_time=START)
    try:
        build_demo(ledger, seed=1, members=2_000, periods=12)
        size = ledger.log.size()
        last = parse_entry(ledger.log.entries(size - 1, size)[0][1]).time
        while size < entries:
            count = min(5_000, entries - size)
            ledger.log.append_batch(joins(size, count, last))
            size += count
            if size % 100_000 < 5_000:
                log(f"  {size:,} / {entries:,} entries")
        ledger.publisher.publish()
    finally:
        ledger.close()
    return url, size


def run_wrk(url: str, seconds: int, connections: int, script: Path | None) -> dict[str, float]:
    """Run wrk and read requests/s and the 50th and 99th latency percentiles (ms)."""
    args = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency"]
    if script is not None:
        args += ["-s", str(script)]
    out = subprocess.run([*args, url], capture_output=True, text=True, check=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]

    def pct(label: str) -> float:
        match = re.search(rf"\s{label}%\s+([\d.]+)(us|ms|s)", out)
        assert match is not None, out
        value, unit = float(match.group(1)), match.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {
        "requests_per_s": round(rate),
        "p50_ms": round(pct("50"), 2),
        "p99_ms": round(pct("99"), 2),
        "non_2xx": int(errors.group(1)) if errors else 0,
    }


def main(argv: list[str] | None = None) -> int:
    """Build, serve, measure, print."""
    parser = argparse.ArgumentParser(prog="python -m bench.http", description=__doc__)
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=1, help="tally serve --workers")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    if shutil.which("wrk") is None:
        print("wrk is not installed (apt-get install wrk)", file=sys.stderr)
        return 2

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="tally-bench-http-") as tmp:
        folder = Path(tmp)
        log(f"building a log of {args.entries:,} entries")
        url, size = build(folder, args.entries, log)
        with serving(url, folder, args.workers) as base:
            log("warming the plan view (each worker replays the log once)")
            for _ in range(4 * args.workers):  # new connections: every worker gets some
                claims = httpx.get(
                    f"{base}/v1/claims", params={"status": "paid"}, timeout=600
                ).json()
            member = claims["claims"][0]["member"]
            script = folder / "proofs.lua"
            script.write_text(
                "math.randomseed(7)\n"
                "request = function()\n"
                f"  local seq = math.random(0, {size - 1})\n"
                "  return wrk.format('GET', '/v1/proof/inclusion?seq=' .. seq .. "
                f"'&tree_size={size}')\n"
                "end\n"
            )
            tiles = folder / "tiles.lua"
            tiles.write_text(
                "math.randomseed(7)\n"
                "request = function()\n"
                f"  local n = math.random(0, {size // 256 - 1})\n"
                "  local path = string.format('%03d', n % 1000)\n"
                "  if n >= 1000 then\n"
                "    path = string.format('x%03d/', math.floor(n / 1000)) .. path\n"
                "  end\n"
                "  return wrk.format('GET', '/tile/0/' .. path)\n"
                "end\n"
            )
            targets = {
                "checkpoint": (f"{base}/v1/checkpoint", None),
                "inclusion proof": (base, script),
                "hash tile": (base, tiles),
                "statement": (f"{base}/v1/members/{member}/statement", None),
            }
            for name, (target, lua) in targets.items():
                log(f"wrk: {name}")
                results[name] = run_wrk(target, args.seconds, args.connections, lua)
    print(
        f"Tally HTTP bench: {size:,} entries, wrk 1 thread, {args.connections} connections, "
        f"{args.seconds} s each, {args.workers} server process(es)"
    )
    for name, r in results.items():
        print(
            f"  {name:<16} {r['requests_per_s']:>7,} req/s   p50 {r['p50_ms']:>7.2f} ms   "
            f"p99 {r['p99_ms']:>7.2f} ms   non-2xx {r['non_2xx']}"
        )
    if args.json is not None:
        args.json.write_text(
            json.dumps({"entries": size, "workers": args.workers, "results": results}, indent=2)
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
