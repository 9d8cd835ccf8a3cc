"""What waits, and on whom: each open claim's next step, and the plan's next deadlines.

A read of the plan's state for the operator (specs/plan.md §5, §6, §8): the claims
queue gives, for each claim not yet finished, the step it waits for (assessment,
disclosure, the objection or appeal window, the pool, the appellant's secret, the
jurors' votes, the decision, the payment), who must act, and from or until when.
Nothing here changes the plan or needs the signing key.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from ledger.domain.decisions import decision_due
from ledger.domain.model import Claim
from ledger.domain.periods import cutoff
from ledger.domain.rules import Rules, in_force
from ledger.domain.state import PlanState

STAGES = (
    "assessment",
    "disclosure",
    "objections",
    "appeals",
    "pool",
    "secret",
    "votes",
    "decision",
    "payment",
)
"""The steps a claim can wait for, in the order they come."""


@dataclass(frozen=True)
class Waiting:
    """A claim waiting for its next step.

    ``waits_on`` is who must act: ``operator``, ``members`` (objections), the
    ``claimant`` or the ``objectors`` (an appeal), the ``appellant`` (the secret that
    seeds the draw) or the ``jurors``.
    ``until`` is when the step's window closes (an entry time), or None when the
    step may be taken now and has no deadline in the rules.
    """

    claim: str
    member: str
    stage: str
    waits_on: str
    since: str
    until: str | None
    detail: str

    def json(self) -> dict[str, Any]:
        """As a JSON object."""
        return asdict(self)


def waiting(claim: Claim, rules: Rules, now: str) -> Waiting | None:
    """What ``claim`` waits for at ``now`` under ``rules`` (None: it is finished)."""
    step = _Step(claim, claim.history[-1][2] if claim.history else claim.filed)
    if claim.finished:
        return None
    if claim.outcome is not None:  # approved, not paid
        return step("payment", "operator", f"approved for {claim.decided_fen} fen, not paid")
    if claim.decision is None:
        return step("assessment", "operator", f"filed for {claim.amount_fen} fen")
    if claim.objections_close is None:
        return step("disclosure", "operator", f"assessed {claim.decision}")
    due = decision_due(claim, rules)
    if claim.appellant is None:
        return _before_appeal(claim, due, now, step)
    if claim.jurors is None and now < due:
        appealed = f"appealed by {claim.appellant}"
        if claim.pool is not None and len(claim.pool) < rules.panel_size:
            short = f"{appealed}; the pool of {len(claim.pool)} is smaller than a panel"
            return step("decision", "operator", f"{short}: decided on the assessment from {due}")
        if claim.pool_signature is None:
            return step("pool", "operator", appealed, until=due)
        return step("secret", "appellant", appealed, until=due)
    if claim.jurors is not None and due and now < due:
        votes = f"{len(claim.votes)} of {len(claim.jurors)} jurors have voted"
        return step("votes", "jurors", votes, until=due)
    return step("decision", "operator", _why_decide(claim))


@dataclass(frozen=True)
class _Step:
    """Makes the :class:`Waiting` of one claim."""

    claim: Claim
    since: str

    def __call__(self, stage: str, who: str, detail: str, *, until: str = "") -> Waiting:
        c = self.claim
        return Waiting(c.id, c.member, stage, who, self.since, until or None, detail)


def _before_appeal(claim: Claim, due: str, now: str, step: _Step) -> Waiting:
    """Disclosed, not appealed: who may still act (§5.4-§5.5), or the decision."""
    assert claim.objections_close is not None
    if now >= due:
        return step("decision", "operator", "no appeal: decided on the assessment")
    if claim.decision == "deny":
        # Only the claimant may appeal a denial, from disclosure to the appeal deadline.
        return step("appeals", "claimant", "denied: open for the claimant's appeal", until=due)
    if now < claim.objections_close:
        objections = f"{len(claim.objectors)} objection(s) so far"
        return step("objections", "members", objections, until=claim.objections_close)
    if not claim.objectors:
        return step("appeals", "objectors", "no objection: nobody may appeal", until=due)
    return step("appeals", "objectors", f"{len(claim.objectors)} objector(s) may appeal", until=due)


def _why_decide(claim: Claim) -> str:
    if claim.jurors is not None:
        return f"the panel has voted ({len(claim.votes)} of {len(claim.jurors)})"
    return "appealed, but no panel was drawn in time: decided on the assessment"


def claim_queue(state: PlanState, now: str) -> list[Waiting]:
    """Every claim not yet finished, with what it waits for, the most urgent first."""
    rules = in_force(state.rules, now)
    if rules is None:  # no rules in force yet: no claim can have been filed
        return []
    found = [w for c in state.open_claims() if (w := waiting(c, rules, now)) is not None]
    return sorted(found, key=lambda w: (w.until or "~", w.since, w.claim))


@dataclass(frozen=True)
class Deadlines:
    """The plan's calendar at ``now``: the next cutoff and what is open or pending."""

    now: str
    next_period: str | None
    next_cutoff: str | None
    closable: bool
    """The next period's cutoff has passed: ``tally period close`` may run."""
    announced: list[tuple[int, str]]
    """Rules versions announced but not yet in force: (version, effective)."""
    queue: list[Waiting]

    def open_windows(self) -> list[Waiting]:
        """Claims in a window members act in: objections, appeals, the secret, votes."""
        return [w for w in self.queue if w.waits_on != "operator"]

    def operator_work(self) -> list[Waiting]:
        """Claims waiting on the operator."""
        return [w for w in self.queue if w.waits_on == "operator"]

    def json(self) -> dict[str, Any]:
        """As a JSON object."""
        counts = {s: sum(1 for w in self.queue if w.stage == s) for s in STAGES}
        return {
            "now": self.now,
            "next_period": self.next_period,
            "next_cutoff": self.next_cutoff,
            "closable": self.closable,
            "announced_rules": [{"version": v, "effective": e} for v, e in self.announced],
            "waiting": counts,
            "open_windows": [w.json() for w in self.open_windows()],
            "operator_work": [w.json() for w in self.operator_work()],
        }


def deadlines(state: PlanState, now: str) -> Deadlines:
    """The plan's next cutoff, the rules announced, and the claims queue at ``now``."""
    period = state.next_period_to_close()
    at = cutoff(period) if period is not None else None
    announced = [(r.version, r.effective) for r in state.rules if r.effective > now]
    queue = claim_queue(state, now)
    return Deadlines(now, period, at, at is not None and at <= now, announced, queue)


def overview(state: PlanState, now: str, calendar: Deadlines | None = None) -> dict[str, Any]:
    """The plan at ``now`` as JSON: rules in force, members, jurors, claims, the last
    closed period, and its calendar (:func:`deadlines`, computed unless given)."""
    rules = in_force(state.rules, now)
    calendar = calendar if calendar is not None else deadlines(state, now)
    active, ever, jurors = state.member_counts(now)
    return {
        "rules_version": None if rules is None else rules.version,
        "active_members": active,
        "members_ever": ever,
        "jurors": jurors,
        "claims": len(state.claims),
        "last_closed_period": state.closed[-1].period if state.closed else None,
        **calendar.json(),
    }
