"""Changing a member's key, replayed (specs/plan.md §4.6, specs/requests.md §3.2).

A member's **key in force** at t is the key they joined with, replaced by each
rotation before t and by each recovery whose ``effective`` time is t or earlier; it
is the key every member request is checked with (§4.5). The roster keeps it
(:meth:`~verifier.plan.roster.MemberTable.settle` puts due recoveries in force at
each entry's time).

- ``member.key_rotated`` (signed form only, actor ``member:<member>``): the new key
  is in force from the next entry on; a pending recovery of the member is void.
- ``member.key_recovery`` (actor ``operator``): the new key takes force at
  ``effective``, at least ``notice_days`` after the entry, unless the member
  refuses it first; it counts as held from the entry on.
- ``member.key_recovery_refused`` (signed form only, actor ``member:<member>``),
  signed with the key in force (the old key, while the recovery is pending): the
  recovery never takes effect.

A new key is no key any member or juror holds, held or has pending
(``member.key.new``: the roster's key index keeps rotated-away and pending keys,
so a join or an enrolment naming one is refused too), and signed its own message
(``member.key.proof``).

Order of the checks, when several fail, so that both implementations name the same
rule. A rotation: the form (``entry.keys``, ``entry.value``), ``entry.actor``,
``member.key.active``, ``request.signature``, ``request.replay``,
``member.key.new``, ``member.key.proof``. A recovery: the form, ``entry.actor``,
``rules.applied``, ``member.key.active``, ``member.key_recovery.pending``,
``member.key_recovery.notice``, ``member.key.new``, ``member.key.proof``. A refusal:
the form, ``entry.actor``, ``member.key.active``, ``request.signature``,
``request.replay``, ``member.key_recovery_refused.pending``.
"""

from __future__ import annotations

from verifier.b64 import encode
from verifier.entry import Entry
from verifier.plan.actions import Requests
from verifier.plan.errors import RequestError
from verifier.plan.ids import OPERATOR_ACTOR
from verifier.plan.records import DAY, Body, show_time
from verifier.plan.requests import verify_member_key
from verifier.plan.roster import ACTIVE
from verifier.plan.rules import Rules, check_rules_version

ROTATED_KEYS = ("member", "member_key", "key_signature", "request", "signature")
RECOVERY_KEYS = ("member", "member_key", "key_signature", "effective", "rules_version")
REFUSED_KEYS = ("member", "recovery", "request", "signature")


class KeyChanges:
    """Rotations, recoveries and refusals of members' keys, over the roster."""

    def __init__(self, requests: Requests) -> None:
        self.requests = requests
        self.members = requests.members

    def rotated(self, entry: Entry, t: int, rules: Rules) -> None:
        """§4.6: an active member's signed request puts a new key, which they hold, in force."""
        body = Body(entry, ROTATED_KEYS)
        member = body.member("member")
        new = body.b64("member_key", 32)
        body.b64("key_signature", 64)
        body.integer("request")
        body.b64("signature", 64)
        self._member_actor(body, member)
        o = self._active(body, member)
        action = self.requests.verify(body, member)
        self._new_key(body, member, new)
        self.members.rotate(o, new)
        self.requests.accept(action)

    def recovery(self, entry: Entry, t: int, rules: Rules) -> None:
        """§4.6: the operator names a new key for an active member, with notice, once
        at a time; the key is shown to be held."""
        body = Body(entry, RECOVERY_KEYS)
        member = body.member("member")
        new = body.b64("member_key", 32)
        body.b64("key_signature", 64)
        effective, effective_s = body.time("effective")
        body.integer("rules_version", 1)
        if not OPERATOR_ACTOR.fullmatch(entry.actor):
            body.fail(
                "entry.actor",
                f"expected the actor 'operator' or 'operator:<name>' of a key recovery, "
                f"found {entry.actor!r}",
            )
        check_rules_version(body, rules)
        o = self._active(body, member)
        pending = self.members.pending_recovery(o)
        if pending is not None:
            body.fail(
                "member.key_recovery.pending",
                f"expected no other recovery of {member}'s key pending, found the recovery at "
                f"seq {pending.seq}, taking effect at {show_time(pending.effective_s)}",
            )
        earliest = t + rules.notice_days * DAY
        if effective_s < earliest:
            body.fail(
                "member.key_recovery.notice",
                f"expected effective at or after the entry's time {entry.time} + notice_days "
                f"{rules.notice_days} (rules version {rules.version}) = {show_time(earliest)}, "
                f"found {effective}",
            )
        self._new_key(body, member, new)
        self.members.recover(o, entry.seq, new, effective_s)

    def refused(self, entry: Entry, t: int, rules: Rules) -> None:
        """§4.6: the member, with their key in force, refuses their pending recovery."""
        body = Body(entry, REFUSED_KEYS)
        member = body.member("member")
        named = body.integer("recovery")
        body.integer("request")
        body.b64("signature", 64)
        self._member_actor(body, member)
        o = self._active(body, member)
        action = self.requests.verify(body, member)
        pending = self.members.pending_recovery(o)
        if pending is None or pending.seq != named:
            found = (
                f"{member} has no recovery pending at {entry.time}"
                if pending is None
                else f"{member}'s pending recovery is the one at seq {pending.seq}"
            )
            body.fail(
                "member.key_recovery_refused.pending",
                f"expected recovery to be the seq of {member}'s key recovery still pending "
                f"(before its effective time, not refused, not voided by a rotation), found "
                f"{named}: {found}",
            )
        self.members.drop_recovery(o)
        self.requests.accept(action)

    # -- shared checks ------------------------------------------------------------------

    def _member_actor(self, body: Body, member: str) -> None:
        actor = body.entry.actor
        if actor != f"member:{member}":
            body.fail(
                "entry.actor",
                f"expected the actor 'member:{member}' of the member who signed the request "
                f"({body.entry.type} has the signed form only), found {actor!r}",
            )

    def _active(self, body: Body, member: str) -> int:
        o = self.members.ordinal(member)
        if o < 0 or self.members.left_s[o] != ACTIVE:
            why = (
                "who never joined"
                if o < 0
                else f"who left at seq {self.members.record(o).left_seq}"
            )
            body.fail(
                "member.key.active",
                f"expected an active member's key to change, found {member}, {why}",
            )
        return o

    def _new_key(self, body: Body, member: str, raw: bytes) -> None:
        held = self.members.key_owner(raw)
        key = encode(raw)
        if held is not None:
            kind, o = held
            owner = self.members.member_id(o)
            what = "a juror key" if kind == "juror" else "a member key"
            whose = "their own" if owner == member else f"{owner}'s"
            body.fail(
                "member.key.new",
                f"expected a new member key no member or juror holds, held or has pending, "
                f"found {key}, {what} of {whose} (now or before)",
            )
        try:
            verify_member_key(self.requests.origin, member, key, body.text("key_signature"))
        except RequestError:
            body.fail(
                "member.key.proof",
                f"expected key_signature by the new key {key} over its message for {member} "
                f"on the log {self.requests.origin} (requests.md §3.2), found one that does "
                f"not verify",
            )
