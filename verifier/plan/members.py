"""Members, jurors and the wind-down, replayed (specs/plan.md §3 ``plan.wound_down``, §4).

:class:`MemberRoll` holds who joined, who left and who sits as a juror, in log
order, and checks each entry of those types; every failure names its rule by the
id of specs/plan.md §10.

Keys (specs/requests.md): a keyed join names the member's own key, held by no other
member and no juror (``member.joined.key``): no key a member holds, held before a
rotation, or has pending from a recovery (§4.6), either; and signs the join request with it
(``member.joined.signature``). A juror key is no member's key either
(``juror.enrolled.key``), and a signed enrolment carries the juror key's own
signature (``juror.enrolled.signature``). ``member.left`` and ``juror.enrolled``
are member actions, signed or assisted (:mod:`verifier.plan.actions`).

Order of the checks of a join, when several fail: the form (``entry.keys``,
``entry.value``), ``member.joined.new``, ``member.joined.age_band``,
``member.joined.wound_down``, ``request.required``, ``member.joined.key``,
``member.joined.signature``. Of an enrolment: the form, the actor and the request
(:mod:`verifier.plan.actions`), then ``juror.enrolled.active``, ``.twice``,
``.tenure``, ``.key``, ``.signature``.
"""

from __future__ import annotations

from verifier.b64 import encode
from verifier.entry import Entry
from verifier.plan.actions import Requests, read_form
from verifier.plan.claims import WindDown
from verifier.plan.errors import RequestError
from verifier.plan.records import DAY, Body, MemberRecord, show_time
from verifier.plan.requests import verify_juror_key
from verifier.plan.rules import AGE_BANDS, Rules, check_rules_version

JOINED_KEYS = ("member", "age_band", "identity_commitment")
KEYED_JOIN = {"member_key": 32}
"""What a keyed join has beside ``request`` and ``signature`` (§4.1): the key's bytes."""
LEFT_KEYS = ("member",)
ENROLLED_KEYS = ("member", "juror_key")
SIGNED_ENROLMENT = {"juror_signature": 64}
"""What a signed enrolment has beside ``request`` and ``signature`` (§4.4)."""
WOUND_DOWN_KEYS = ("claims_until", "rules_version")


class MemberRoll:
    """Every member, the enrolled jurors still active, the wind-down.

    Who holds each member and juror key is the roster's (:meth:`MemberTable.key_owner`).
    """

    def __init__(self, requests: Requests) -> None:
        self.requests = requests
        self.members = requests.members
        self.jurors: set[str] = set()
        """Enrolled jurors still active: the candidates for a pool (§6)."""
        self.wind_down: WindDown | None = None

    def wound_down(self, entry: Entry, t: int, rules: Rules) -> WindDown:
        """§3: once; claims diagnosed before it may be filed until ``claims_until``."""
        body = Body(entry, WOUND_DOWN_KEYS)
        until, until_s = body.time("claims_until")
        check_rules_version(body, rules)
        if self.wind_down is not None:
            body.fail(
                "plan.wound_down.once",
                f"expected one wind-down, found a second after seq {self.wind_down.seq}",
            )
        if until_s < t:
            body.fail(
                "plan.wound_down.claims_until",
                f"expected claims_until >= the entry's time {entry.time}, found {until}",
            )
        self.wind_down = WindDown(entry.seq, entry.time, t, until, until_s)
        return self.wind_down

    def joined(self, entry: Entry, t: int, rules: Rules) -> None:
        """§4.1: a new id, an age band of §2, a commitment; not after a wind-down; a keyed
        join's key is no one else's and signed the join request."""
        body, keyed = read_form(entry, JOINED_KEYS, KEYED_JOIN)
        member = body.member("member")
        band = body.text("age_band")
        body.hex64("identity_commitment")  # checked; the commitment stays in the entry
        key = body.b64("member_key", 32) if keyed else None
        if member in self.members:
            body.fail(
                "member.joined.new",
                f"expected a new member id, found {member}, who joined at seq "
                f"{self.members[member].joined_seq}",
            )
        if band not in AGE_BANDS:
            body.fail(
                "member.joined.age_band",
                f"expected an age band of {', '.join(AGE_BANDS)} (members over 59 cannot join), "
                f"found {band!r}",
            )
        if self.wind_down is not None:
            body.fail(
                "member.joined.wound_down",
                f"expected no joins after the wind-down at seq {self.wind_down.seq}, "
                f"found {member} joining",
            )
        if key is None:
            self.requests.require(body, rules, f"a join of {member} without a member key")
            self.members.add(member, entry.seq, t, band)
            return
        self._new_key(body, key, "member.joined.key", "member key")

        def detail() -> str:
            return (
                f"expected the join request signed with its own member_key {encode(key)} "
                f"(proof that {member} holds it), found a signature that does not verify"
            )

        self.requests.signatures.expect(
            body, key, self.requests.origin, "member.joined.signature", detail
        )
        self.members.add(member, entry.seq, t, band, key=key, request=body.integer("request"))

    def _new_key(self, body: Body, key: bytes, rule: str, what: str) -> None:
        """Refuse by ``rule`` a ``key`` some member or juror holds already, or a member
        held or has pending (requests.md §1, plan.md §4.6)."""
        held = self.members.key_owner(key)
        if held is not None:
            kind, o = held
            owner = self.members.record(o)
            where = (
                f"joined at seq {owner.joined_seq}; a key they hold, held or have pending"
                if kind == "member"
                else f"seq {owner.juror_seq}"
            )
            body.fail(
                rule,
                f"expected a {what} no one else holds, found {encode(key)}, a {kind} key of "
                f"{owner.member} ({where})",
            )

    def left(self, entry: Entry, t: int, rules: Rules) -> None:
        """§4.2: the member is active."""
        body, signed = read_form(entry, LEFT_KEYS, {})
        member = body.member("member")
        action = self.requests.check(body, signed, member, rules)
        record = self._active(body, "member.left.active", member)
        self.members.leave(record.member, entry.seq, t)
        self.jurors.discard(record.member)
        self.requests.accept(action)

    def enrolled(self, entry: Entry, t: int, rules: Rules) -> None:
        """§4.4: active, no juror key yet, joined juror_tenure_days before, a key no one
        holds; a signed enrolment's juror key signed it too."""
        body, signed = read_form(entry, ENROLLED_KEYS, SIGNED_ENROLMENT)
        member = body.member("member")
        raw = body.b64("juror_key", 32)
        action = self.requests.check(body, signed, member, rules)
        record = self._active(body, "juror.enrolled.active", member)
        if record.juror_key is not None:
            body.fail(
                "juror.enrolled.twice",
                f"expected a member without a juror key, found {record.member} enrolled at "
                f"seq {record.juror_seq}",
            )
        tenure_s = record.joined_s + rules.juror_tenure_days * DAY
        if t < tenure_s:
            body.fail(
                "juror.enrolled.tenure",
                f"expected enrolment at or after join time {record.joined_at} + "
                f"juror_tenure_days {rules.juror_tenure_days} = {show_time(tenure_s)}, "
                f"found {entry.time}",
            )
        self._new_key(body, raw, "juror.enrolled.key", "juror key")
        key = encode(raw)
        if signed:
            try:
                verify_juror_key(self.requests.origin, member, key, body.text("juror_signature"))
            except RequestError:
                body.fail(
                    "juror.enrolled.signature",
                    f"expected juror_signature by the juror key {key} over its enrolment for "
                    f"{member} (requests.md §3.1), found one that does not verify",
                )
        self.members.enrol(record.member, key, entry.seq, raw)
        self.jurors.add(record.member)
        self.requests.accept(action)

    def _active(self, body: Body, rule: str, member: str | None = None) -> MemberRecord:
        member_id = body.member("member") if member is None else member
        record = self.members.get(member_id)
        if record is None or not record.active:
            why = "who never joined" if record is None else f"who left at seq {record.left_seq}"
            body.fail(rule, f"expected an active member, found {member_id}, {why}")
        return record
