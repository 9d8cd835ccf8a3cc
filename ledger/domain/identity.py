"""Who a person is, privately: one identity record, one active membership.

An identity record (name, phone, ...) stays in the operator's private table with the
SHA-256 of its canonical JSON beside it (``ledger.domain.store``), never on the log.
The hash lets the operator refuse to enrol a person who is already an active member:
the log cannot show this, since it never sees the records, so the check is the
operator's own (specs/plan.md §4.3), not a rule of the plan (it has no rule id).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy.engine import Connection

from ledger.domain.state import PlanState
from ledger.domain.store import members_with_records
from ledger.errors import LedgerError


class IdentityTakenError(LedgerError):
    """A person joining is already an active member, or is in the same batch twice.

    ``index`` is their position in the batch; ``member`` the member who has the same
    identity record (None when the batch repeats a person).
    """

    def __init__(self, index: int, member: str | None, message: str) -> None:
        super().__init__(message)
        self.index = index
        self.member = member


def canonical_record(identity: dict[str, Any]) -> str:
    """An identity record's canonical JSON: the bytes its commitment and hash cover."""
    return json.dumps(identity, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def active_holders(
    conn: Connection, state: PlanState, digests: Sequence[str], when: str, new: set[str]
) -> dict[str, tuple[str, str]]:
    """Record hash to (member, joined) of each active member, not in ``new``, who has it."""
    holders: dict[str, tuple[str, str]] = {}
    for member, digest in members_with_records(conn, digests):
        if member in new:  # the batch's own records, written ahead of its joins
            continue
        found = state.members.get(member)
        if found is not None and found.active_at(when):
            holders[digest] = (member, found.joined)
    return holders


def refuse_known_people(
    conn: Connection, state: PlanState, digests: Sequence[str], when: str, new: set[str]
) -> None:
    """Refuse a batch in which a person is already an active member, or appears twice."""
    seen: dict[str, int] = {}
    for index, digest in enumerate(digests):
        if digest in seen:
            raise IdentityTakenError(
                index,
                None,
                f"person {index} of the batch has the same identity record "
                f"as person {seen[digest]}; one person joins once",
            )
        seen[digest] = index
    holders = active_holders(conn, state, digests, when, new)
    for index, digest in enumerate(digests):
        if digest in holders:
            member, joined = holders[digest]
            where = f"person {index} of the batch" if len(digests) > 1 else "this person"
            raise IdentityTakenError(
                index,
                member,
                f"{where} is already a member, {member} (joined {joined}); one person joins once",
            )
