"""``check_log`` re-derives the log and names the first mismatch by seq."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from ledger.check import check_log
from ledger.instance import Ledger
from ledger.log.entry import ZERO_HASH, encode_entry
from ledger.log.log import NewEntry
from ledger.log.tree import stored_hash_count, stored_hash_index
from ledger.publish.checkpoint import Checkpoint
from ledger.publish.note import Signer, sign_note
from tests.conftest import TEST_ORIGIN
from tests.ledger.tamper import tamper


@pytest.fixture
def filled(ledger: Ledger) -> Ledger:
    for batch in range(4):
        ledger.log.append_batch(
            [NewEntry("demo.thing", "operator", {"b": batch, "i": i}) for i in range(25)]
        )
        ledger.publisher.publish()
    return ledger


@pytest.mark.parametrize("full", [False, True])
def test_a_clean_log_checks(filled: Ledger, full: bool) -> None:
    report = check_log(filled.store, full=full)
    assert report.ok, report.mismatches
    assert report.entries == 101
    assert report.hashes == stored_hash_count(101)
    assert report.checkpoints == 5


@pytest.mark.parametrize("full", [False, True])
def test_an_altered_entry_is_named(filled: Ledger, full: bool) -> None:
    raw = filled.log.entries(40, 41)[0][1]
    forged = raw.replace(b'"i":14', b'"i":15')
    assert forged != raw
    tamper(filled.store, "UPDATE entry SET data = :d WHERE seq = 40", {"d": forged})
    report = check_log(filled.store, full=full)
    assert not report.ok
    assert report.mismatches[0].seq == 40


def test_an_altered_hash_is_named(filled: Ledger) -> None:
    position = stored_hash_index(0, 60)
    tamper(
        filled.store,
        "UPDATE tree_hash SET hash = :h WHERE idx = :i",
        {"h": b"\1" * 32, "i": position},
    )
    report = check_log(filled.store)
    assert report.mismatches[0].seq == 60
    assert f"position {position}" in report.mismatches[0].what


def test_a_rewritten_tail_contradicts_the_checkpoints(filled: Ledger) -> None:
    """Rewrite entries 90..100 consistently (chain and hashes), as a forger would."""
    store = filled.store
    tamper(store, "DELETE FROM tree_hash WHERE idx >= :p", {"p": stored_hash_count(90)})
    tamper(store, "DELETE FROM entry WHERE seq >= 90")
    filled.log.append_batch([NewEntry("demo.forged", "operator", {"i": i}) for i in range(11)])
    report = check_log(store)
    assert not report.ok
    assert any("signed checkpoint of size 101" in m.what for m in report.mismatches)


def test_a_missing_entry_is_a_gap(filled: Ledger) -> None:
    tamper(filled.store, "DELETE FROM entry WHERE seq = 30")
    report = check_log(filled.store)
    assert report.mismatches[0].seq == 30
    assert "log.seq" in report.mismatches[0].what or "rows" in report.mismatches[0].what


def test_a_stray_hash_row_is_found(filled: Ledger) -> None:
    tamper(
        filled.store,
        "INSERT INTO tree_hash (idx, hash) VALUES (:i, :h)",
        {"i": stored_hash_count(101) + 5, "h": b"\0" * 32},
    )
    report = check_log(filled.store)
    assert not report.ok
    assert "stored hashes" in report.mismatches[-1].what


def test_a_checkpoint_signed_by_another_key_is_found(filled: Ledger) -> None:
    impostor = Signer.generate(TEST_ORIGIN)
    note = sign_note(Checkpoint(TEST_ORIGIN, 101, filled.log.root(101)).to_body(), [impostor])
    tamper(filled.store, "UPDATE checkpoint SET note = :n WHERE tree_size = 101", {"n": note})
    report = check_log(filled.store)
    assert any("checkpoint of size 101" in m.what for m in report.mismatches)


def test_an_invalid_entry_with_consistent_hashes_is_found_by_full(filled: Ledger) -> None:
    """A non-canonical last entry, with its hashes recomputed to match."""
    store = filled.store
    raw = filled.log.entries(100, 101)[0][1]
    spaced = raw.replace(b'"b":3', b'"b": 3')
    tamper(store, "DELETE FROM tree_hash WHERE idx >= :p", {"p": stored_hash_count(100)})
    tamper(store, "DELETE FROM checkpoint WHERE tree_size = 101")
    tamper(store, "UPDATE entry SET data = :d WHERE seq = 100", {"d": spaced})
    # Re-derive the stored hashes for the altered bytes, as a careful forger would.
    from ledger.log.tree import Frontier, leaf_hash

    frontier = Frontier(100, store.fetch_hashes(Frontier.positions(100)))
    rows = frontier.append(leaf_hash(spaced))
    with store.engine.begin() as conn:
        for offset, h in enumerate(rows):
            conn.execute(
                text("INSERT INTO tree_hash (idx, hash) VALUES (:i, :h)"),
                {"i": stored_hash_count(100) + offset, "h": h},
            )
    report = check_log(store, full=True)
    assert report.mismatches[0].seq == 100
    assert "not_canonical" in report.mismatches[0].what


def test_genesis_must_name_the_log(filled: Ledger) -> None:
    forged = encode_entry(
        seq=0,
        time="2020-01-01T00:00:00Z",
        type="log.genesis",
        prev=ZERO_HASH,
        actor="operator",
        body={"origin": "x.example/y", "verifier_key": "k"},
    )
    tamper(filled.store, "UPDATE entry SET data = :d WHERE seq = 0", {"d": forged})
    report = check_log(filled.store)
    assert report.mismatches[0].seq == 0


@pytest.mark.parametrize("full", [False, True])
def test_several_processes_check_ranges_alike(filled: Ledger, full: bool) -> None:
    clean = check_log(filled.store, full=full, workers=2, range_size=7)
    assert clean.ok, clean.mismatches
    assert (clean.entries, clean.hashes) == (101, stored_hash_count(101))
    position = stored_hash_index(0, 64)
    tamper(
        filled.store,
        "UPDATE tree_hash SET hash = :h WHERE idx = :i",
        {"h": b"\2" * 32, "i": position},
    )
    broken = check_log(filled.store, full=full, workers=2, range_size=7)
    serial = check_log(filled.store, full=full, workers=1, range_size=7)
    assert broken.mismatches[0].seq == serial.mismatches[0].seq == 64
