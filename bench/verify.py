"""The verifier's own speed: replay, offline audit, and one statement bundle.

``python -m bench.verify [N [MEMBERS]]`` builds a log of N entries (default 1,000,000) in a
temporary SQLite ledger, writes it as a ``tally-verify dump`` folder, and measures:

- the chain and tree replay alone (:class:`verifier.audit.Replayer`, no plan rules);
- the full offline audit, ``tally-verify audit --dir`` (entry parsing, chain, tree
  and the plan's rules), run in-process;
- verifying the statement bundle of ``specs/vectors/statement/statement.json``, and
  that of a demo plan of MEMBERS members (default 1,000) for its period with the
  most claims.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

from click.testing import CliRunner
from fastapi.testclient import TestClient

from api.app import create_app
from bench.machine import describe_machine
from ledger.demo import build_demo
from ledger.instance import init_ledger
from ledger.log.log import NewEntry
from verifier.audit import Replayer
from verifier.checkpoint import verify_checkpoint
from verifier.cli import cli
from verifier.dump import DUMP_CHECKPOINT, DUMP_ENTRIES, read_dump_entries, write_dump_line
from verifier.note import parse_verifier_key
from verifier.statement import parse_bundle_bytes, verify_bundle

ORIGIN = "bench.tally.example/log"
START = "2025-01-01T00:00:00Z"
BATCH = 5_000
SPECS = Path(__file__).resolve().parents[1] / "specs" / "vectors"


def build_dump(folder: Path, n: int) -> str:
    """Build a log of ``n`` entries (genesis included) and dump it; return its verifier key."""
    ledger, _ = init_ledger(
        f"sqlite:///{folder}/bench.db", folder / "log.key", ORIGIN, genesis_time=START
    )
    try:
        done = 1
        while done < n:
            count = min(BATCH, n - done)
            ledger.log.append_batch(
                [NewEntry("demo.thing", "operator", {"i": done + i}) for i in range(count)]
            )
            done += count
        ledger.publisher.publish()
        with TestClient(create_app(ledger.store)) as client:
            key = str(client.get("/v1/log").json()["verifier_key"])
            note = client.get("/v1/checkpoint").text
        dump = folder / "dump"
        dump.mkdir()
        (dump / DUMP_CHECKPOINT).write_text(note, encoding="utf-8")
        with (dump / DUMP_ENTRIES).open("wb") as out:
            for start in range(0, n, BATCH):
                for i, (_, raw) in enumerate(ledger.log.entries(start, min(n, start + BATCH))):
                    write_dump_line(out, start + i, raw)
    finally:
        ledger.close()
    return key


def replay_rate(dump: Path, key_text: str) -> tuple[int, float]:
    """Chain and tree replay of the dump alone; return (entries, seconds)."""
    key = parse_verifier_key(key_text)
    checkpoint = verify_checkpoint((dump / DUMP_CHECKPOINT).read_text(encoding="utf-8"), key)
    began = time.perf_counter()
    replayer = Replayer(key)
    for raw in read_dump_entries(dump, checkpoint.size):
        replayer.add(raw)
    replayer.check_root(checkpoint.root)
    replayer.raise_if_failed()
    return checkpoint.size, time.perf_counter() - began


def audit_seconds(dump: Path, key_text: str, state: Path) -> float:
    """``tally-verify audit --dir``, in-process; it must succeed."""
    began = time.perf_counter()
    result = CliRunner().invoke(
        cli, ["--state", str(state), "--json", "audit", "--dir", str(dump), "--key", key_text]
    )
    seconds = time.perf_counter() - began
    if result.exit_code != 0:
        raise SystemExit(f"audit --dir failed ({result.exit_code}): {result.output[-2000:]}")
    return seconds


def statement_seconds(repeats: int = 20) -> tuple[int, float]:
    """Verify the vector statement bundle; return (claims, mean seconds per bundle)."""
    doc = json.loads((SPECS / "statement" / "statement.json").read_text())
    data = json.dumps(doc["statement"]).encode("utf-8")
    key_text = str(json.loads((SPECS / "keys" / "log-key.json").read_text())["verifier_key"])
    return time_bundle(data, key_text, repeats)


def time_bundle(data: bytes, key_text: str, repeats: int) -> tuple[int, float]:
    """Verify the bundle ``data`` ``repeats`` times; return (claims, mean seconds)."""
    key = parse_verifier_key(key_text)
    claims = len(verify_bundle(parse_bundle_bytes(data), key)[0].claims)
    began = time.perf_counter()
    for _ in range(repeats):
        verify_bundle(parse_bundle_bytes(data), key)
    return claims, (time.perf_counter() - began) / repeats


def demo_statement_seconds(folder: Path, members: int, repeats: int = 5) -> tuple[int, float]:
    """Verify a demo plan's statement for the period with the most claims."""
    ledger, _ = init_ledger(
        f"sqlite:///{folder}/demo.db", folder / "demo.key", ORIGIN, genesis_time=START
    )
    try:
        build_demo(ledger, seed=1, members=members, periods=6)
        ledger.publisher.publish()
        with TestClient(create_app(ledger.store)) as client:
            key_text = str(client.get("/v1/log").json()["verifier_key"])
            size = int(client.get("/v1/log").json()["tree_size"])
            replayer = Replayer(parse_verifier_key(key_text), check_plan=True)
            for start in range(0, size, BATCH):
                for _, raw in ledger.log.entries(start, min(size, start + BATCH)):
                    replayer.add(raw)
            plan = replayer.plan
            assert plan is not None
            period, _ = max(plan.periods.items(), key=lambda item: _count(item[1].body["claims"]))
            member = next(
                m.member
                for m in plan.members.values()
                if plan.charge_of(m.member, period) is not None
            )
            url = f"/v1/members/{member}/statement"
            data = client.get(url, params={"period": period}).content
    finally:
        ledger.close()
    return time_bundle(data, key_text, repeats)


def _count(value: object) -> int:
    return len(value) if isinstance(value, list) else 0


def main(argv: list[str]) -> None:
    """Build, dump, measure, print."""
    n = int(argv[0]) if argv else 1_000_000
    members = int(argv[1]) if len(argv) > 1 else 1_000
    print(describe_machine())
    with tempfile.TemporaryDirectory(prefix="tally-bench-verify-") as tmp:
        folder = Path(tmp)
        began = time.perf_counter()
        key = build_dump(folder, n)
        print(f"built and dumped {n:,} entries in {time.perf_counter() - began:.1f} s")
        size, seconds = replay_rate(folder / "dump", key)
        print(f"chain+tree replay: {size:,} entries in {seconds:.2f} s = {size / seconds:,.0f}/s")
        seconds = audit_seconds(folder / "dump", key, folder / "state")
        print(f"audit --dir (full): {size:,} entries in {seconds:.2f} s = {size / seconds:,.0f}/s")
    claims, seconds = statement_seconds()
    print(f"statement bundle (vector, {claims} claims): {seconds * 1000:.2f} ms per bundle")
    with tempfile.TemporaryDirectory(prefix="tally-bench-demo-") as tmp:
        claims, seconds = demo_statement_seconds(Path(tmp), members)
    print(f"statement bundle (demo, {claims} claims): {seconds * 1000:.2f} ms per bundle")


if __name__ == "__main__":
    main(sys.argv[1:])
