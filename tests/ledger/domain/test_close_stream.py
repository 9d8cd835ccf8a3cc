"""A close streamed over the members (ledger.domain.close_stream) is the in-memory one."""

from __future__ import annotations

import os
import random
import tempfile
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

import pytest

from ledger.domain import close_stream, sumtree
from ledger.domain.apportion import ApportionError, apportion
from ledger.domain.close_stream import spool_close
from ledger.domain.store import NODES_PER_CHUNK

PERIOD = "2031-04b"
CAP = 18_800


def members(n: int, seed: int) -> list[tuple[str, int]]:
    """``n`` members in id order, each charged something earlier in the year (some near
    or past the cap, so that some are capped)."""
    rng = random.Random(seed)
    ids = sorted({f"m-{rng.getrandbits(80):020x}" for _ in range(n)})
    while len(ids) < n:
        ids = sorted({*ids, f"m-{rng.getrandbits(80):020x}"})
    return [(m, rng.choice([0, 0, 100, CAP - 7, CAP, CAP + 5])) for m in ids]


@pytest.mark.parametrize("n", [0, 1, 2, 3, 1023, 1024, 1025, 2049, 4100])
def test_a_streamed_close_is_the_close_in_memory(n: int) -> None:
    counted = members(n, n)
    figures = {"aid_fen": 3_000_000 + n, "fee_bp": 600, "carry_in_fen": 17}
    spooled = spool_close(PERIOD, iter(counted), n, annual_cap_fen=CAP, **figures)
    try:
        expected = apportion(members=counted, annual_cap_fen=CAP, **figures)
        charges = expected.charges
        tree = sumtree.levels([sumtree.leaf_packed(PERIOD, m, charges[m]) for m, _ in counted])
        assert spooled.apportionment == expected.__class__(**{**expected.__dict__, "charges": {}})
        assert spooled.root == sumtree.root(tree)
        assert [row for batch in spooled.charges() for row in batch] == [
            (m, charges[m]) for m, _ in counted
        ]
        chunks = {level: b"".join(data) for level, data in spooled.levels()}
        for level, nodes in enumerate(tree if n else []):
            if nodes:
                assert chunks[level] == b"".join(nodes), level
        for level, data in spooled.levels():
            sizes = [len(c) for c in data]
            assert all(s == NODES_PER_CHUNK * sumtree.NODE_SIZE for s in sizes[:-1]), level
    finally:
        spooled.discard()
    assert not spooled.folder.exists()


@pytest.mark.parametrize("workers", [False, True])
@pytest.mark.parametrize("n", [8, 9, 40, 64, 100])
def test_ranges_hashed_apart_make_the_same_tree(
    n: int, workers: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Full ranges of leaves (8 here) hashed as subtrees, here or in a worker process,
    joined with the leaves of the last range: the same tree as hashing leaf by leaf."""
    monkeypatch.setattr(close_stream, "RANGE_LEVELS", 3)
    monkeypatch.setattr(close_stream, "RANGE", 8)
    monkeypatch.setattr(close_stream, "PARALLEL_FROM", 16 if workers else 10**9)
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    pools: list[object] = []

    class Pool(ProcessPoolExecutor):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            pools.append(self)

    monkeypatch.setattr(close_stream, "ProcessPoolExecutor", Pool)
    counted = members(n, 7 * n)
    figures = {"aid_fen": 90_000, "fee_bp": 600, "carry_in_fen": 0}
    spooled = spool_close(PERIOD, iter(counted), n, annual_cap_fen=CAP, **figures)
    try:
        charges = apportion(members=counted, annual_cap_fen=CAP, **figures).charges
        tree = sumtree.levels([sumtree.leaf_packed(PERIOD, m, charges[m]) for m, _ in counted])
        assert spooled.root == sumtree.root(tree)
        stored = {level: b"".join(data) for level, data in spooled.levels()}
        assert [stored[level] for level in range(len(tree)) if tree[level]] == [
            b"".join(nodes) for nodes in tree if nodes
        ]
        assert len(pools) == (1 if workers and n >= 16 else 0)
    finally:
        spooled.discard()


def test_members_out_of_order_or_miscounted_are_refused_and_nothing_is_left(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    counted = members(10, 1)
    before = spool_close(
        PERIOD, iter(counted), 10, aid_fen=1, fee_bp=0, carry_in_fen=0, annual_cap_fen=CAP
    )
    before.discard()
    with pytest.raises(ApportionError, match="increasing id order"):
        spool_close(
            PERIOD,
            iter([counted[1], counted[0]]),
            2,
            aid_fen=1,
            fee_bp=0,
            carry_in_fen=0,
            annual_cap_fen=CAP,
        )
    with pytest.raises(ApportionError, match="expected 11 members counted, found 10"):
        spool_close(
            PERIOD, iter(counted), 11, aid_fen=1, fee_bp=0, carry_in_fen=0, annual_cap_fen=CAP
        )
    assert before.folder.parent == tmp_path
    assert list(tmp_path.iterdir()) == []


def test_a_pool_lost_mid_close_keeps_the_ranges_in_order(monkeypatch: pytest.MonkeyPatch) -> None:
    """The pool breaks after two ranges were handed out: those two are taken first
    (their workers lost: hashed here), then the rest, and the tree is the same."""
    monkeypatch.setattr(close_stream, "RANGE_LEVELS", 3)
    monkeypatch.setattr(close_stream, "RANGE", 8)
    monkeypatch.setattr(close_stream, "PARALLEL_FROM", 16)
    monkeypatch.setattr(os, "cpu_count", lambda: 2)

    class Lost(ProcessPoolExecutor):
        """Hands out two ranges that never come back, then is broken."""

        def __init__(self, *_: Any, **__: Any) -> None:
            super().__init__(1)
            self.handed = 0

        def submit(self, *_: Any, **__: Any) -> Any:
            self.handed += 1
            if self.handed > 2:
                raise BrokenProcessPool("a worker was lost")
            lost: Future[list[bytes]] = Future()
            lost.set_exception(BrokenProcessPool("a worker was lost"))
            return lost

    monkeypatch.setattr(close_stream, "ProcessPoolExecutor", Lost)
    n = 50
    counted = members(n, 11)
    figures = {"aid_fen": 90_000, "fee_bp": 600, "carry_in_fen": 0}
    spooled = spool_close(PERIOD, iter(counted), n, annual_cap_fen=CAP, **figures)
    try:
        charges = apportion(members=counted, annual_cap_fen=CAP, **figures).charges
        tree = sumtree.levels([sumtree.leaf_packed(PERIOD, m, charges[m]) for m, _ in counted])
        assert spooled.root == sumtree.root(tree)
        assert b"".join(dict(spooled.levels())[0]) == b"".join(tree[0])
    finally:
        spooled.discard()
