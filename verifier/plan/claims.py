"""Claims and their lifecycle, replayed (specs/plan.md §5; the panel's §6-§7 via
:mod:`verifier.plan.panel`).

:class:`ClaimBook` holds every claim and checks each claim entry at time t against
R, the rules in force at t, and the state the earlier entries imply. It re-derives
every field an entry states and compares: the disclosure's coarse fields, the pool
(fixed at the appeal) and its signature (:func:`~verifier.plan.panel.check_pooled`),
the whole draw (:func:`~verifier.plan.panel.check_draw`), each vote
(:func:`~verifier.plan.panel.check_vote`), the decision's outcome, amount, basis and
counts, and the payment's period and amount.

Readings where specs/plan.md leaves a choice (each is reported as an ambiguity):

- "active" is read in log order: a member is active from their ``member.joined``
  entry until their ``member.left`` entry;
- a claim keeps the ``kind`` and ``category`` its condition had in the rules in
  force when it was filed; the benefit caps come from the rules in force at the
  assessment (§5.2) and at the decision (§5.8, a panel overturning a denial);
- the pool is fixed at the appeal (§6: "the pool is therefore fixed before any
  randomness exists"), so an objection filed after the appeal does not change it;
- a wound-down plan accepts a claim at t <= ``claims_until`` whose ``diagnosed``
  is before the ``plan.wound_down`` entry's time;
- no appeal, pool signature, draw or vote is accepted once the claim is decided;
- an appeal that was never pooled, or pooled but never drawn, is decided on the
  assessment once t >= appeal time + ``reveal_days`` (§5.8's "appealed but not
  drawn"), with ``reveal_days`` of the rules in force at the decision.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from verifier.entry import Entry
from verifier.note import Verifier
from verifier.plan.panel import (
    DRAWN_KEYS,
    POOLED_KEYS,
    VOTE_KEYS,
    check_draw,
    check_pooled,
    check_vote,
)
from verifier.plan.periods import period_open_at
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
DECIDED_KEYS = ("claim", "outcome", "amount_fen", "basis", "approve", "deny", "rules_version")
PAID_KEYS = ("claim", "amount_fen", "period")
REVERSED_KEYS = ("claim", "recovered_fen", "reason")

BP = 10_000


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
    replay's own, shared by reference and kept current by it.
    """

    def __init__(
        self,
        origin: str,
        key: Verifier,
        members: Mapping[str, MemberRecord],
        jurors: set[str],
    ) -> None:
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

    # -- helpers -------------------------------------------------------------------

    def _claim(self, body: Body) -> ClaimRecord:
        claim_id = body.claim("claim")
        claim = self.claims.get(claim_id)
        if claim is None:
            body.fail(
                "§3",
                "claim.unknown",
                f"expected a claim filed earlier on the log (c-<seq of its claim.filed>), "
                f"found {claim_id}",
            )
        claim.history.append((body.entry.seq, body.entry.type))
        return claim

    def _active(self, body: Body, key: str, section: str, rule: str) -> MemberRecord:
        member_id = body.member(key)
        record = self.members.get(member_id)
        if record is None:
            body.fail(
                section,
                rule,
                f"expected an active member as {key}, found {member_id}, who never joined",
            )
        if not record.active:
            body.fail(
                section,
                rule,
                f"expected an active member as {key}, found {member_id}, who left at seq "
                f"{record.left_seq} ({record.left_at})",
            )
        return record

    @staticmethod
    def _when(body: Body, secs: int, what: str) -> str:
        text = format_time(secs)
        if text is None:
            body.fail("§3", "time.range", f"{what} falls outside years 0001-9999")
        return text

    def _disclosed(self, body: Body, claim: ClaimRecord, section: str) -> int:
        if claim.objections_close_s is None:
            body.fail(
                section,
                "claim.order",
                f"expected {claim.claim} to be disclosed first, found it {claim.status}",
            )
        return claim.objections_close_s

    @staticmethod
    def _undecided(body: Body, claim: ClaimRecord, section: str) -> None:
        if claim.outcome is not None:
            body.fail(
                section,
                "claim.decided",
                f"expected {claim.claim} undecided, found it decided {claim.outcome}",
            )

    # -- §5.1 filed ----------------------------------------------------------------

    def filed(self, entry: Entry, t: int, rules: Rules) -> ClaimRecord:
        """§5.1: an active member, a covered condition, diagnosed after the waiting period."""
        body = Body(entry, FILED_KEYS)
        member = self._active(body, "member", "§5.1", "filed.member")
        code = body.text("condition")
        condition = rules.conditions.get(code)
        if condition is None:
            body.fail(
                "§5.1",
                "filed.condition",
                f"expected a condition on the list of rules version {rules.version} "
                f"({', '.join(sorted(rules.conditions))}), found {code!r}",
            )
        amount = body.integer("amount_fen")
        if amount <= 0:
            body.fail("§5.1", "filed.amount", f"expected amount_fen > 0, found {amount}")
        diagnosed, diagnosed_s = body.time("diagnosed")
        if diagnosed_s > t:
            body.fail(
                "§5.1",
                "filed.diagnosed",
                f"expected diagnosed <= the filing time {entry.time}, found {diagnosed}",
            )
        cover_s = member.joined_s + rules.waiting_days * DAY
        if condition.kind != "accident" and diagnosed_s < cover_s:
            body.fail(
                "§5.1",
                "filed.waiting",
                f"expected diagnosed >= join time {member.joined_at} + waiting_days "
                f"{rules.waiting_days} = {show_time(cover_s)} for a {condition.kind} "
                f"condition ({code}), found {diagnosed}",
            )
        body.hex64("evidence_commitment")
        wind = self.wind_down
        if wind is not None:
            if t > wind.claims_until_s:
                body.fail(
                    "§3",
                    "wound_down.claims_until",
                    f"expected a claim filed by claims_until {wind.claims_until} of the "
                    f"wind-down at seq {wind.seq}, found one at {entry.time}",
                )
            if diagnosed_s >= wind.at_s:
                body.fail(
                    "§3",
                    "wound_down.diagnosed",
                    f"expected diagnosed before the wind-down at {wind.at} (seq {wind.seq}), "
                    f"found {diagnosed}",
                )
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
        return claim

    # -- §5.2 assessed -------------------------------------------------------------

    def assessed(self, entry: Entry, t: int, rules: Rules) -> ClaimRecord:
        """§5.2: once; approve up to the claimed amount and the benefit, or deny with a reason."""
        del t
        body = Body(entry, ASSESSED_KEYS)
        claim = self._claim(body)
        check_rules_version(body, rules)
        if claim.decision is not None:
            body.fail(
                "§5.2",
                "assessed.twice",
                f"expected {claim.claim} not yet assessed, found it "
                f"assessed {claim.decision} already",
            )
        decision = body.choice("decision", ("approve", "deny"), "§5.2")
        amount = body.integer("amount_fen")
        reason = body.text("reason")
        body.hex64("report_commitment")
        if decision == "approve":
            band = self.members[claim.member].age_band
            benefit = rules.benefit(claim.kind, band)
            if benefit is None:
                body.fail(
                    "§5.2",
                    "assessed.benefit",
                    f"expected rules version {rules.version} to have a benefit for the "
                    f"member's age band {band}, found none",
                )
            cap = min(claim.claimed_fen, benefit)
            if not 0 < amount <= cap:
                body.fail(
                    "§5.2",
                    "assessed.amount",
                    f"expected 0 < amount_fen <= {cap} (claimed {claim.claimed_fen}, benefit "
                    f"{benefit} for a {claim.kind} condition, band {band}), found {amount}",
                )
        else:
            if amount != 0:
                body.fail(
                    "§5.2", "assessed.amount", f"expected amount_fen 0 for a denial, found {amount}"
                )
            if not reason:
                body.fail(
                    "§5.2", "assessed.reason", "expected a non-empty reason for a denial, found ''"
                )
        claim.decision = decision
        claim.assessed_fen = amount
        return claim

    # -- §5.3 disclosed ------------------------------------------------------------

    def disclosed(self, entry: Entry, t: int, rules: Rules) -> ClaimRecord:
        """§5.3: the coarse fields are what the log says; objections close in objection_days."""
        body = Body(entry, DISCLOSED_KEYS)
        claim = self._claim(body)
        if claim.decision is None:
            body.fail(
                "§5.3", "claim.order", f"expected {claim.claim} assessed first, found it only filed"
            )
        if claim.disclosed_at is not None:
            body.fail(
                "§5.3",
                "disclosed.twice",
                f"expected {claim.claim} not yet disclosed, "
                f"found it disclosed at {claim.disclosed_at}",
            )
        member = self.members[claim.member]
        body.same("§5.3", "age_band", member.age_band)
        body.same("§5.3", "category", claim.category)
        body.same("§5.3", "amount_fen", claim.assessed_fen)
        days = (claim.filed_s - member.joined_s) // DAY
        body.same("§5.3", "days_since_joining", days)
        close_s = t + rules.objection_days * DAY
        close = self._when(body, close_s, "objections_close")
        body.same("§5.3", "objections_close", close)
        claim.disclosed_at = entry.time
        claim.objections_close = close
        claim.objections_close_s = close_s
        return claim

    # -- §5.4 objected -------------------------------------------------------------

    def objected(self, entry: Entry, t: int, rules: Rules) -> ClaimRecord:
        """§5.4: before objections close, by an active member other than the claimant, once."""
        del rules
        body = Body(entry, OBJECTED_KEYS)
        claim = self._claim(body)
        close_s = self._disclosed(body, claim, "§5.4")
        if t >= close_s:
            body.fail(
                "§5.4",
                "objected.closed",
                f"expected a time before objections_close "
                f"{claim.objections_close}, found {entry.time}",
            )
        objector = self._active(body, "objector", "§5.4", "objected.objector")
        if objector.member == claim.member:
            body.fail(
                "§5.4",
                "objected.claimant",
                f"expected an objector other than the claimant, found the claimant {claim.member}",
            )
        if objector.member in claim.objectors:
            body.fail(
                "§5.4",
                "objected.twice",
                f"expected one objection per member, found a second one by {objector.member}",
            )
        body.hex64("reason_hash")
        claim.objectors.append(objector.member)
        return claim

    # -- §5.5 appealed -------------------------------------------------------------

    def appealed(self, entry: Entry, t: int, rules: Rules) -> ClaimRecord:
        """§5.5: once, in time, by the right member; fixes the pool of the draw (§6)."""
        body = Body(entry, APPEALED_KEYS)
        claim = self._claim(body)
        close_s = self._disclosed(body, claim, "§5.5")
        self._undecided(body, claim, "§5.5")
        if claim.appellant is not None:
            body.fail(
                "§5.5",
                "appealed.twice",
                f"expected {claim.claim} not appealed before, found an appeal by {claim.appellant}",
            )
        until_s = close_s + rules.appeal_days * DAY
        if t >= until_s:
            body.fail(
                "§5.5",
                "appealed.closed",
                f"expected a time before objections_close {claim.objections_close} + "
                f"appeal_days {rules.appeal_days} = {show_time(until_s)}, found {entry.time}",
            )
        appellant = self._active(body, "appellant", "§5.5", "appealed.appellant")
        if claim.decision == "deny" and appellant.member != claim.member:
            body.fail(
                "§5.5",
                "appealed.appellant",
                f"expected the claimant {claim.member} to "
                f"appeal a denial, found {appellant.member}",
            )
        if claim.decision == "approve" and appellant.member not in claim.objectors:
            body.fail(
                "§5.5",
                "appealed.appellant",
                f"expected an objector of {claim.claim} ({', '.join(claim.objectors) or 'none'}) "
                f"to appeal an approval, found {appellant.member}",
            )
        claim.secret_commitment = body.hex64("secret_commitment")
        claim.appellant = appellant.member
        claim.appealed_s = t
        claim.appeal_due_s = t + rules.reveal_days * DAY
        claim.panel_size = rules.panel_size
        excluded = {claim.member, *claim.objectors}
        claim.pool = sorted(j for j in self.jurors if j not in excluded)
        return claim

    # -- §6 panel.pooled and panel.drawn, §7 vote.cast (in verifier.plan.panel) -------

    def pooled(self, entry: Entry, t: int, rules: Rules) -> ClaimRecord:
        """§5.6 and §6: the pool fixed at the appeal, signed with the log's key, in time."""
        body = Body(entry, POOLED_KEYS)
        claim = self._claim(body)
        check_rules_version(body, rules)
        self._undecided(body, claim, "§5.6")
        check_pooled(body, claim, t, rules, self.origin, self.key)
        return claim

    def drawn(self, entry: Entry, t: int, rules: Rules) -> ClaimRecord:
        """§5.6 and §6: re-run the whole draw from the pooled entry and the secret."""
        body = Body(entry, DRAWN_KEYS)
        claim = self._claim(body)
        check_rules_version(body, rules)
        self._undecided(body, claim, "§5.6")
        check_draw(body, claim, t, rules)
        return claim

    def vote(self, entry: Entry, t: int, rules: Rules) -> ClaimRecord:
        """§7: a drawn juror, as themself, once, before voting closes, signed with their key."""
        del rules
        body = Body(entry, VOTE_KEYS)
        claim = self._claim(body)
        self._undecided(body, claim, "§7")
        check_vote(body, claim, t, self.members, self.origin)
        return claim

    # -- §5.8 decided --------------------------------------------------------------

    def decided(self, entry: Entry, t: int, rules: Rules) -> ClaimRecord:
        """§5.8: the outcome, amount, basis and counts the log implies, once, when due."""
        body = Body(entry, DECIDED_KEYS)
        claim = self._claim(body)
        check_rules_version(body, rules)
        close_s = self._disclosed(body, claim, "§5.8")
        if claim.outcome is not None:
            body.fail(
                "§5.8",
                "decided.twice",
                f"expected {claim.claim} not decided before, found it decided {claim.outcome}",
            )
        approve = sum(1 for c in claim.votes.values() if c == "approve")
        deny = len(claim.votes) - approve
        assessed = "approved" if claim.decision == "approve" else "denied"
        if claim.appealed_s is None:
            due_s = close_s + rules.appeal_days * DAY
            why = f"objections_close {claim.objections_close} + appeal_days {rules.appeal_days}"
            outcome, basis = assessed, "assessment"
        elif claim.jurors is None or claim.voting_closes_s is None:
            due_s = claim.appealed_s + rules.reveal_days * DAY
            why = (
                f"the appeal time + reveal_days {rules.reveal_days} (the claim "
                f"{'pooled' if claim.pool_signature is not None else 'never pooled'} but "
                f"never drawn)"
            )
            outcome, basis = assessed, "assessment"
        else:
            all_voted = len(claim.votes) == len(claim.jurors)
            due_s = t if all_voted else claim.voting_closes_s
            why = f"voting_closes {claim.voting_closes}, or every drawn juror voted"
            cast = approve + deny
            claim.quorum = rules.quorum
            if cast < rules.quorum:
                outcome, basis = assessed, "assessment"
            else:
                basis = "panel"
                outcome = "approved" if approve * BP > rules.threshold_bp * cast else "denied"
        if t < due_s:
            body.fail(
                "§5.8",
                "decided.early",
                f"expected a decision at or after {why} ({show_time(due_s)}), found {entry.time}",
            )
        if outcome == "denied":
            amount = 0
        elif claim.decision == "approve" and claim.assessed_fen is not None:
            amount = claim.assessed_fen
        else:
            band = self.members[claim.member].age_band
            benefit = rules.benefit(claim.kind, band)
            if benefit is None:
                body.fail(
                    "§5.8",
                    "decided.benefit",
                    f"expected rules version {rules.version} "
                    f"to have a benefit for the age band {band}, found none",
                )
            amount = min(claim.claimed_fen, benefit)
        body.same("§5.8", "approve", approve)
        body.same("§5.8", "deny", deny)
        body.same("§5.8", "basis", basis)
        body.same("§5.8", "outcome", outcome)
        body.same("§5.8", "amount_fen", amount)
        claim.outcome = outcome
        claim.basis = basis
        claim.decided_fen = amount
        return claim

    # -- §5.9 paid, §5.10 reversed ---------------------------------------------------

    def paid(self, entry: Entry, t: int, rules: Rules) -> ClaimRecord:
        """§5.9: approved, once, the decided amount, after objections close, in the open period."""
        del rules
        body = Body(entry, PAID_KEYS)
        claim = self._claim(body)
        if claim.outcome != "approved" or claim.decided_fen is None:
            body.fail(
                "§5.9",
                "paid.approved",
                f"expected {claim.claim} decided approved, found it {claim.status}",
            )
        if claim.paid_fen is not None:
            body.fail(
                "§5.9",
                "paid.twice",
                f"expected {claim.claim} not paid before, found it "
                f"paid {claim.paid_fen} in {claim.paid_period}",
            )
        close_s = self._disclosed(body, claim, "§5.9")
        if t < close_s:
            body.fail(
                "§5.9",
                "paid.early",
                f"expected a payment at or after objections_close "
                f"{claim.objections_close}, found {entry.time}",
            )
        body.same("§5.9", "amount_fen", claim.decided_fen)
        period = period_open_at(entry.time)
        body.same("§5.9", "period", period)
        claim.paid_fen = claim.decided_fen
        claim.paid_period = period
        self.paid_in.setdefault(period, []).append((claim.claim, claim.decided_fen))
        return claim

    def reversed(self, entry: Entry, t: int, rules: Rules) -> ClaimRecord:
        """§5.10: paid, once, 0 < recovered <= paid, credited to the period open at t."""
        del t, rules
        body = Body(entry, REVERSED_KEYS)
        claim = self._claim(body)
        if claim.paid_fen is None:
            body.fail(
                "§5.10", "reversed.paid", f"expected {claim.claim} paid, found it {claim.status}"
            )
        if claim.recovered_fen is not None:
            body.fail(
                "§5.10",
                "reversed.twice",
                f"expected {claim.claim} not reversed before, "
                f"found {claim.recovered_fen} recovered",
            )
        recovered = body.integer("recovered_fen")
        if not 0 < recovered <= claim.paid_fen:
            body.fail(
                "§5.10",
                "reversed.amount",
                f"expected 0 < recovered_fen <= the paid {claim.paid_fen}, found {recovered}",
            )
        body.text("reason", nonempty=True, section="§5.10")
        period = period_open_at(entry.time)
        claim.recovered_fen = recovered
        claim.recovered_period = period
        self.recovered_in[period] = self.recovered_in.get(period, 0) + recovered
        return claim
