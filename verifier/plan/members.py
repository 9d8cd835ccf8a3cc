"""Members, jurors and the wind-down, replayed (specs/plan.md §3 ``plan.wound_down``, §4).

:class:`MemberRoll` holds who joined, who left and who sits as a juror, in log
order, and checks each entry of those types; every failure names its rule by the
id of specs/plan.md §10.
"""

from __future__ import annotations

import base64

from verifier.entry import Entry
from verifier.plan.claims import WindDown
from verifier.plan.records import DAY, Body, MemberRecord, show_time
from verifier.plan.roster import MemberTable
from verifier.plan.rules import AGE_BANDS, Rules, check_rules_version

JOINED_KEYS = ("member", "age_band", "identity_commitment")
LEFT_KEYS = ("member",)
ENROLLED_KEYS = ("member", "juror_key")
WOUND_DOWN_KEYS = ("claims_until", "rules_version")


class MemberRoll:
    """Every member, the enrolled jurors still active, each juror key's owner, the wind-down."""

    def __init__(self) -> None:
        self.members = MemberTable()
        self.jurors: set[str] = set()
        """Enrolled jurors still active: the candidates for a pool (§6)."""
        self.juror_keys: dict[str, str] = {}
        """Juror key (base64) -> the member it was enrolled for (§4.4: one key, one juror)."""
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
        """§4.1: a new id, an age band of §2, a commitment; not after a wind-down."""
        del rules
        body = Body(entry, JOINED_KEYS)
        member = body.member("member")
        band = body.text("age_band")
        body.hex64("identity_commitment")  # checked; the commitment stays in the entry
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
        self.members.add(member, entry.seq, t, band)

    def left(self, entry: Entry, t: int, rules: Rules) -> None:
        """§4.2: the member is active."""
        del rules
        body = Body(entry, LEFT_KEYS)
        record = self._active(body, "member.left.active")
        self.members.leave(record.member, entry.seq, t)
        self.jurors.discard(record.member)

    def enrolled(self, entry: Entry, t: int, rules: Rules) -> None:
        """§4.4: active, no juror key yet, joined juror_tenure_days before, a key no one holds."""
        body = Body(entry, ENROLLED_KEYS)
        member = body.member("member")
        key = base64.b64encode(body.b64("juror_key", 32)).decode("ascii")
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
        owner = self.juror_keys.get(key)
        if owner is not None:
            body.fail(
                "juror.enrolled.key",
                f"expected a juror key no one else holds, found the key enrolled for {owner} "
                f"at seq {self.members[owner].juror_seq}",
            )
        self.members.enrol(record.member, key, entry.seq)
        self.juror_keys[key] = record.member
        self.jurors.add(record.member)

    def _active(self, body: Body, rule: str, member: str | None = None) -> MemberRecord:
        member_id = body.member("member") if member is None else member
        record = self.members.get(member_id)
        if record is None or not record.active:
            why = "who never joined" if record is None else f"who left at seq {record.left_seq}"
            body.fail(rule, f"expected an active member, found {member_id}, {why}")
        return record
