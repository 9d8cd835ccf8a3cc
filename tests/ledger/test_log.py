"""The sequencer and the read side, on both backends."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger.errors import ChainError, EntryError, TreeError
from ledger.instance import Ledger
from ledger.log import tree
from ledger.log.entry import ZERO_HASH, entry_hash, format_time, parse_entry
from ledger.log.log import MAX_BATCH, Log, NewEntry
from ledger.log.proof import ProofError, verify_consistency, verify_inclusion


def fill(ledger: Ledger, count: int, batch: int = 50) -> None:
    done = 0
    while done < count:
        n = min(batch, count - done)
        ledger.log.append_batch(
            [NewEntry("demo.thing", "operator", {"i": done + i}) for i in range(n)]
        )
        done += n


def test_genesis_names_origin_and_key(ledger: Ledger) -> None:
    genesis = parse_entry(ledger.log.entries(0, 1)[0][1])
    meta = ledger.store.require_meta()
    assert genesis.type == "log.genesis"
    assert genesis.prev == ZERO_HASH
    assert dict(genesis.body) == {"origin": meta.origin, "verifier_key": meta.verifier_key}


def test_append_chains_every_entry(ledger: Ledger) -> None:
    ledger.log.append(NewEntry("demo.one", "operator", {"n": 1}))
    ledger.log.append_batch([NewEntry("demo.many", "juror:J-7", {"n": i}) for i in range(10)])
    rows = ledger.log.entries(0, 100)
    assert [seq for seq, _ in rows] == list(range(12))
    prev = ZERO_HASH
    last_time = ""
    for seq, raw in rows:
        entry = parse_entry(raw)
        assert entry.seq == seq
        assert entry.prev == prev
        assert entry.time >= last_time
        prev, last_time = entry_hash(raw), entry.time


def test_root_matches_an_in_memory_tree(ledger: Ledger) -> None:
    fill(ledger, 130, batch=17)
    leaves = [tree.leaf_hash(raw) for _, raw in ledger.log.entries(0, 1000)]
    frontier = tree.Frontier(0, [])
    for size, leaf in enumerate(leaves, start=1):
        frontier.append(leaf)
        assert ledger.log.root(size) == frontier.root()
    assert ledger.log.root(0) == tree.EMPTY_ROOT


def test_a_bad_entry_refuses_the_whole_batch(ledger: Ledger) -> None:
    before = ledger.log.size()
    with pytest.raises(EntryError):
        ledger.log.append_batch(
            [
                NewEntry("demo.ok", "operator", {"n": 1}),
                NewEntry("demo.bad", "operator", {"x": 0.5}),
            ]
        )
    with pytest.raises(EntryError):
        ledger.log.append(NewEntry("Bad Type", "operator", {}))
    with pytest.raises(EntryError):
        ledger.log.append(NewEntry("demo.ok", "Operator!", {}))
    assert ledger.log.size() == before
    assert ledger.log.root(before) == ledger.publisher.publish().checkpoint.root


def test_time_never_goes_backwards(ledger: Ledger) -> None:
    ahead = format_time(datetime.now(UTC) + timedelta(seconds=300))
    ledger.log.append(NewEntry("demo.one", "operator", {}, time=ahead))
    with pytest.raises(ChainError, match=r"log\.time\.order") as caught:
        ledger.log.append(NewEntry("demo.two", "operator", {}, time="2026-01-01T00:00:00Z"))
    assert caught.value.seq == 2
    # With no time given, the sequencer never dates an entry before the last one.
    appended = ledger.log.append(NewEntry("demo.three", "operator", {}))
    assert parse_entry(appended.raw).time == ahead


def test_time_is_never_far_ahead_of_the_clock(ledger: Ledger) -> None:
    """specs/log.md §3: no entry dated more than 600 s after the sequencer's clock."""
    far = format_time(datetime.now(UTC) + timedelta(seconds=3600))
    size = ledger.log.size()
    with pytest.raises(ChainError, match=r"log\.time\.ahead") as caught:
        ledger.log.append(NewEntry("demo.one", "operator", {}, time=far))
    assert caught.value.seq == size
    assert ledger.log.size() == size


def test_genesis_only_at_zero(ledger: Ledger) -> None:
    with pytest.raises(ChainError):
        ledger.log.append(NewEntry("log.genesis", "operator", {}))


def test_first_entry_must_be_genesis(db_url: str) -> None:
    from ledger.log.store import Store

    store = Store(db_url, create=True)
    store.create_schema()
    with pytest.raises(ChainError):
        Log(store).append(NewEntry("demo.thing", "operator", {}))
    assert Log(store).size() == 0
    store.dispose()


def test_batch_limits(ledger: Ledger) -> None:
    assert ledger.log.append_batch([]) == []
    with pytest.raises(TreeError):
        ledger.log.append_batch([NewEntry("demo.x", "operator", {})] * (MAX_BATCH + 1))


def test_reads_out_of_range(ledger: Ledger) -> None:
    size = ledger.log.size()
    with pytest.raises(TreeError):
        ledger.log.root(size + 1)
    with pytest.raises(TreeError):
        ledger.log.inclusion_proof(0, size + 1)
    with pytest.raises(TreeError):
        ledger.log.consistency_proof(1, size + 5)
    with pytest.raises(TreeError):
        ledger.log.root(-1)
    assert ledger.log.entries(size, size + 10) == []


def test_clock_is_used_for_times(db_url: str, key_path: object) -> None:
    from pathlib import Path

    from ledger.instance import init_ledger

    made, _ = init_ledger(
        db_url,
        Path(str(key_path)),
        "test.example/clock",
        clock=lambda: datetime(2025, 5, 6, 7, 8, 9, tzinfo=UTC),
    )
    try:
        appended = made.log.append(NewEntry("demo.thing", "operator", {}))
        assert parse_entry(appended.raw).time == "2025-05-06T07:08:09Z"
    finally:
        made.close()


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_every_proof_the_log_gives_verifies(ledger: Ledger, data: st.DataObject) -> None:
    if ledger.log.size() < 100:
        fill(ledger, 99 + 37 - ledger.log.size(), batch=23)
    size = data.draw(st.integers(1, ledger.log.size()))
    seq = data.draw(st.integers(0, size - 1))
    root = ledger.log.root(size)
    raw = ledger.log.entries(seq, seq + 1)[0][1]
    proof = ledger.log.inclusion_proof(seq, size)
    verify_inclusion(seq, size, tree.leaf_hash(raw), proof, root)
    first = data.draw(st.integers(1, size))
    verify_consistency(
        first, size, ledger.log.root(first), root, ledger.log.consistency_proof(first, size)
    )
    # Any one-byte change to the entry makes its proof fail.
    at = data.draw(st.integers(0, len(raw) - 1))
    changed = raw[:at] + bytes([raw[at] ^ data.draw(st.integers(1, 255))]) + raw[at + 1 :]
    with pytest.raises(ProofError):
        verify_inclusion(seq, size, tree.leaf_hash(changed), proof, root)


def test_entries_are_exact_bytes(ledger: Ledger) -> None:
    appended = ledger.log.append(NewEntry("demo.text", "operator", {"t": "相互宝 ✓"}))
    stored = ledger.log.entries(appended.seq, appended.seq + 1)[0][1]
    assert stored == appended.raw
    assert json.loads(stored)["body"]["t"] == "相互宝 ✓"


def test_many_proofs_and_entries_in_one_read_match_one_at_a_time(ledger: Ledger) -> None:
    ledger.log.append_batch([NewEntry("demo.thing", "operator", {"i": i}) for i in range(300)])
    size = ledger.log.size()
    seqs = [0, 1, 2, 7, 64, 65, 150, 255, 256, 299, size - 1, 7]
    proofs = ledger.log.inclusion_proofs(seqs, size)
    assert sorted(proofs) == sorted(set(seqs))
    for seq in set(seqs):
        assert proofs[seq] == ledger.log.inclusion_proof(seq, size)
    raws = ledger.log.entries_at(seqs)
    assert list(raws) == sorted(set(seqs))
    assert all(raws[s] == ledger.log.entries(s, s + 1)[0][1] for s in raws)
    with pytest.raises(TreeError):
        ledger.log.inclusion_proofs([1], size + 1)
    with pytest.raises(TreeError, match=f"expected entry {size}"):
        ledger.log.entries_at([3, size])
