"""Claims from filing to appeal, replayed (specs/plan.md §5.1-§5.5).

:class:`ClaimBook` holds every claim and checks each claim entry at time t against
R, the rules in force at t, and the state the earlier entries imply. Decisions,
payments and reversals (§5.8-§5.10) are :mod:`verifier.plan.decisions`; the pool,
draw and votes (§6-§7) :mod:`verifier.plan.panel`. Every failure names its rule by
the id of specs/plan.md §10.

Readings where specs/plan.md leaves a choice:

- "active" is read in log order: a member is active from their ``member.joined``
  entry until their ``member.left`` entry;
- a claim keeps the ``kind`` and ``category`` its condition had in the rules in
  force when it was filed (§2 fixes a code's kind across versions); the benefit caps
  come from the rules in force at the assessment (§5.2) and at the decision (§5.8,
  a panel overturning a denial);
- the pool is fixed at the appeal (§6: "the pool is therefore fixed before any
  randomness exists"), so an objection filed after the appeal does not change it;
- no appeal, pool signature, draw or vote is accepted once the claim is decided.

Filing, objecting and appealing are member actions (§4.5), signed or assisted: their
form, actor and request are checked first (:mod:`verifier.plan.actions`), then the
rules of this module, so every value of the body is read before ``claim.known``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from verifier.entry import Entry
from verifier.note import Verifier
from verifier.plan.actions import Requests, read_form
from verifier.plan.panel import (
    DRAWN_KEYS,
    POOLED_KEYS,
    VOTE_KEYS,
    check_draw,
    check_pooled,
    check_vote,
)
from verifier.plan.records import (
    DAY,
    Body,
    ClaimRecord,
    MemberRecord,
    format_time,
    show_time,
)
from verifier.plan.rules import Rules, check_rules_version

FILED_KEYS = ("member", "condition", "amount_fen", "diagnosed", "evidence_commitment")
ASSESSED_KEYS = ("claim", "decision", "amount_fen", "reason", "report_commitment", "rules_version")
DISCLOSED_KEYS = (
    "claim",
    "age_band",
    "category",
    "amount_fen",
    "days_since_joining",
    "objections_close",
)
OBJECTED_KEYS = ("claim", "objector", "reason_hash")
APPEALED_KEYS = ("claim", "appellant", "secret_commitment")


@dataclass(frozen=True)
class WindDown:
    """The plan's ``plan.wound_down`` (§3): when, and until when claims may be filed."""

    seq: int
    at: str
    at_s: int
    claims_until: str
    claims_until_s: int


class ClaimBook:
    """Every claim on the log, and the checks of §5-§7 (see the module doc).

    ``members`` and ``jurors`` (the ids of enrolled jurors still active) are the
    replay's own, shared by reference and kept current by it; so is ``requests``,
    which checks the member actions' signatures and request numbers.
    """

    def __init__(
        self,
        origin: str,
        key: Verifier,
        members: Mapping[str, MemberRecord],
        jurors: set[str],
        requests: Requests,
    ) -> None:
        self.requests = requests
        self.origin = origin
        self.key = key
        self.members = members
        self.jurors = jurors
        self.claims: dict[str, ClaimRecord] = {}
        self.wind_down: WindDown | None = None
        self.paid_in: dict[str, list[tuple[str, int]]] = {}
        """Period id -> (claim, amount) of its payments, in log order (§8.2)."""
        self.recovered_in: dict[str, int] = {}
        """Period id -> Σ recovered_fen of the reversals credited to it (§5.10)."""
        self.reversals_in: dict[str, list[tuple[str, int]]] = {}
        """Period id -> (claim, recovered_fen) of the reversals credited to it, in log order."""
        self.diagnoses: dict[tuple[str, str, str], list[str]] = {}
        """(member, condition, diagnosed) -> the claims filed for it, in log order (§5.1)."""

    # -- helpers -------------------------------------------------------------------

    def claim_of(self, body: Body, claim_id: str | None = None) -> ClaimRecord:
        """The claim the body names (``claim.known``), with this entry added to its history.

        ``claim_id`` is the body's claim if already read.
        """
        if claim_id is None:
            claim_id = body.claim("claim")
        claim = self.claims.get(claim_id)
        if claim is None:
            body.fail(
                "claim.known",
                f"expected a claim filed earlier on the log (c-<seq of its claim.filed>), "
                f"found {claim_id}",
            )
        claim.history.append((body.entry.seq, body.entry.type))
        return claim

    def active(self, body: Body, member_id: str, key: str, rule: str) -> MemberRecord:
        """The member ``member_id`` named as ``key``, who must be active (else ``rule``)."""
        record = self.members.get(member_id)
        if record is None:
            body.fail(
                rule, f"expected an active member as {key}, found {member_id}, who never joined"
            )
        if not record.active:
            body.fail(
                rule,
                f"expected an active member as {key}, found {member_id}, who left at seq "
                f"{record.left_seq} ({record.left_at})",
            )
        return record

    @staticmethod
    def disclosed_close(body: Body, claim: ClaimRecord, rule: str) -> int:
        """The claim's ``objections_close`` in seconds; ``rule`` if it is not disclosed."""
        if claim.objections_close_s is None:
            body.fail(
                rule, f"expected {claim.claim} to be disclosed first, found it {claim.status}"
            )
        return claim.objections_close_s

    # -- §5.1 filed ----------------------------------------------------------------

    def filed(self, entry: Entry, t: int, rules: Rules) -> ClaimRecord:
        """§5.1: an active member, a covered condition, in cover, once per diagnosis."""
        body, signed = read_form(entry, FILED_KEYS, {})
        member_id, code = body.member("member"), body.text("condition")
        amount = body.integer("amount_fen")
        diagnosed, diagnosed_s = body.time("diagnosed")
        body.hex64("evidence_commitment")
        action = self.requests.check(body, signed, member_id, rules)
        member = self.active(body, member_id, "member", "claim.filed.member")
        condition = rules.conditions.get(code)
        if condition is None:
            body.fail(
                "claim.filed.condition",
                f"expected a condition on the list of rules version {rules.version} "
                f"({', '.join(sorted(rules.conditions))}), found {code!r}",
            )
        if amount <= 0:
            body.fail("claim.filed.amount", f"expected amount_fen > 0, found {amount}")
        if diagnosed_s > t:
            body.fail(
                "claim.filed.diagnosed",
                f"expected diagnosed <= the filing time {entry.time}, found {diagnosed}",
            )
        if diagnosed_s < member.joined_s:
            body.fail(
                "claim.filed.joined",
                f"expected a diagnosis (or accident) at or after the member joined "
                f"({member.joined_at}), found {diagnosed}",
            )
        cover_s = member.joined_s + rules.waiting_days * DAY
        if condition.kind != "accident" and diagnosed_s < cover_s:
            body.fail(
                "claim.filed.waiting",
                f"expected diagnosed >= join time {member.joined_at} + waiting_days "
                f"{rules.waiting_days} = {show_time(cover_s)} for a {condition.kind} "
                f"condition ({code}), found {diagnosed}",
            )
        self._once_per_diagnosis(body, member.member, code, diagnosed)
        self._before_wind_down(body, t, diagnosed_s, diagnosed)
        claim = ClaimRecord(
            claim=f"c-{entry.seq}",
            seq=entry.seq,
            member=member.member,
            condition=code,
            kind=condition.kind,
            category=condition.category,
            claimed_fen=amount,
            diagnosed=diagnosed,
            filed_at=entry.time,
            filed_s=t,
            history=[(entry.seq, entry.type)],
        )
        self.claims[claim.claim] = claim
        self.diagnoses.setdefault((claim.member, code, diagnosed), []).append(claim.claim)
        self.requests.accept(action)
        return claim

    def _once_per_diagnosis(self, body: Body, member: str, code: str, diagnosed: str) -> None:
        for earlier_id in self.diagnoses.get((member, code, diagnosed), []):
            earlier = self.claims[earlier_id]
            if earlier.outcome != "denied":
                body.fail(
                    "claim.filed.duplicate",
                    f"expected one claim per diagnosis unless denied; {earlier_id} (seq "
                    f"{earlier.seq}) for {member}, {code}, diagnosed {diagnosed} is "
                    f"{earlier.status}",
                )

    def _before_wind_down(self, body: Body, t: int, diagnosed_s: int, diagnosed: str) -> None:
        wind = self.wind_down
        if wind is None:
            return
        if t > wind.claims_until_s:
            body.fail(
                "claim.filed.wound_down",
                f"expected a claim filed by claims_until {wind.claims_until} of the "
                f"wind-down at seq {wind.seq}, found one at {body.entry.time}",
            )
        if diagnosed_s >= wind.at_s:
            body.fail(
                "claim.filed.wound_down",
                f"expected diagnosed before the wind-down at {wind.at} (seq {wind.seq}), "
                f"found {diagnosed}",
            )

    # -- §5.2 assessed -------------------------------------------------------------

    def assessed(self, entry: Entry, t: int, rules: Rules) -> ClaimRecord:
        """§5.2: once; approve up to the claimed amount and the benefit, or deny with a reason."""
        del t
        body = Body(entry, ASSESSED_KEYS)
        claim = self.claim_of(body)
        decision = body.choice("decision", ("approve", "deny"))
        amount, reason = body.integer("amount_fen"), body.text("reason")
        body.hex64("report_commitment")
        check_rules_version(body, rules)
        if claim.decision is not None:
            body.fail(
                "claim.assessed.twice",
                f"expected {claim.claim} not yet assessed, found it assessed {claim.decision}",
            )
        if decision == "approve":
            band = self.members[claim.member].age_band
            benefit = rules.benefit(claim.kind, band)
            cap = min(claim.claimed_fen, benefit)
            if not 0 < amount <= cap:
                body.fail(
                    "claim.assessed.amount",
                    f"expected 0 < amount_fen <= {cap} (claimed {claim.claimed_fen}, benefit "
                    f"{benefit} for a {claim.kind} condition, band {band}), found {amount}",
                )
        else:
            if amount != 0:
                body.fail(
                    "claim.assessed.amount", f"expected amount_fen 0 for a denial, found {amount}"
                )
            if not reason:
                body.fail("claim.assessed.reason", "expected a reason for a denial, found ''")
        claim.decision = decision
        claim.assessed_fen = amount
        return claim

    # -- §5.3 disclosed ------------------------------------------------------------

    def disclosed(self, entry: Entry, t: int, rules: Rules) -> ClaimRecord:
        """§5.3: the coarse fields are what the log says; objections close in objection_days."""
        body = Body(entry, DISCLOSED_KEYS)
        claim = self.claim_of(body)
        if claim.decision is None:
            body.fail(
                "claim.disclosed.order", f"expected {claim.claim} assessed first, found it filed"
            )
        if claim.disclosed_at is not None:
            body.fail(
                "claim.disclosed.twice",
                f"expected {claim.claim} not yet disclosed, found it disclosed at "
                f"{claim.disclosed_at}",
            )
        member = self.members[claim.member]
        close_s = t + rules.objection_days * DAY
        close = format_time(close_s)
        for key, expected in (
            ("age_band", member.age_band),
            ("category", claim.category),
            ("amount_fen", claim.assessed_fen),
            ("days_since_joining", (claim.filed_s - member.joined_s) // DAY),
            ("objections_close", close),
        ):
            body.same("claim.disclosed.fields", key, expected)
        assert close is not None  # body.same refused a close past year 9999
        claim.disclosed_at = entry.time
        claim.objections_close = close
        claim.objections_close_s = close_s
        return claim

    # -- §5.4 objected -------------------------------------------------------------

    def objected(self, entry: Entry, t: int, rules: Rules) -> ClaimRecord:
        """§5.4: before objections close, by an active member other than the claimant, once."""
        body, signed = read_form(entry, OBJECTED_KEYS, {})
        claim_id = body.claim("claim")
        objector_id = body.member("objector")
        body.hex64("reason_hash")
        action = self.requests.check(body, signed, objector_id, rules)
        claim = self.claim_of(body, claim_id)
        close_s = self.disclosed_close(body, claim, "claim.objected.order")
        if t >= close_s:
            body.fail(
                "claim.objected.window",
                f"expected a time before objections_close {claim.objections_close}, "
                f"found {entry.time}",
            )
        objector = self.active(body, objector_id, "objector", "claim.objected.objector")
        if objector.member == claim.member:
            body.fail(
                "claim.objected.objector",
                f"expected an objector other than the claimant, found the claimant {claim.member}",
            )
        if objector.member in claim.objectors:
            body.fail(
                "claim.objected.twice",
                f"expected one objection per member, found a second one by {objector.member}",
            )
        claim.objectors.append(objector.member)
        self.requests.accept(action)
        return claim

    # -- §5.5 appealed -------------------------------------------------------------

    def appealed(self, entry: Entry, t: int, rules: Rules) -> ClaimRecord:
        """§5.5: once, in time, by the right member; fixes the pool of the draw (§6)."""
        body, signed = read_form(entry, APPEALED_KEYS, {})
        claim_id = body.claim("claim")
        appellant_id = body.member("appellant")
        commitment = body.hex64("secret_commitment")
        action = self.requests.check(body, signed, appellant_id, rules)
        claim = self.claim_of(body, claim_id)
        close_s = self.disclosed_close(body, claim, "claim.appealed.order")
        if claim.outcome is not None:
            body.fail(
                "claim.appealed.order",
                f"expected {claim.claim} undecided, found it decided {claim.outcome}",
            )
        if claim.appellant is not None:
            body.fail(
                "claim.appealed.twice",
                f"expected {claim.claim} not appealed before, found an appeal by {claim.appellant}",
            )
        until_s = close_s + rules.appeal_days * DAY
        if t >= until_s:
            body.fail(
                "claim.appealed.window",
                f"expected a time before objections_close {claim.objections_close} + "
                f"appeal_days {rules.appeal_days} = {show_time(until_s)}, found {entry.time}",
            )
        appellant = self.active(body, appellant_id, "appellant", "claim.appealed.appellant")
        allowed = [claim.member] if claim.decision == "deny" else claim.objectors
        if appellant.member not in allowed:
            who = "the claimant" if claim.decision == "deny" else "an objector"
            body.fail(
                "claim.appealed.appellant",
                f"expected {who} ({', '.join(allowed) or 'none'}) to appeal this "
                f"{claim.decision}, found {appellant.member}",
            )
        claim.secret_commitment = commitment
        claim.appellant = appellant.member
        claim.appealed_s = t
        claim.appeal_due_s = t + rules.reveal_days * DAY
        claim.panel_size = rules.panel_size
        excluded = {claim.member, *claim.objectors}
        claim.pool = sorted(j for j in self.jurors if j not in excluded)
        self.requests.accept(action)
        return claim

    # -- §6 panel.pooled and panel.drawn, §7 vote.cast (in verifier.plan.panel) -------

    def pooled(self, entry: Entry, t: int, rules: Rules) -> ClaimRecord:
        """§5.6 and §6: the pool fixed at the appeal, signed with the log's key, in time."""
        body = Body(entry, POOLED_KEYS)
        claim = self.claim_of(body)
        check_pooled(body, claim, t, rules, self.origin, self.key)
        return claim

    def drawn(self, entry: Entry, t: int, rules: Rules) -> ClaimRecord:
        """§5.6 and §6: re-run the whole draw from the pooled entry and the secret."""
        body = Body(entry, DRAWN_KEYS)
        claim = self.claim_of(body)
        check_draw(body, claim, t, rules)
        return claim

    def vote(self, entry: Entry, t: int, rules: Rules) -> ClaimRecord:
        """§7: a drawn juror, as themself, once, before voting closes, signed with their key."""
        del rules
        body = Body(entry, VOTE_KEYS)
        claim = self.claim_of(body)
        check_vote(body, claim, t, self.members, self.origin)
        return claim
