"""The operator's index of identity records by field: find a member by name or phone.

``member_identity_field`` holds one row per field of each private identity record
(``name`` → ``张三``, ``phone`` → ``13800000000``), beside ``member_private`` and as
private as it (never served, never on the log), so that the operator can look a
person up with one indexed read however many members the plan has. It is written
and erased together with the record: a join writes both in one transaction, an
erasure deletes both.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import Column, Index, MetaData, Table, Text, delete, insert, select
from sqlalchemy.engine import Connection

from ledger.domain.store import private_table

MAX_VALUE = 512
"""Longer field values are not indexed (a free-text note is no one's identity)."""

field_table = Table(
    "member_identity_field",
    MetaData(),
    Column("field", Text, primary_key=True),
    Column("value", Text, primary_key=True),
    Column("member", Text, primary_key=True),
    Index("member_identity_field_member", "member"),
)


def normalise(value: object) -> str:
    """A field's value as it is indexed and looked up: text, surrounding blanks removed."""
    return str(value).strip()


def field_rows(member: str, identity: Mapping[str, Any]) -> list[dict[str, str]]:
    """The index rows of one identity record."""
    rows = []
    for name, value in sorted(identity.items()):
        text = normalise(value)
        if text and len(text) <= MAX_VALUE and not isinstance(value, (dict, list)):
            rows.append({"field": str(name), "value": text, "member": member})
    return rows


def create_index(conn: Connection) -> None:
    """Create the index table if it is missing, filled in from the private records."""
    existed = conn.dialect.has_table(conn, field_table.name)
    field_table.create(conn, checkfirst=True)
    if existed:
        return
    rows = conn.execute(select(private_table.c.member, private_table.c.record)).yield_per(10_000)
    batch: list[dict[str, str]] = []
    for member, record in rows:
        batch.extend(field_rows(str(member), json.loads(str(record))))
        if len(batch) >= 10_000:
            conn.execute(insert(field_table), batch)
            batch = []
    if batch:
        conn.execute(insert(field_table), batch)


def index_records(conn: Connection, records: Iterable[tuple[str, Mapping[str, Any]]]) -> None:
    """Index the identity records of new members (in the transaction that stores them)."""
    rows = [row for member, identity in records for row in field_rows(member, identity)]
    if rows:
        conn.execute(insert(field_table), rows)


def forget(conn: Connection, members: Sequence[str]) -> None:
    """Remove the index rows of these members (their records are being erased)."""
    for start in range(0, len(members), 1_000):
        conn.execute(
            delete(field_table).where(field_table.c.member.in_(members[start : start + 1_000]))
        )


def members_with_field(conn: Connection, field: str, value: str) -> list[str]:
    """Every member whose identity record has ``field`` equal to ``value``, in id order.

    On a ledger whose index is not built yet (made by an older version and only read
    since), the private records are read one by one instead: slower, same answer.
    """
    if not conn.dialect.has_table(conn, field_table.name):
        if not conn.dialect.has_table(conn, private_table.name):
            return []  # a log without the plan's tables: nobody has joined
        wanted = normalise(value)
        rows = conn.execute(select(private_table.c.member, private_table.c.record))
        return sorted(
            str(member)
            for member, record in rows
            if any(
                r["field"] == field and r["value"] == wanted
                for r in field_rows(str(member), json.loads(str(record)))
            )
        )
    rows = conn.execute(
        select(field_table.c.member)
        .where(field_table.c.field == field, field_table.c.value == normalise(value))
        .order_by(field_table.c.member)
    )
    return [str(m) for m in rows.scalars()]
