"""The verifier's own speed: audits of a large log and of a plan, and statements.

``python -m bench.verify`` measures, on this machine:

- a log of ``--entries`` entries (default 1,000,000: the rules and members joining)
  in a temporary SQLite ledger,
  dumped in the verifier's format: ``tally-verify audit --dir --log-only`` (the
  chain and the tree alone, one process per core) and ``tally-verify audit --dir``
  (every entry parsed and checked, chain, tree, plan rules), both in-process; then,
  end to end, ``tally-verify audit`` and ``audit --log-only`` against
  ``tally serve`` on loopback, from ``/v1/entries`` pages and from its tiles;
- the demo plan (``--members``, default 20,000, over 14 periods) audited from a
  dump, where the plan's rules do real work: every period's apportionment and
  contribution sum tree is recomputed for every member;
- verifying statement bundles: the specs vector, and a demo plan with
  ``--claims`` ordinary claims a period (default 120) for its period with the most
  claims paid.

Every audit must pass; the numbers are printed, and written with ``--json``.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from click.testing import CliRunner
from fastapi.testclient import TestClient

from api.app import create_app
from bench.filler import joins
from bench.machine import describe_machine
from bench.serving import serving
from ledger.demo import build_demo
from ledger.domain.rules import reference_rules
from ledger.instance import Ledger, init_ledger
from ledger.log.log import NewEntry
from verifier.cli import cli
from verifier.dump import DUMP_CHECKPOINT, DUMP_ENTRIES, write_dump_line
from verifier.note import parse_verifier_key
from verifier.statement import parse_bundle_bytes, verify_bundle

ORIGIN = "bench.tally.example/log"
START = "2025-01-01T00:00:00Z"
BATCH = 5_000
SPECS = Path(__file__).resolve().parents[1] / "specs" / "vectors"


def new_ledger(folder: Path, name: str) -> tuple[Ledger, str]:
    """A fresh SQLite ledger in ``folder``; returns it and its database URL."""
    url = f"sqlite:///{folder}/{name}.db"
    ledger, _ = init_ledger(url, folder / f"{name}.key", ORIGIN, genesis_time=START)
    return ledger, url


def fill(ledger: Ledger, n: int) -> None:
    """Append entries until the log holds ``n``: the reference rules, then members
    joining (each a valid ``member.joined``; built here, not through the plan's
    commands, so that a million take seconds), all dated the log's start."""
    done = ledger.log.size()
    if done < n:
        body = reference_rules(START, member_signatures=None).to_body()
        ledger.log.append_batch([NewEntry("plan.rules", "operator", body, time=START)])
        done += 1
    while done < n:
        count = min(BATCH, n - done)
        ledger.log.append_batch(joins(done, count, START))
        done += count


def dump(ledger: Ledger, folder: Path) -> tuple[Path, str, int]:
    """Sign a checkpoint and dump the log; return (dump folder, verifier key, size)."""
    ledger.publisher.publish()
    with TestClient(create_app(ledger.store)) as client:
        key = str(client.get("/v1/log").json()["verifier_key"])
        note = client.get("/v1/checkpoint").text
    size = int(note.splitlines()[1])
    out = folder / "dump"
    out.mkdir()
    (out / DUMP_CHECKPOINT).write_text(note, encoding="utf-8")
    with (out / DUMP_ENTRIES).open("wb") as handle:
        for start in range(0, size, BATCH):
            for i, (_, raw) in enumerate(ledger.log.entries(start, min(size, start + BATCH))):
                write_dump_line(handle, start + i, raw)
    return out, key, size


def timed_cli(*args: str) -> tuple[float, dict[str, Any]]:
    """Run ``tally-verify --json ARGS`` in-process; it must succeed. Returns (s, output)."""
    began = time.perf_counter()
    result = CliRunner().invoke(cli, ["--json", *args])
    seconds = time.perf_counter() - began
    if result.exit_code != 0:
        raise SystemExit(
            f"tally-verify {' '.join(args)} failed ({result.exit_code}): {result.output[-2000:]}"
        )
    return seconds, json.loads(result.stdout)


def rate(count: int, seconds: float) -> dict[str, float]:
    return {"entries": count, "seconds": round(seconds, 3), "per_s": round(count / seconds)}


def large_log(folder: Path, n: int, log: Any) -> dict[str, Any]:
    """The filler log: offline and online audits, log-only and full."""
    ledger, url = new_ledger(folder, "large")
    try:
        fill(ledger, n)
        out, key, size = dump(ledger, folder)
    finally:
        ledger.close()
    results: dict[str, Any] = {}
    state = str(folder / "state")
    log("audit --dir --log-only")
    seconds, _ = timed_cli("--state", state, "audit", "--dir", str(out), "--key", key, "--log-only")
    results["dump_log_only"] = rate(size, seconds)
    log("audit --dir")
    seconds, _ = timed_cli("--state", state, "audit", "--dir", str(out), "--key", key)
    results["dump_full"] = rate(size, seconds)
    with serving(url, folder) as base:
        # The server replays the plan as it starts (about 30 s a million entries); wait
        # for that, so that it does not share the measured runs.
        httpx.get(f"{base}/v1/stats", timeout=600).raise_for_status()
        timed_cli("--state", state, "init", base, "--key", key, "--force")
        log("audit --log-only (online)")
        seconds, _ = timed_cli("--state", state, "audit", "--log-only")
        results["online_log_only"] = rate(size, seconds)
        log("audit (online)")
        seconds, _ = timed_cli("--state", state, "audit", "--from-start")
        results["online_full"] = rate(size, seconds)
        log("audit --tiles (online)")
        seconds, _ = timed_cli("--state", state, "audit", "--from-start", "--tiles")
        results["online_full_tiles"] = rate(size, seconds)
        log("audit --log-only --tiles (online)")
        seconds, _ = timed_cli("--state", state, "audit", "--log-only", "--tiles")
        results["online_log_only_tiles"] = rate(size, seconds)
    return results


def plan_log(folder: Path, members: int, log: Any, repeat: int = 1) -> dict[str, Any]:
    """The demo plan audited from a dump ``repeat`` times (the median is kept): entries/s,
    and member-periods recomputed/s."""
    ledger, _ = new_ledger(folder, "plan")
    try:
        build_demo(ledger, seed=1, members=members, periods=14)
        out, key, size = dump(ledger, folder)
        counted = sum(
            json.loads(raw)["body"]["members"]
            for _, raw in ledger.log.entries(0, size)
            if b'"type":"period.closed"' in raw
        )
    finally:
        ledger.close()
    log(f"audit --dir of the demo plan ({members:,} members)")
    runs = []
    for n in range(repeat):
        state = str(folder / f"state-{n}")
        seconds, doc = timed_cli("--state", state, "audit", "--dir", str(out), "--key", key)
        runs.append(seconds)
    seconds = sorted(runs)[len(runs) // 2]
    result: dict[str, Any] = rate(size, seconds)
    result["runs_s"] = [round(r, 3) for r in runs]
    result.update(
        members=members,
        member_periods=counted,
        member_periods_per_s=round(counted / seconds),
        plan=doc["plan"],
    )
    return result


def time_bundle(data: bytes, key_text: str, repeats: int) -> dict[str, Any]:
    """Verify the bundle ``data`` ``repeats`` times; its claims, entries and mean time."""
    key = parse_verifier_key(key_text)
    report = verify_bundle(parse_bundle_bytes(data), key)[0]
    began = time.perf_counter()
    for _ in range(repeats):
        verify_bundle(parse_bundle_bytes(data), key)
    mean = (time.perf_counter() - began) / repeats
    return {
        "claims": len(report.claims),
        "entries": len(json.loads(data)["entries"]),
        "bytes": len(data),
        "ms": round(mean * 1000, 2),
    }


def vector_statement() -> dict[str, Any]:
    doc = json.loads((SPECS / "statement" / "statement.json").read_text())
    key_text = str(json.loads((SPECS / "keys" / "log-key.json").read_text())["verifier_key"])
    return time_bundle(json.dumps(doc["statement"]).encode("utf-8"), key_text, 20)


def busy_statement(folder: Path, claims: int, log: Any) -> dict[str, Any]:
    """The statement of the demo period with the most claims paid, ``claims`` a period."""
    ledger, _ = new_ledger(folder, "claims")
    try:
        log(f"building a demo plan with {claims} claims a period")
        build_demo(ledger, seed=1, members=5_000, periods=10, paid_claims=claims)
        ledger.publisher.publish()
        with TestClient(create_app(ledger.store)) as client:
            key_text = str(client.get("/v1/log").json()["verifier_key"])
            periods = client.get("/v1/periods").json()["periods"]
            busiest = max(periods, key=lambda p: len(p["body"]["claims"]))
            member = client.get("/v1/claims", params={"status": "paid"}).json()["claims"][0]
            data = client.get(
                f"/v1/members/{member['member']}/statement", params={"period": busiest["period"]}
            ).content
    finally:
        ledger.close()
    return time_bundle(data, key_text, 5)


def main(argv: list[str] | None = None) -> int:
    """Build, measure, print."""
    parser = argparse.ArgumentParser(prog="python -m bench.verify", description=__doc__)
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--members", type=int, default=20_000)
    parser.add_argument("--claims", type=int, default=120)
    parser.add_argument("--json", type=Path)
    parser.add_argument(
        "--plan-only", action="store_true", help="only the demo plan's audit (see --repeat)"
    )
    parser.add_argument("--repeat", type=int, default=1, help="audits of the demo plan")
    args = parser.parse_args(argv)

    def log(message: str) -> None:
        print(message, flush=True)

    log(str(describe_machine()))
    results: dict[str, Any] = {}
    if args.plan_only:
        with tempfile.TemporaryDirectory(prefix="tally-bench-verify-") as tmp:
            p = results["plan_log"] = plan_log(Path(tmp), args.members, log, args.repeat)
        log(f"plan audit {p['entries']:,} entries: {p['runs_s']} s, median {p['per_s']:,}/s")
        if args.json is not None:
            args.json.write_text(json.dumps(results, indent=2))
        return 0
    with tempfile.TemporaryDirectory(prefix="tally-bench-verify-") as tmp:
        results["large_log"] = large_log(Path(tmp), args.entries, log)
    with tempfile.TemporaryDirectory(prefix="tally-bench-verify-") as tmp:
        results["plan_log"] = plan_log(Path(tmp), args.members, log, args.repeat)
    results["statement_vector"] = vector_statement()
    with tempfile.TemporaryDirectory(prefix="tally-bench-verify-") as tmp:
        results["statement_busy"] = busy_statement(Path(tmp), args.claims, log)

    large = results["large_log"]
    names = ("dump_log_only", "dump_full", "online_log_only", "online_full")
    for name in (*names, "online_full_tiles", "online_log_only_tiles"):
        r = large[name]
        log(f"{name:<22} {r['entries']:>10,} entries  {r['seconds']:>7.2f} s  {r['per_s']:>9,}/s")
    p = results["plan_log"]
    log(
        f"plan audit       {p['entries']:>10,} entries  {p['seconds']:>7.2f} s  {p['per_s']:>9,}/s"
        + (
            f"  ({p['member_periods_per_s']:,} member-periods/s)"
            if "member_periods_per_s" in p
            else ""
        )
    )
    for name in ("statement_vector", "statement_busy"):
        s = results[name]
        log(
            f"{name:<16} {s['claims']} claims, {s['entries']} entries, {s['bytes']:,} bytes: "
            f"{s['ms']:.1f} ms"
        )
    if args.json is not None:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
