"""A claim's decision, payment and reversal, replayed (specs/plan.md §5.8-§5.10).

Each check reads the claim from the :class:`~verifier.plan.claims.ClaimBook`,
re-derives every field the entry states and records the result there. A decision
on an appeal that was never pooled, or pooled but never drawn, stands on the
assessment once t >= appeal time + ``reveal_days`` (§5.8's "appealed but not
drawn"), with ``reveal_days`` of the rules in force at the decision.
"""

from __future__ import annotations

from dataclasses import dataclass

from verifier.entry import Entry
from verifier.plan.claims import ClaimBook
from verifier.plan.periods import period_open_at
from verifier.plan.records import DAY, Body, ClaimRecord, show_time
from verifier.plan.rules import Rules, check_rules_version

DECIDED_KEYS = ("claim", "outcome", "amount_fen", "basis", "approve", "deny", "rules_version")
PAID_KEYS = ("claim", "amount_fen", "period")
REVERSED_KEYS = ("claim", "recovered_fen", "reason")
BP = 10_000


@dataclass(frozen=True)
class Decision:
    """What §5.8 gives for a claim at time t: when it is due and what it must state."""

    due_s: int
    why: str
    outcome: str
    basis: str
    approve: int
    deny: int
    amount_fen: int


def derive(book: ClaimBook, claim: ClaimRecord, close_s: int, t: int, rules: Rules) -> Decision:
    """The decision the assessment, the votes and ``rules`` give for ``claim`` at ``t``."""
    approve = sum(1 for c in claim.votes.values() if c == "approve")
    deny = len(claim.votes) - approve
    outcome = "approved" if claim.decision == "approve" else "denied"
    basis = "assessment"
    if claim.appealed_s is None:
        due_s = close_s + rules.appeal_days * DAY
        why = f"objections_close {claim.objections_close} + appeal_days {rules.appeal_days}"
    elif claim.jurors is None or claim.voting_closes_s is None:
        due_s = claim.appealed_s + rules.reveal_days * DAY
        pooled = "pooled" if claim.pool_signature is not None else "never pooled"
        why = (
            f"the appeal time + reveal_days {rules.reveal_days} "
            f"(the claim {pooled} but never drawn)"
        )
    else:
        due_s = t if len(claim.votes) == len(claim.jurors) else claim.voting_closes_s
        why = f"voting_closes {claim.voting_closes}, or every drawn juror voted"
        claim.quorum = rules.quorum
        if approve + deny >= rules.quorum:
            basis = "panel"
            approved = approve * BP > rules.threshold_bp * (approve + deny)
            outcome = "approved" if approved else "denied"
    if outcome == "denied":
        amount = 0
    elif claim.decision == "approve" and claim.assessed_fen is not None:
        amount = claim.assessed_fen
    else:
        band = book.members[claim.member].age_band
        amount = min(claim.claimed_fen, rules.benefit(claim.kind, band))
    return Decision(due_s, why, outcome, basis, approve, deny, amount)


def decided(book: ClaimBook, entry: Entry, t: int, rules: Rules) -> ClaimRecord:
    """§5.8: the outcome, amount, basis and counts the log implies, once, when due."""
    body = Body(entry, DECIDED_KEYS)
    claim = book.claim_of(body)
    body.choice("outcome", ("approved", "denied"))
    body.choice("basis", ("assessment", "panel"))
    for key in ("amount_fen", "approve", "deny"):
        body.integer(key)
    check_rules_version(body, rules)
    close_s = book.disclosed_close(body, claim, "claim.decided.order")
    if claim.outcome is not None:
        body.fail(
            "claim.decided.twice",
            f"expected {claim.claim} not decided before, found it decided {claim.outcome}",
        )
    decision = derive(book, claim, close_s, t, rules)
    if t < decision.due_s:
        body.fail(
            "claim.decided.early",
            f"expected a decision at or after {decision.why} ({show_time(decision.due_s)}), "
            f"found {entry.time}",
        )
    for key, value in (
        ("outcome", decision.outcome),
        ("amount_fen", decision.amount_fen),
        ("basis", decision.basis),
        ("approve", decision.approve),
        ("deny", decision.deny),
    ):
        body.same("claim.decided.outcome", key, value)
    claim.outcome = decision.outcome
    claim.basis = decision.basis
    claim.decided_fen = decision.amount_fen
    return claim


def paid(book: ClaimBook, entry: Entry, t: int, rules: Rules) -> ClaimRecord:
    """§5.9: approved, once, the decided amount, after objections close, in the open period."""
    del rules
    body = Body(entry, PAID_KEYS)
    claim = book.claim_of(body)
    amount, period = body.integer("amount_fen"), body.text("period")
    if claim.outcome != "approved" or claim.decided_fen is None:
        body.fail(
            "claim.paid.approved",
            f"expected {claim.claim} decided approved, found it {claim.status}",
        )
    if claim.paid_fen is not None:
        body.fail(
            "claim.paid.twice",
            f"expected {claim.claim} not paid before, found it paid {claim.paid_fen} in "
            f"{claim.paid_period}",
        )
    close_s = book.disclosed_close(body, claim, "claim.paid.early")
    if t < close_s:
        body.fail(
            "claim.paid.early",
            f"expected a payment at or after objections_close {claim.objections_close}, "
            f"found {entry.time}",
        )
    if amount != claim.decided_fen:
        body.fail(
            "claim.paid.amount",
            f"expected amount_fen {claim.decided_fen} as decided, found {amount}",
        )
    open_period = period_open_at(entry.time)
    if period != open_period:
        body.fail(
            "claim.paid.period",
            f"expected the period open at {entry.time}, {open_period}, found {period!r}",
        )
    claim.paid_fen = amount
    claim.paid_period = open_period
    book.paid_in.setdefault(open_period, []).append((claim.claim, amount))
    return claim


def reversed_(book: ClaimBook, entry: Entry, t: int, rules: Rules) -> ClaimRecord:
    """§5.10: paid, once, 0 < recovered <= paid, credited to the period open at t."""
    del t, rules
    body = Body(entry, REVERSED_KEYS)
    claim = book.claim_of(body)
    recovered, reason = body.integer("recovered_fen"), body.text("reason")
    if claim.paid_fen is None:
        body.fail("claim.reversed.paid", f"expected {claim.claim} paid, found it {claim.status}")
    if claim.recovered_fen is not None:
        body.fail(
            "claim.reversed.twice",
            f"expected {claim.claim} not reversed before, found {claim.recovered_fen} recovered",
        )
    if not 0 < recovered <= claim.paid_fen:
        body.fail(
            "claim.reversed.amount",
            f"expected 0 < recovered_fen <= the paid {claim.paid_fen}, found {recovered}",
        )
    if not reason:
        body.fail("claim.reversed.reason", "expected a reason for the reversal, found ''")
    period = period_open_at(entry.time)
    claim.recovered_fen = recovered
    claim.recovered_period = period
    book.recovered_in[period] = book.recovered_in.get(period, 0) + recovered
    book.reversals_in.setdefault(period, []).append((claim.claim, recovered))
    return claim
