"""Several processes and sudden death: the chain never forks, the log stays a prefix."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from ledger.check import check_log
from ledger.instance import Ledger
from ledger.log.entry import parse_entry
from ledger.log.store import Store
from tests.conftest import REPO

WORKER = [sys.executable, "-m", "tests.ledger.workers"]


def spawn(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*WORKER, *args], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def test_two_processes_appending_at_once_make_one_chain(ledger: Ledger) -> None:
    url = ledger.store.url
    workers = [spawn("append", url, tag, "30", "40") for tag in ("a", "b")]
    for worker in workers:
        with worker:
            _, err = worker.communicate(timeout=120)
        assert worker.returncode == 0, err
    size = ledger.log.size()
    assert size == 1 + 2 * 30 * 40
    rows = ledger.log.entries(0, size)
    assert [seq for seq, _ in rows] == list(range(size))
    tags = [json.loads(raw)["body"].get("tag") for _, raw in rows[1:]]
    # Batches are atomic: each batch's 40 entries are contiguous.
    for start in range(0, len(tags), 40):
        assert len(set(tags[start : start + 40])) == 1
    assert check_log(ledger.store).ok
    assert ledger.publisher.publish().checkpoint.size == size


def test_kill_9_mid_batch_leaves_an_exact_prefix(ledger: Ledger, tmp_path: Path) -> None:
    url = ledger.store.url
    rng = random.Random(os.getpid())
    committed = 0
    for _ in range(3):
        with spawn("forever", url, "5000") as writer:
            assert writer.stdout is not None
            first = writer.stdout.readline()  # a batch is committed, the next one is underway
            assert first.strip(), writer.stderr.read() if writer.stderr else ""
            time.sleep(rng.uniform(0.05, 0.3))
            writer.send_signal(signal.SIGKILL)
            rest, _ = writer.communicate(timeout=30)
        seen = [int(line) for line in [first, *rest.split()] if line.strip()]
        assert writer.returncode == -signal.SIGKILL
        # A fresh process opens the store, as a restart would.
        store = Store(url)
        try:
            size = Log_size(store)
            # Every batch the writer reported is there; nothing of a batch is half there.
            assert size >= max(seen)
            assert (size - 1) % 5000 == 0
            assert size > committed
            committed = size
            for seq, raw in store_entries(store, 1, size):
                assert parse_entry(raw).body["n"] == seq
            report = check_log(store, full=True)
            assert report.ok, report.mismatches
        finally:
            store.dispose()


def Log_size(store: Store) -> int:
    with store.reader() as conn:
        return store.size(conn)


def store_entries(store: Store, start: int, end: int) -> list[tuple[int, bytes]]:
    with store.reader() as conn:
        return store.entry_bytes(conn, start, end)
