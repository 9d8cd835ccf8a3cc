"""Idempotency keys of admin requests: a repeated request gets its first answer, one append.

A client that sends ``Idempotency-Key: K`` with a write and does not hear back can
send the same request again with the same key; the log must not grow twice. The
operator-private table ``idempotency_key`` (never on the log, not append-only)
keeps, per token and key:

- the SHA-256 of the request (method, path and body), so that the same key with
  another request is refused rather than answered with something else;
- the seqs the request appended, recorded in the same transaction as the entries
  (:func:`claim_key`, run inside the sequencer's lock), so that two requests with
  one key, even in two server processes, can never both append;
- the first answer, status and body with its receipts, once it is sent
  (:func:`record_answer`), to give again word for word.

Keys are kept for :data:`RETENTION` after their first use, then forgotten (each
new key purges the expired ones): long enough for any client's retries, through
an outage of a few days, while the table stays small.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import BigInteger, Column, Index, Text, delete, insert, select, update
from sqlalchemy.engine import Connection
from sqlmodel import Field, SQLModel

from ledger.errors import LedgerError
from ledger.log.entry import format_time
from ledger.log.store import Store

RETENTION = timedelta(days=7)


class IdempotencyKey(SQLModel, table=True):
    """One key as first used: who, which request, what it appended and what it answered."""

    __tablename__ = "idempotency_key"
    __table_args__ = (Index("idempotency_key_created", "created"),)
    scope: str = Field(sa_column=Column(Text, primary_key=True))
    key: str = Field(sa_column=Column(Text, primary_key=True))
    request_hash: str = Field(sa_column=Column(Text, nullable=False))
    created: str = Field(sa_column=Column(Text, nullable=False))
    first_seq: int = Field(sa_column=Column(BigInteger, nullable=False))
    last_seq: int = Field(sa_column=Column(BigInteger, nullable=False))
    status: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    answer: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


key_table = IdempotencyKey.__table__  # type: ignore[attr-defined]


class KeyTakenError(LedgerError):
    """Another request already used this key: its entries, not these, are on the log."""


@dataclass(frozen=True)
class Stored:
    """A key as stored: the request it was first used for, its entries and its answer."""

    request_hash: str
    created: str
    first_seq: int
    last_seq: int
    status: int | None
    answer: str | None


def create_idempotency_schema(store: Store) -> None:
    """Create the table if it does not exist (idempotent)."""
    with store.writer() as conn:
        SQLModel.metadata.create_all(conn, tables=[key_table])


def lookup(store: Store, scope: str, key: str) -> Stored | None:
    """The key as stored for ``scope`` (a token), or None if unused or forgotten."""
    with store.reader() as conn:
        row = (
            conn.execute(
                select(key_table).where(key_table.c.scope == scope, key_table.c.key == key)
            )
            .mappings()
            .first()
        )
    if row is None:
        return None
    return Stored(
        str(row["request_hash"]),
        str(row["created"]),
        int(row["first_seq"]),
        int(row["last_seq"]),
        None if row["status"] is None else int(row["status"]),
        None if row["answer"] is None else str(row["answer"]),
    )


def claim_key(
    conn: Connection,
    scope: str,
    key: str,
    request_hash: str,
    seqs: tuple[int, int],
    now: datetime,
) -> None:
    """Record the key with the entries about to be appended, in their transaction.

    Called inside the sequencer's lock, so the check and the insert cannot interleave
    with another writer's: raises :class:`KeyTakenError` if the key is already recorded.
    Keys older than :data:`RETENTION` are forgotten on the way.
    """
    conn.execute(delete(key_table).where(key_table.c.created < format_time(now - RETENTION)))
    found = conn.execute(
        select(key_table.c.first_seq).where(key_table.c.scope == scope, key_table.c.key == key)
    ).first()
    if found is not None:
        raise KeyTakenError(
            f"the Idempotency-Key {key!r} was used by a request that appended seq {found[0]}"
        )
    conn.execute(
        insert(key_table),
        {
            "scope": scope,
            "key": key,
            "request_hash": request_hash,
            "created": format_time(now),
            "first_seq": seqs[0],
            "last_seq": seqs[1],
        },
    )


def record_answer(store: Store, scope: str, key: str, status: int, answer: str) -> None:
    """Keep the first answer given to the key's request, to give it again."""
    with store.writer() as conn:
        conn.execute(
            update(key_table)
            .where(key_table.c.scope == scope, key_table.c.key == key)
            .values(status=status, answer=answer)
        )
