"""Who may join, leave and sit on panels (specs/plan.md §3 wind-down, §4)."""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING

from ledger.domain.errors import RuleError
from ledger.domain.fields import Body
from ledger.domain.model import Member, WindDown
from ledger.domain.requests import (
    REQUIRED,
    body_keys,
    check_request,
    is_signed,
    juror_key_message,
    note_request,
    request_message,
    verifies,
)
from ledger.domain.rules import AGE_BANDS, Rules, add_days, check_applied
from ledger.log.entry import Entry

if TYPE_CHECKING:
    from ledger.domain.state import PlanState

WOUND_DOWN_KEYS = ("claims_until", "rules_version")
JOINED_KEYS = ("member", "age_band", "identity_commitment")
LEFT_KEYS = ("member",)
ENROLLED_KEYS = ("member", "juror_key")


def wound_down(state: PlanState, entry: Entry, rules: Rules) -> None:
    """§3 ``plan.wound_down``: once; claims may be filed until ``claims_until``."""
    body = Body(entry, WOUND_DOWN_KEYS)
    check_applied(body, rules)
    until = body.time("claims_until")
    if state.wound_down is not None:
        raise RuleError(
            "plan.wound_down.once",
            f"expected one wind-down, found a second after the one at seq {state.wound_down.seq}",
        )
    if until < entry.time:
        raise RuleError(
            "plan.wound_down.claims_until",
            f"expected claims_until at or after the wind-down ({entry.time}), found {until}",
        )
    state.wound_down = WindDown(entry.seq, entry.time, until)


def joined(state: PlanState, entry: Entry, rules: Rules) -> None:
    """§4.1: a new id, an age band of §2, a commitment; not after a wind-down; a keyed
    join names a key no one holds and proves it holds it."""
    body = Body(entry, body_keys(entry.type, entry.body, JOINED_KEYS))
    member = body.member()
    band = body.text("age_band")
    body.hex64("identity_commitment")
    keyed = is_signed(entry.body)
    if keyed:
        key = base64.b64encode(body.b64("member_key", 32)).decode()
        number = body.integer("request")
        signature = body.b64("signature", 64)
    if state.member(member) is not None:
        raise RuleError("member.joined.new", f"member {member} has already joined")
    if band not in AGE_BANDS:
        raise RuleError(
            "member.joined.age_band", f"expected an age band of {AGE_BANDS}, found {band!r}"
        )
    if state.wound_down is not None:
        raise RuleError(
            "member.joined.wound_down",
            f"expected no joins after the wind-down at seq {state.wound_down.seq}, "
            f"found {member} joining",
        )
    if not keyed:
        if rules.member_signatures == REQUIRED:
            raise RuleError(
                "request.required",
                f"expected a keyed join (rules version {rules.version} requires member "
                f"signatures), found {member} joining without a key",
            )
        state.add_member(Member(member, band, entry.time, joined_seq=entry.seq))
        return
    holder = state.key_holder(key)
    if holder is not None:
        raise RuleError(
            "member.joined.key",
            f"expected a member key no one holds, found the key of {holder}",
        )
    message = request_message(state.origin, entry.type, entry.body)
    if not verifies(key, signature, message):
        raise RuleError(
            "member.joined.signature",
            f"expected {member}'s join signed with the key it names ({key}), found a signature "
            "that does not verify",
        )
    new = Member(member, band, entry.time, joined_seq=entry.seq, member_key=key)
    state.add_member(new)
    state.note_request(new, number, entry.seq)


def left(state: PlanState, entry: Entry, rules: Rules) -> None:
    """§4.2: the member is active (§4.5: signed by them, or assisted where allowed)."""
    body = Body(entry, body_keys(entry.type, entry.body, LEFT_KEYS))
    member_id = body.member()
    request = check_request(state, body, rules, member_id)
    member = state.active_member(member_id, entry.time, "member.left.active")
    note_request(state, request, entry.seq)
    state.leave(member, entry.time, entry.seq)


def juror_enrolled(state: PlanState, entry: Entry, rules: Rules) -> None:
    """§4.4: active, not enrolled, tenure served, and a key no one else holds."""
    body = Body(entry, body_keys(entry.type, entry.body, ENROLLED_KEYS))
    member_id = body.member()
    key = base64.b64encode(body.b64("juror_key", 32)).decode()
    key_signature = body.b64("juror_signature", 64) if is_signed(entry.body) else None
    request = check_request(state, body, rules, member_id)
    member = state.active_member(member_id, entry.time, "juror.enrolled.active")
    if member.juror_key is not None:
        raise RuleError(
            "juror.enrolled.twice",
            f"expected a member without a juror key, found {member.id} enrolled at seq "
            f"{member.juror_seq}",
        )
    tenure = add_days(member.joined, rules.juror_tenure_days)
    if entry.time < tenure:
        raise RuleError(
            "juror.enrolled.tenure",
            f"member {member.id} may enrol from {tenure} ({rules.juror_tenure_days} days "
            f"after joining), not {entry.time}",
        )
    owner = state.key_holder(key)
    if owner is not None:
        raise RuleError(
            "juror.enrolled.key",
            f"expected a juror key no one holds, found the key held by {owner}",
        )
    if key_signature is not None and not verifies(
        key, key_signature, juror_key_message(state.origin, member.id, key)
    ):
        raise RuleError(
            "juror.enrolled.signature",
            f"expected juror_signature by the juror key {key}, found one that does not verify",
        )
    note_request(state, request, entry.seq)
    state.enrol_juror(member, key, entry.seq)
