"""``tally serve --workers N``, on both backends: N processes on one address, one rate
limit per client across them, one signing process woken by any worker's write, a
worker that dies started again, and everything gone after SIGTERM."""

from __future__ import annotations

import itertools
import multiprocessing
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from api.shared_buckets import SharedTokenBuckets
from ledger.domain.plan import Plan
from ledger.domain.rules import reference_rules
from ledger.instance import init_ledger
from ledger.tokens import create_token
from tests.conftest import REPO
from tests.test_end_to_end import free_port

TALLY = [sys.executable, "-m", "ledger.cli"]
pytestmark = pytest.mark.slow


def children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


def wait_until(test: object, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not test():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def answers(base: str) -> bool:
    try:
        return httpx.get(f"{base}/healthz", timeout=1).status_code == 200
    except httpx.TransportError:
        return False


@pytest.fixture
def served(db_url: str, tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], str, str]]:
    key = tmp_path / "k.key"
    start = "2025-01-01T00:00:00Z"
    ledger, _ = init_ledger(db_url, key, "workers.test.example/log", genesis_time=start)
    try:
        Plan(ledger).set_rules(reference_rules(start, member_signatures=None), at=start)
        _, token = create_token(ledger.store, "operator", name="ops")
    finally:
        ledger.close()
    port = free_port()
    server = subprocess.Popen(
        [
            *(*TALLY, "--db", db_url, "--key", str(key), "serve", "--port", str(port)),
            *("--workers", "2", "--rate-limit", "0.25", "--publish-interval", "60"),
        ],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: answers(base) or server.poll() is not None)
        assert server.poll() is None, server.stdout.read() if server.stdout else ""
        yield server, base, token
    finally:
        if server.poll() is None:
            server.terminate()
        server.communicate(timeout=20)


def test_two_workers_one_limit_one_signer_restarted_and_stopped(
    served: tuple[subprocess.Popen[str], str, str],
) -> None:
    server, base, token = served
    assert len(children(server.pid)) == 3  # the signer and two workers
    # Each request on a new connection, so the kernel may give it to either worker:
    # the budget (a burst of 1, then one every 4 s) is the client's, not each worker's.
    started = time.monotonic()
    codes = [httpx.get(f"{base}/v1/log", timeout=5).status_code for _ in range(12)]
    budget = 1 + int((time.monotonic() - started) / 4)
    assert codes.count(200) <= budget, codes
    assert set(codes) == {200, 429}, codes
    # An admin write on any worker wakes the one signing process at once (its own
    # interval is a minute).
    before = int(httpx.get(f"{base}/checkpoint").text.split("\n")[1])
    joined = httpx.post(
        f"{base}/admin/v1/members",
        json={"age_band": "0-39", "identity": {"name": "Wu Fang"}},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert joined.status_code == 201, joined.text
    seq = int(joined.json()["seq"])
    assert seq >= before

    def covered() -> bool:
        return int(httpx.get(f"{base}/checkpoint").text.split("\n")[1]) > seq

    wait_until(covered, 10)
    # A worker that dies is started again; SIGTERM stops them all.
    first = children(server.pid)
    os.kill(first[0], signal.SIGKILL)
    wait_until(lambda: len(children(server.pid)) == 3 and first[0] not in children(server.pid))
    wait_until(lambda: answers(base))
    workers = children(server.pid)
    server.send_signal(signal.SIGTERM)
    server.communicate(timeout=20)
    assert server.returncode == 0
    for pid in workers:
        wait_until(lambda pid=pid: not Path(f"/proc/{pid}").exists() or _zombie(pid), 10)


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z"
    except FileNotFoundError:
        return True


def _take_many(path: Path, key: bytes, n: int, out: multiprocessing.Queue[int]) -> None:
    buckets = SharedTokenBuckets(path, rate=1.0, burst=10, key=key)
    out.put(sum(1 for _ in range(n) if buckets.take("203.0.113.7", 1000.0) == 0))


def test_processes_share_one_bucket_per_client(tmp_path: Path) -> None:
    path, key = SharedTokenBuckets.create(tmp_path)
    ctx = multiprocessing.get_context("fork")
    out: multiprocessing.Queue[int] = ctx.Queue()
    procs = [ctx.Process(target=_take_many, args=(path, key, 25, out)) for _ in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(30)
    assert sum(out.get(timeout=5) for _ in procs) == 10  # the burst, across 4 processes
    buckets = SharedTokenBuckets(path, rate=1.0, burst=10, key=key)
    assert buckets.take("203.0.113.7", 1000.0) == pytest.approx(1.0)
    assert buckets.take("203.0.113.7", 1002.0) == 0  # refilled at the rate
    assert buckets.take("198.51.100.1", 1000.0) == 0  # another client, its own bucket
    buckets.close()


def test_a_process_that_keeps_dying_young_stops_the_server(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Restarted after a growing delay; after five quick deaths in a row, given up on,
    and the supervisor's signal mask is as it was."""
    from ledger import serve_workers as sw

    monkeypatch.setattr(sw, "FIRST_DELAY", 0.1)
    starts: list[float] = []

    def fail_at_once() -> None:
        raise RuntimeError("cannot reach the database")

    sup = sw.Supervisor([sw.Child("worker 0", fail_at_once)])
    before = signal.pthread_sigmask(signal.SIG_BLOCK, sw.HANDLED)
    try:
        sup.start(sup.children[0])
        starts.append(time.monotonic())
        deadline = time.monotonic() + 30
        while any(c.pid for c in sup.children) or sup.children[0].restart_at is not None:
            assert time.monotonic() < deadline
            sw._step(sup)
            if sup.children[0].pid and sup.children[0].started > starts[-1]:
                starts.append(sup.children[0].started)
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, before)
    assert sup.failed == "the worker 0 died 5 times within 10 s of starting"
    assert len(starts) == 5
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    # The delays are 0.1, 0.2, 0.4 and 0.8 s: each gap is at least its delay, and the
    # last is longer than the first two together.
    assert all(g >= d for g, d in zip(gaps, (0.1, 0.2, 0.4, 0.8), strict=True)), gaps
    assert gaps[3] > gaps[0] + gaps[1], gaps


def test_children_all_down_but_due_to_restart_keep_the_server_up() -> None:
    """With no signer (read-only), every worker dead at once and waiting for its restart
    is not a stopped server; a stop cancels the restarts."""
    from ledger import serve_workers as sw

    sup = sw.Supervisor([sw.Child("worker 0", lambda: None), sw.Child("worker 1", lambda: None)])
    for child in sup.children:
        child.restart_at = time.monotonic() + 1
    assert sup.running()
    sup.stop()
    assert not sup.running()
    assert all(c.restart_at is None for c in sup.children)


def test_the_bucket_table_uses_every_slot(tmp_path: Path) -> None:
    path, key = SharedTokenBuckets.create(tmp_path)
    assert path.stat().st_blocks * 512 >= path.stat().st_size  # allocated, not sparse
    buckets = SharedTokenBuckets(path, rate=1.0, burst=1, key=key)
    slots = {(buckets._tag(f"198.51.100.{n}") >> 1) % 65_536 % 2 for n in range(64)}
    assert slots == {0, 1}
    buckets.close()
