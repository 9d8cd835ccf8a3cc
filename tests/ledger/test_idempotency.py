"""The idempotency key table (ledger.idempotency), on both backends."""

from __future__ import annotations

from datetime import timedelta

import pytest

from ledger.idempotency import (
    RETENTION,
    KeyTakenError,
    claim_key,
    create_idempotency_schema,
    lookup,
    record_answer,
)
from ledger.instance import Ledger
from ledger.log.entry import parse_time

T0 = parse_time("2025-03-01T00:00:00Z")


def test_a_key_is_claimed_once_then_answered(ledger: Ledger) -> None:
    store = ledger.store
    create_idempotency_schema(store)
    create_idempotency_schema(store)  # idempotent
    assert lookup(store, "tok-a", "k") is None
    with store.writer() as conn:
        claim_key(conn, "tok-a", "k", "h" * 64, (5, 7), T0)
    with pytest.raises(KeyTakenError, match="appended seq 5"), store.writer() as conn:
        claim_key(conn, "tok-a", "k", "other", (8, 8), T0)
    stored = lookup(store, "tok-a", "k")
    assert stored is not None
    assert (stored.request_hash, stored.first_seq, stored.last_seq) == ("h" * 64, 5, 7)
    assert (stored.status, stored.answer) == (None, None)
    record_answer(store, "tok-a", "k", 201, '{"seq": 5}')
    stored = lookup(store, "tok-a", "k")
    assert stored is not None
    assert (stored.status, stored.answer) == (201, '{"seq": 5}')
    assert lookup(store, "tok-b", "k") is None  # keys are per token


def test_keys_are_forgotten_after_the_retention(ledger: Ledger) -> None:
    store = ledger.store
    create_idempotency_schema(store)
    with store.writer() as conn:
        claim_key(conn, "tok-a", "old", "h", (1, 1), T0)
    with store.writer() as conn:
        claim_key(conn, "tok-a", "kept", "h", (2, 2), T0 + RETENTION)
    assert lookup(store, "tok-a", "old") is not None  # exactly the retention: still kept
    with store.writer() as conn:
        claim_key(conn, "tok-a", "new", "h", (3, 3), T0 + RETENTION + timedelta(seconds=1))
    assert lookup(store, "tok-a", "old") is None
    assert lookup(store, "tok-a", "kept") is not None
    assert timedelta(days=7) == RETENTION
