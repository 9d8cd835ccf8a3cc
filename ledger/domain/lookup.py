"""The operator's lookups: a member by id or by identity record, with all the log says.

Read-only views for the operator (CLI and admin API, operator tokens only): a
member's status, join and leaving (with their seqs), juror key, claims and charges
per closed period, and the members an identity record (a field such as name or
phone, or the record's hash) belongs to. The identity record itself stays in the
private table: a lookup names members, it never prints a record.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection

from ledger.domain.identity_index import members_with_field
from ledger.domain.model import Member
from ledger.domain.state import PlanState
from ledger.domain.store import contribution_table, members_with_records, private_table
from ledger.errors import LedgerError

HASH_LENGTH = 64


class UnknownMemberError(LedgerError):
    """No member has this id."""


class LookupQueryError(LedgerError):
    """A lookup that names nothing to look up, or a malformed record hash."""


@dataclass(frozen=True)
class MemberView:
    """A member as the log and the operator's private table describe them."""

    member: Member
    status: str
    """``active``, ``left`` or ``not yet joined`` at the time of the lookup."""
    identity_kept: bool
    """False once the identity record was erased (the log stays verifiable)."""
    claims: list[dict[str, Any]] = field(default_factory=list)
    charges: list[tuple[str, int]] = field(default_factory=list)
    """(period, charge in fen) of every closed period the member was counted in."""

    def json(self) -> dict[str, Any]:
        """As a JSON object."""
        m = self.member
        return {
            "member": m.id,
            "status": self.status,
            "age_band": m.age_band,
            "joined": {"time": m.joined, "seq": m.joined_seq},
            "left": None if m.left is None else {"time": m.left, "seq": m.left_seq},
            "juror_key": m.juror_key,
            "juror_seq": m.juror_seq if m.juror_key is not None else None,
            "identity_kept": self.identity_kept,
            "claims": self.claims,
            "charges": [{"period": p, "amount_fen": a} for p, a in self.charges],
            "charged_fen": sum(a for _, a in self.charges),
        }


def status_at(member: Member, now: str) -> str:
    """``active``, ``left`` or ``not yet joined`` at ``now``."""
    if member.joined > now:
        return "not yet joined"
    return "active" if member.active_at(now) else "left"


def member_view(conn: Connection, state: PlanState, member: str, now: str) -> MemberView:
    """Everything about ``member``; raises :class:`UnknownMemberError` if none joined."""
    found = state.member(member)
    if found is None:
        raise UnknownMemberError(f"no member {member} has joined this plan")
    kept = conn.dialect.has_table(conn, private_table.name) and (
        conn.execute(select(private_table.c.member).where(private_table.c.member == member)).first()
        is not None
    )
    claims = [
        {
            "claim": c.id,
            "status": c.status,
            "condition": c.condition,
            "filed": c.filed,
            "amount_fen": c.amount_fen,
            "paid_fen": c.paid_fen,
            "paid_period": c.paid_period,
            "recovered_fen": c.recovered_fen,
        }
        for c in state.claims_of(member)
    ]
    return MemberView(found, status_at(found, now), kept, claims, _charges(conn, state, member))


def _charges(conn: Connection, state: PlanState, member: str) -> list[tuple[str, int]]:
    periods = [c.period for c in state.closed]
    t = contribution_table
    found: dict[str, int] = {}
    for start in range(0, len(periods), 500):
        rows = conn.execute(
            select(t.c.period, t.c.amount_fen).where(
                t.c.period.in_(periods[start : start + 500]), t.c.member == member
            )
        )
        found.update((str(p), int(a)) for p, a in rows)
    return [(p, found[p]) for p in periods if p in found]


def parse_fields(items: list[str] | tuple[str, ...]) -> dict[str, str]:
    """``KEY=VALUE`` items as a dict of identity record fields to look up."""
    fields: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise LookupQueryError(f"expected a field as KEY=VALUE, found {item!r}")
        fields[key] = value
    return fields


def find_members(
    conn: Connection, *, fields: dict[str, str] | None = None, record_hash: str | None = None
) -> list[str]:
    """Members whose identity record has every one of ``fields`` (for example name and
    phone), or whose record hashes to ``record_hash``; in id order."""
    if record_hash is not None:
        digest = record_hash.strip().lower()
        if len(digest) != HASH_LENGTH or any(ch not in "0123456789abcdef" for ch in digest):
            raise LookupQueryError(
                f"expected a record hash of 64 hex digits, found {record_hash!r}"
            )
        if not conn.dialect.has_table(conn, private_table.name):
            return []
        return sorted(m for m, _ in members_with_records(conn, [digest]))
    wanted = {k: v for k, v in (fields or {}).items() if v is not None}
    if not wanted:
        raise LookupQueryError("expected a field to look up (name, phone, ...) or a record hash")
    matches: set[str] | None = None
    for name, value in wanted.items():
        found = set(members_with_field(conn, name, value))
        matches = found if matches is None else matches & found
    return sorted(matches or ())
