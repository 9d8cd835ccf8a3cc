"""Changing a member's key: rotation, recovery with notice, refusal (specs/plan.md §4.6).

A member rotates their key with a request signed by the key in force; one who lost
it gets a new one through the operator's recovery, which takes force only after the
rules' notice, so the old key's holder can refuse it on the log meanwhile. Every new
key proves it is held (requests.md §3.2) and is no key anyone has held.
"""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING

from ledger.domain.errors import RuleError
from ledger.domain.fields import Body
from ledger.domain.model import Member
from ledger.domain.requests import check_signed, member_key_message, note_request, verifies
from ledger.domain.rules import Rules, add_days, check_applied
from ledger.log.entry import Entry

if TYPE_CHECKING:
    from ledger.domain.state import PlanState

ROTATED_KEYS = ("member", "member_key", "key_signature", "request", "signature")
RECOVERY_KEYS = ("member", "member_key", "key_signature", "effective", "rules_version")
REFUSED_KEYS = ("member", "recovery", "request", "signature")


def key_rotated(state: PlanState, entry: Entry, rules: Rules) -> None:
    """§4.6: signed by the key in force; the new key is new and proves it is held."""
    del rules
    body = Body(entry, ROTATED_KEYS)
    member_id = body.member()
    key, proof = _new_key(body)
    member = _active(state, member_id, entry.time)
    request = check_signed(state, body, member_id)
    _check_new_key(state, member, key, proof)
    note_request(state, request, entry.seq)
    member.settle(entry.time)
    member.member_key = key
    member.recovery_key = member.recovery_effective = None  # a pending recovery is void
    state.name_key(member, key, entry.seq)


def key_recovery(state: PlanState, entry: Entry, rules: Rules) -> None:
    """§4.6: one pending at a time, in force after the rules' notice; a new, proven key."""
    body = Body(entry, RECOVERY_KEYS)
    member_id = body.member()
    key, proof = _new_key(body)
    effective = body.time("effective")
    check_applied(body, rules)
    member = _active(state, member_id, entry.time)
    if member.recovery_pending_at(entry.time):
        raise RuleError(
            "member.key_recovery.pending",
            f"expected no recovery of {member.id} pending, found the one at seq "
            f"{member.recovery_seq}, in force from {member.recovery_effective}",
        )
    earliest = add_days(entry.time, rules.notice_days)
    if effective < earliest:
        raise RuleError(
            "member.key_recovery.notice",
            f"expected the recovery in force at or after {earliest} ({rules.notice_days} days' "
            f"notice), found {effective}",
        )
    _check_new_key(state, member, key, proof)
    member.settle(entry.time)
    member.recovery_key = key
    member.recovery_effective = effective
    member.recovery_seq = entry.seq
    state.name_key(member, key, entry.seq)


def key_recovery_refused(state: PlanState, entry: Entry, rules: Rules) -> None:
    """§4.6: by the key in force, against the member's recovery still pending."""
    del rules
    body = Body(entry, REFUSED_KEYS)
    member_id = body.member()
    recovery = body.integer("recovery")
    member = _active(state, member_id, entry.time)
    request = check_signed(state, body, member_id)
    if recovery != member.recovery_seq or not member.recovery_pending_at(entry.time):
        raise RuleError(
            "member.key_recovery_refused.pending",
            f"expected a recovery of {member.id} still pending, found none at seq {recovery}",
        )
    note_request(state, request, entry.seq)
    member.recovery_key = member.recovery_effective = None


def _new_key(body: Body) -> tuple[str, bytes]:
    key = base64.b64encode(body.b64("member_key", 32)).decode()
    return key, body.b64("key_signature", 64)


def _active(state: PlanState, member_id: str, time: str) -> Member:
    return state.active_member(member_id, time, "member.key.active")


def _check_new_key(state: PlanState, member: Member, key: str, proof: bytes) -> None:
    holder = state.key_holder(key)
    if holder is not None:
        raise RuleError(
            "member.key.new", f"expected a key no one has held, found a key of {holder}"
        )
    if not verifies(key, proof, member_key_message(state.origin, member.id, key)):
        raise RuleError(
            "member.key.proof",
            f"expected key_signature by the new key {key}, found one that does not verify",
        )
