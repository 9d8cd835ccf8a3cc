"""A close streamed over the members (ledger.domain.close_stream) is the in-memory one."""

from __future__ import annotations

import random
import tempfile
from pathlib import Path

import pytest

from ledger.domain import sumtree
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
