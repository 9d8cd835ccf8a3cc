"""A claim's decision, payment and reversal (specs/plan.md §5.8-§5.10)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ledger.domain.errors import RuleError
from ledger.domain.fields import Body
from ledger.domain.model import Claim
from ledger.domain.periods import period_open_at
from ledger.domain.rules import BP, Rules, add_days, check_applied
from ledger.log.entry import Entry

if TYPE_CHECKING:
    from ledger.domain.state import PlanState

DECIDED_KEYS = ("claim", "outcome", "amount_fen", "basis", "approve", "deny", "rules_version")
PAID_KEYS = ("claim", "amount_fen", "period")
REVERSED_KEYS = ("claim", "recovered_fen", "reason")


def decision_body(state: PlanState, claim: Claim, rules: Rules) -> dict[str, Any]:
    """The decision the assessment, the votes and ``rules`` give (specs/plan.md §5.8)."""
    approve = sum(1 for c in claim.votes.values() if c == "approve")
    deny = len(claim.votes) - approve
    basis = "assessment"
    outcome = "approved" if claim.decision == "approve" else "denied"
    if claim.jurors is not None and approve + deny >= rules.quorum:
        basis = "panel"
        approved = approve * BP > rules.threshold_bp * (approve + deny)
        outcome = "approved" if approved else "denied"
    amount = 0
    if outcome == "approved":
        if claim.decision == "approve":
            amount = claim.assessed_fen
        else:
            band = state.members[claim.member].age_band
            amount = min(claim.amount_fen, rules.benefit_for(claim.kind, band))
    return {
        "claim": claim.id,
        "outcome": outcome,
        "amount_fen": amount,
        "basis": basis,
        "approve": approve,
        "deny": deny,
        "rules_version": rules.version,
    }


def decision_due(claim: Claim, rules: Rules) -> str:
    """The earliest time ``claim`` may be decided (§5.8); for a full panel, its last vote."""
    assert claim.objections_close is not None
    if claim.appellant is None:
        return add_days(claim.objections_close, rules.appeal_days)
    if claim.jurors is None or claim.voting_closes is None:
        assert claim.appealed is not None
        return add_days(claim.appealed, rules.reveal_days)
    if len(claim.votes) == len(claim.jurors):
        return ""
    return claim.voting_closes


def decided(state: PlanState, entry: Entry, rules: Rules) -> None:
    """§5.8: once, when due; outcome, amount, basis and counts as the log gives them."""
    body = Body(entry, DECIDED_KEYS)
    claim = state.claim(body.claim())
    body.choice("outcome", ("approved", "denied"))
    body.choice("basis", ("assessment", "panel"))
    for key in ("amount_fen", "approve", "deny"):
        body.integer(key)
    check_applied(body, rules)
    if claim.objections_close is None:
        raise RuleError("claim.decided.order", f"claim {claim.id} must be disclosed first")
    if claim.outcome is not None:
        raise RuleError("claim.decided.twice", f"claim {claim.id} was already decided")
    due = decision_due(claim, rules)
    if entry.time < due:
        raise RuleError("claim.decided.early", f"claim {claim.id} may be decided from {due}")
    expected = decision_body(state, claim, rules)
    if dict(entry.body) != expected:
        raise RuleError(
            "claim.decided.outcome",
            f"the rules and votes give {expected}, the entry says {dict(entry.body)}",
        )
    claim.outcome = str(expected["outcome"])
    claim.basis = str(expected["basis"])
    claim.decided_fen = int(expected["amount_fen"])


def paid(state: PlanState, entry: Entry, rules: Rules) -> None:
    """§5.9: approved, once, the decided amount, after objections close, in the open period."""
    del rules
    body = Body(entry, PAID_KEYS)
    claim = state.claim(body.claim())
    amount, period = body.integer("amount_fen"), body.text("period")
    if claim.outcome != "approved":
        raise RuleError("claim.paid.approved", f"claim {claim.id} is not decided approved")
    if claim.paid_fen is not None:
        raise RuleError(
            "claim.paid.twice", f"claim {claim.id} was already paid in {claim.paid_period}"
        )
    assert claim.objections_close is not None
    if entry.time < claim.objections_close:
        raise RuleError(
            "claim.paid.early", f"claim {claim.id} may be paid from {claim.objections_close}"
        )
    if amount != claim.decided_fen:
        raise RuleError(
            "claim.paid.amount", f"expected {claim.decided_fen} fen as decided, found {amount}"
        )
    open_period = period_open_at(entry.time)
    if period != open_period:
        raise RuleError(
            "claim.paid.period", f"a payment at {entry.time} belongs to {open_period}, not {period}"
        )
    claim.paid_fen = amount
    claim.paid_period = open_period
    state.add_paid(open_period, claim.id, amount, entry.seq)


def reversed_(state: PlanState, entry: Entry, rules: Rules) -> None:
    """§5.10: paid, once, 0 < recovered <= paid, credited to the period open at its time."""
    del rules
    body = Body(entry, REVERSED_KEYS)
    claim = state.claim(body.claim())
    recovered, reason = body.integer("recovered_fen"), body.text("reason")
    if claim.paid_fen is None:
        raise RuleError("claim.reversed.paid", f"claim {claim.id} has not been paid")
    if claim.recovered_fen is not None:
        raise RuleError("claim.reversed.twice", f"claim {claim.id} was already reversed")
    if not 0 < recovered <= claim.paid_fen:
        raise RuleError(
            "claim.reversed.amount",
            f"expected 0 < recovered_fen <= the {claim.paid_fen} fen paid, found {recovered}",
        )
    if not reason:
        raise RuleError("claim.reversed.reason", "a reversal states its reason, found ''")
    period = period_open_at(entry.time)
    claim.recovered_fen = recovered
    claim.recovered_period = period
    state.add_recovered(period, claim.id, recovered, entry.seq)
