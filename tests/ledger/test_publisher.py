"""The publisher signs consistent checkpoints only, and keeps every one."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from ledger.errors import LedgerError, PublishError
from ledger.instance import Ledger, init_ledger, open_ledger
from ledger.log.log import NewEntry
from ledger.log.store import checkpoint_table
from ledger.log.tree import stored_hash_index
from ledger.publish.checkpoint import open_checkpoint
from ledger.publish.keyfile import create_key_file
from ledger.publish.note import parse_verifier_key
from ledger.publish.publisher import Publisher, latest_checkpoint
from tests.conftest import TEST_ORIGIN
from tests.ledger.tamper import tamper


def test_init_signs_the_genesis_checkpoint(ledger: Ledger) -> None:
    note = latest_checkpoint(ledger.store)
    assert note is not None
    verifier = parse_verifier_key(ledger.store.require_meta().verifier_key)
    checkpoint = open_checkpoint(note, verifier)
    assert (checkpoint.origin, checkpoint.size) == (TEST_ORIGIN, 1)


def test_publish_covers_the_current_size_and_keeps_every_checkpoint(ledger: Ledger) -> None:
    for round_ in range(3):
        ledger.log.append_batch([NewEntry("demo.x", "operator", {"r": round_})] * 4)
        signed = ledger.publisher.publish()
        assert signed.checkpoint.size == ledger.log.size()
        assert signed.checkpoint.root == ledger.log.root(ledger.log.size())
    with ledger.store.reader() as conn:
        sizes = [row.tree_size for row in conn.execute(select(checkpoint_table.c.tree_size))]
    assert sorted(sizes) == [1, 5, 9, 13]


def test_publish_twice_at_one_size_returns_the_same_note(ledger: Ledger) -> None:
    first = ledger.publisher.publish()
    second = ledger.publisher.publish()
    assert first.note == second.note


def test_refuses_to_sign_after_history_was_rewritten(ledger: Ledger) -> None:
    ledger.log.append_batch([NewEntry("demo.x", "operator", {"i": i}) for i in range(6)])
    ledger.publisher.publish()
    ledger.log.append(NewEntry("demo.x", "operator", {"i": 99}))
    # The stored hash of leaves 0..3, which every root of size >= 4 is built from.
    position = stored_hash_index(2, 0)
    tamper(
        ledger.store,
        "UPDATE tree_hash SET hash = :h WHERE idx = :i",
        {"h": b"\0" * 32, "i": position},
    )
    with pytest.raises(PublishError, match="no longer has the root"):
        ledger.publisher.publish()


def test_refuses_to_sign_a_shorter_log(ledger: Ledger) -> None:
    ledger.log.append_batch([NewEntry("demo.x", "operator", {"i": i}) for i in range(3)])
    ledger.publisher.publish()
    tamper(ledger.store, "DELETE FROM entry WHERE seq = 3")
    with pytest.raises(PublishError, match="lost entries"):
        ledger.publisher.publish()


def test_publisher_refuses_a_different_key(ledger: Ledger, tmp_path: Path) -> None:
    other = create_key_file(tmp_path / "other.key", TEST_ORIGIN)
    with pytest.raises(PublishError, match="expected the log's key"):
        Publisher(ledger.store, other)


def test_key_file_is_private_and_exclusive(ledger: Ledger, key_path: Path) -> None:
    assert key_path.stat().st_mode & 0o777 == 0o600
    with pytest.raises(LedgerError, match="refusing to overwrite"):
        create_key_file(key_path, TEST_ORIGIN)
    assert ledger.signer.seed.hex() not in repr(ledger)


def test_init_is_idempotent_and_checks_the_key(db_url: str, key_path: Path, tmp_path: Path) -> None:
    made, created = init_ledger(db_url, key_path, TEST_ORIGIN)
    made.close()
    again, created_again = init_ledger(db_url, key_path, TEST_ORIGIN)
    assert (created, created_again) == (True, False)
    assert again.log.size() == 1
    again.close()
    with pytest.raises(LedgerError, match="is named"):
        init_ledger(db_url, key_path, "another.example/log")
    # A key path with no file: refused, and no key is made for a log that has one.
    with pytest.raises(LedgerError, match="no new key was made"):
        init_ledger(db_url, tmp_path / "fresh.key", TEST_ORIGIN)
    assert not (tmp_path / "fresh.key").exists()
    other = tmp_path / "other.key"
    create_key_file(other, TEST_ORIGIN)
    with pytest.raises(LedgerError, match="does not sign this log"):
        init_ledger(db_url, other, TEST_ORIGIN)
    with pytest.raises(LedgerError, match="does not sign this log"):
        open_ledger(db_url, other)
    opened = open_ledger(db_url, key_path)
    assert opened.log.size() == 1
    opened.close()


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_any_one_byte_change_to_a_checkpoint_fails(ledger: Ledger, data: st.DataObject) -> None:
    note = ledger.publisher.publish().note.encode()
    verifier = parse_verifier_key(ledger.store.require_meta().verifier_key)
    at = data.draw(st.integers(0, len(note) - 1))
    changed = note[:at] + bytes([note[at] ^ data.draw(st.integers(1, 255))]) + note[at + 1 :]
    try:
        text = changed.decode()
    except UnicodeDecodeError:
        return  # not text at all: refused before any parsing
    with pytest.raises(LedgerError):
        open_checkpoint(text, verifier)
