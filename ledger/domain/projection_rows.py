"""The plan's state as rows: the projection tables and each record's row format.

The entries are the source of truth; these tables are what they imply, written in the
same transaction as the entries they derive from (ADR 0018), so a command reads the
rows it needs instead of replaying the log:

- ``plan_core``: one row, the number of entries applied (``size``) and the small
  state: the seqs of the rules versions, the wind-down, every closed period's body;
- ``plan_member``: a member, their status, their key in force and juror key, a
  recovery of their key not yet in force, and the last request number they used
  (specs/requests.md §4);
- ``plan_key``: every member key ever named (joined with, rotated to, recovered),
  with its member: no key is ever anyone else's (plan.md §4.1, §4.6);
- ``plan_claim``: a claim and every step it has been through (JSON, :func:`encode_claim`);
- ``plan_charge``: what each member was charged in one calendar year (the annual cap);
- ``plan_money``: each payment and recovery, in the period it counts in;
- ``plan_movement``: per period, how many members joined in it, how many left in
  it, and how many of those who joined in it hold a juror key: the plan's counts
  without a scan of its members.

Each member and claim row carries ``seq``, the last entry that changed it.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from sqlalchemy import BigInteger, Column, Index, MetaData, Table, Text

from ledger.domain.model import Claim, Member
from ledger.domain.periods import period_open_at

metadata = MetaData()

core_table = Table(
    "plan_core",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=False),
    Column("size", BigInteger, nullable=False),
    Column("data", Text, nullable=False),
)
member_table = Table(
    "plan_member",
    metadata,
    Column("member", Text, primary_key=True),
    Column("age_band", Text, nullable=False),
    Column("joined", Text, nullable=False),
    Column("joined_seq", BigInteger, nullable=False),
    Column("joined_period", Text, nullable=False),
    Column("left_at", Text, nullable=True),
    Column("left_seq", BigInteger, nullable=False),
    Column("left_period", Text, nullable=True),
    Column("juror_key", Text, nullable=True),
    Column("juror_seq", BigInteger, nullable=False),
    Column("seq", BigInteger, nullable=False),
    Column("member_key", Text, nullable=True),
    Column("last_request", BigInteger, nullable=False, server_default="-1"),
    Column("request_seq", BigInteger, nullable=False, server_default="-1"),
    Column("recovery_key", Text, nullable=True),
    Column("recovery_effective", Text, nullable=True),
    Column("recovery_seq", BigInteger, nullable=False, server_default="-1"),
    Index("plan_member_juror_key", "juror_key"),
)
key_table = Table(
    "plan_key",
    metadata,
    Column("key", Text, primary_key=True),
    Column("member", Text, nullable=False),
    Column("seq", BigInteger, nullable=False),
)
claim_table = Table(
    "plan_claim",
    metadata,
    Column("claim", Text, primary_key=True),
    Column("member", Text, nullable=False),
    Column("condition", Text, nullable=False),
    Column("diagnosed", Text, nullable=False),
    Column("filed_seq", BigInteger, nullable=False),
    Column("seq", BigInteger, nullable=False),
    # 1 until the claim is finished (decided, and paid if approved): the claims queue.
    Column("open", BigInteger, nullable=False),
    Column("data", Text, nullable=False),
    Index("plan_claim_diagnosis", "member", "condition", "diagnosed"),
    Index("plan_claim_open", "open", "filed_seq"),
)
charge_table = Table(
    "plan_charge",
    metadata,
    Column("year", BigInteger, primary_key=True, autoincrement=False),
    Column("member", Text, primary_key=True),
    Column("amount_fen", BigInteger, nullable=False),
)
money_table = Table(
    "plan_money",
    metadata,
    Column("period", Text, primary_key=True),
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("kind", Text, nullable=False),
    Column("claim", Text, nullable=False),
    Column("amount_fen", BigInteger, nullable=False),
)
movement_table = Table(
    "plan_movement",
    metadata,
    Column("period", Text, primary_key=True),
    Column("joins", BigInteger, nullable=False),
    Column("leaves", BigInteger, nullable=False),
    Column("jurors", BigInteger, nullable=False),
)
PROJECTION_TABLES = (
    core_table,
    member_table,
    claim_table,
    charge_table,
    money_table,
    key_table,
    movement_table,
)
PAID, RECOVERED = "paid", "recovered"

MemberRow = tuple[Any, ...]
SEQ = 10
"""The position of ``seq`` (the last entry that changed the member) in a member row."""


def member_row(member: Member) -> MemberRow:
    """A member as a ``plan_member`` row, in column order."""
    return (
        member.id,
        member.age_band,
        member.joined,
        member.joined_seq,
        period_open_at(member.joined),
        member.left,
        member.left_seq,
        None if member.left is None else period_open_at(member.left),
        member.juror_key,
        member.juror_seq,
        max(
            member.joined_seq,
            member.left_seq,
            member.juror_seq,
            member.request_seq,
            member.recovery_seq,
        ),
        member.member_key,
        member.last_request,
        member.request_seq,
        member.recovery_key,
        member.recovery_effective,
        member.recovery_seq,
    )


Movement = dict[str, tuple[int, int, int]]
"""Period -> (joins, leaves, jurors): ``plan_movement`` rows, or changes to them."""


def add_movement(into: Movement, member: Member, sign: int = 1) -> None:
    """Count ``member`` in ``into`` (``sign`` -1: take them out): a join in the period
    they joined in, with a juror if they hold a juror key, and a leave in the period
    they left in."""
    joined = period_open_at(member.joined)
    joins, leaves, jurors = into.get(joined, (0, 0, 0))
    into[joined] = (joins + sign, leaves, jurors + sign * (member.juror_key is not None))
    if member.left is not None:
        left = period_open_at(member.left)
        joins, leaves, jurors = into.get(left, (0, 0, 0))
        into[left] = (joins, leaves + sign, jurors)


def parse_member_row(row: Any) -> Member:
    """The member a ``plan_member`` row (in column order) holds."""
    return Member(
        id=str(row[0]),
        age_band=str(row[1]),
        joined=str(row[2]),
        joined_seq=int(row[3]),
        left=None if row[5] is None else str(row[5]),
        left_seq=int(row[6]),
        juror_key=None if row[8] is None else str(row[8]),
        juror_seq=int(row[9]),
        member_key=None if row[11] is None else str(row[11]),
        last_request=int(row[12]),
        request_seq=int(row[13]),
        recovery_key=None if row[14] is None else str(row[14]),
        recovery_effective=None if row[15] is None else str(row[15]),
        recovery_seq=int(row[16]),
    )


def encode_claim(claim: Claim) -> str:
    """A claim's every field as canonical JSON (the ``data`` of its ``plan_claim`` row)."""
    fields: dict[str, Any] = {
        name: getattr(claim, name) for name in Claim.__dataclass_fields__ if name != "history"
    }
    if claim.pool_signature is not None:
        fields["pool_signature"] = base64.b64encode(claim.pool_signature).decode()
    fields["history"] = [list(step) for step in claim.history]
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def parse_claim(data: str) -> Claim:
    """The claim :func:`encode_claim` wrote."""
    fields = json.loads(data)
    if fields["pool_signature"] is not None:
        fields["pool_signature"] = base64.b64decode(fields["pool_signature"])
    fields["history"] = [(int(s), str(t), str(w)) for s, t, w in fields["history"]]
    return Claim(**fields)


def claim_row(claim: Claim) -> dict[str, Any]:
    """A claim as a ``plan_claim`` row."""
    return {
        "claim": claim.id,
        "member": claim.member,
        "condition": claim.condition,
        "diagnosed": claim.diagnosed,
        "filed_seq": claim.history[0][0] if claim.history else -1,
        "seq": claim.history[-1][0] if claim.history else -1,
        "open": 0 if claim.finished else 1,
        "data": encode_claim(claim),
    }
