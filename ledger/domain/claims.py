"""A claim from filing to appeal (specs/plan.md §5.1-§5.5).

The claim keeps the kind and category its condition's code has; §2 fixes a code's
kind across rules versions, so no later version can move a claim out of the
waiting period. Decisions, payments and reversals are in
:mod:`ledger.domain.decisions`; the panel in :mod:`ledger.domain.panel`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ledger.domain.errors import RuleError
from ledger.domain.fields import Body
from ledger.domain.model import Claim
from ledger.domain.requests import body_keys, check_request, note_request
from ledger.domain.rules import Rules, add_days, check_applied
from ledger.log.entry import Entry, parse_time

if TYPE_CHECKING:
    from ledger.domain.state import PlanState

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


def filed(state: PlanState, entry: Entry, rules: Rules) -> None:
    """§5.1: an active member, a covered condition, in cover, once per diagnosis."""
    body = Body(entry, body_keys(entry.type, entry.body, FILED_KEYS))
    member_id, code = body.member(), body.text("condition")
    amount, diagnosed = body.integer("amount_fen"), body.time("diagnosed")
    body.hex64("evidence_commitment")
    request = check_request(state, body, rules, member_id)
    member = state.active_member(member_id, entry.time, "claim.filed.member")
    condition = rules.conditions.get(code)
    if condition is None:
        raise RuleError(
            "claim.filed.condition",
            f"expected a condition on the list of rules version {rules.version} "
            f"({', '.join(sorted(rules.conditions))}), found {code!r}",
        )
    if amount < 1:
        raise RuleError("claim.filed.amount", f"expected amount_fen > 0, found {amount}")
    if diagnosed > entry.time:
        raise RuleError(
            "claim.filed.diagnosed", f"expected a diagnosis by {entry.time}, found {diagnosed}"
        )
    if diagnosed < member.joined:
        raise RuleError(
            "claim.filed.joined",
            f"expected a diagnosis or accident at or after {member.id} joined "
            f"({member.joined}), found {diagnosed}",
        )
    covered_from = add_days(member.joined, rules.waiting_days)
    if condition.kind != "accident" and diagnosed < covered_from:
        raise RuleError(
            "claim.filed.waiting",
            f"member {member.id} is covered for illness from {covered_from} "
            f"({rules.waiting_days} days after joining); diagnosed {diagnosed}",
        )
    _not_claimed_before(state, member.id, code, diagnosed)
    _not_wound_down(state, entry.time, diagnosed)
    note_request(state, request, entry.seq)
    state.add_claim(
        Claim(
            f"c-{entry.seq}",
            member.id,
            code,
            condition.kind,
            condition.category,
            amount,
            diagnosed,
            entry.time,
        )
    )


def _not_claimed_before(state: PlanState, member: str, condition: str, diagnosed: str) -> None:
    for earlier in state.claims_for_diagnosis(member, condition, diagnosed):
        if earlier.blocks_refiling:
            status = "open" if earlier.outcome is None else "approved"
            raise RuleError(
                "claim.filed.duplicate",
                f"expected one claim per diagnosis; {earlier.id} for {member}, {condition} "
                f"diagnosed {diagnosed} is {status}",
            )


def _not_wound_down(state: PlanState, time: str, diagnosed: str) -> None:
    wind = state.wound_down
    if wind is None:
        return
    if time > wind.claims_until:
        raise RuleError(
            "claim.filed.wound_down",
            f"expected a claim filed by {wind.claims_until} (the wind-down at seq {wind.seq}), "
            f"found one at {time}",
        )
    if diagnosed >= wind.at:
        raise RuleError(
            "claim.filed.wound_down",
            f"expected a diagnosis before the wind-down at {wind.at}, found {diagnosed}",
        )


def assessed(state: PlanState, entry: Entry, rules: Rules) -> None:
    """§5.2: once; approve up to the claimed amount and the benefit, or deny with a reason."""
    body = Body(entry, ASSESSED_KEYS)
    claim = state.claim(body.claim())
    decision = body.choice("decision", ("approve", "deny"))
    amount, reason = body.integer("amount_fen"), body.text("reason")
    body.hex64("report_commitment")
    check_applied(body, rules)
    if claim.decision is not None:
        raise RuleError("claim.assessed.twice", f"claim {claim.id} was already assessed")
    band = state.members[claim.member].age_band
    limit = min(claim.amount_fen, rules.benefit_for(claim.kind, band))
    if decision == "approve" and not 0 < amount <= limit:
        raise RuleError(
            "claim.assessed.amount",
            f"an approval pays 1 to {limit} fen (the claim, and the benefit for {band} "
            f"{claim.kind}), found {amount}",
        )
    if decision == "deny" and amount != 0:
        raise RuleError("claim.assessed.amount", f"a denial states amount 0, found {amount}")
    if decision == "deny" and not reason:
        raise RuleError("claim.assessed.reason", "a denial states its reason, found ''")
    claim.decision = decision
    claim.assessed_fen = amount


def disclosure_body(state: PlanState, claim: Claim, time: str) -> dict[str, Any]:
    """What disclosing ``claim`` at ``time`` must state (specs/plan.md §5.3)."""
    member = state.members[claim.member]
    return {
        "claim": claim.id,
        "age_band": member.age_band,
        "category": claim.category,
        "amount_fen": claim.assessed_fen,
        "days_since_joining": (parse_time(claim.filed) - parse_time(member.joined)).days,
        "objections_close": add_days(time, state.rules_at(time).objection_days),
    }


def disclosed(state: PlanState, entry: Entry, rules: Rules) -> None:
    """§5.3: after the assessment, once; the coarse fields are what the log says."""
    del rules
    body = Body(entry, DISCLOSED_KEYS)
    claim = state.claim(body.claim())
    if claim.decision is None:
        raise RuleError("claim.disclosed.order", f"claim {claim.id} must be assessed first")
    if claim.disclosed is not None:
        raise RuleError(
            "claim.disclosed.twice", f"claim {claim.id} was already disclosed at {claim.disclosed}"
        )
    expected = disclosure_body(state, claim, entry.time)
    if dict(entry.body) != expected:
        raise RuleError(
            "claim.disclosed.fields",
            f"expected the disclosure {expected}, found {dict(entry.body)}",
        )
    claim.disclosed = entry.time
    claim.objections_close = expected["objections_close"]


def _disclosed(claim: Claim, rule: str) -> str:
    if claim.objections_close is None:
        raise RuleError(rule, f"claim {claim.id} must be disclosed first")
    return claim.objections_close


def objected(state: PlanState, entry: Entry, rules: Rules) -> None:
    """§5.4: before objections close, by an active member other than the claimant, once."""
    body = Body(entry, body_keys(entry.type, entry.body, OBJECTED_KEYS))
    claim_id = body.claim()
    objector_id = body.member("objector")
    body.hex64("reason_hash")
    request = check_request(state, body, rules, objector_id)
    claim = state.claim(claim_id)
    closes = _disclosed(claim, "claim.objected.order")
    if entry.time >= closes:
        raise RuleError(
            "claim.objected.window",
            f"objections to {claim.id} were open until {closes}, not at {entry.time}",
        )
    objector = state.active_member(objector_id, entry.time, "claim.objected.objector")
    if objector.id == claim.member:
        raise RuleError(
            "claim.objected.objector", f"the claimant {objector.id} may not object to {claim.id}"
        )
    if objector.id in claim.objectors:
        raise RuleError("claim.objected.twice", f"{objector.id} has already objected to {claim.id}")
    note_request(state, request, entry.seq)
    claim.objectors.append(objector.id)


def appealed(state: PlanState, entry: Entry, rules: Rules) -> None:
    """§5.5: once, in time, by the right member; fixes the pool of the draw (§6)."""
    body = Body(entry, body_keys(entry.type, entry.body, APPEALED_KEYS))
    claim_id = body.claim()
    appellant_id = body.member("appellant")
    commitment = body.hex64("secret_commitment")
    request = check_request(state, body, rules, appellant_id)
    claim = state.claim(claim_id)
    closes = _disclosed(claim, "claim.appealed.order")
    if claim.outcome is not None:
        raise RuleError("claim.appealed.order", f"claim {claim.id} is already decided")
    if claim.appellant is not None:
        raise RuleError(
            "claim.appealed.twice", f"claim {claim.id} was already appealed by {claim.appellant}"
        )
    until = add_days(closes, rules.appeal_days)
    if entry.time >= until:
        raise RuleError("claim.appealed.window", f"appeals against {claim.id} closed at {until}")
    appellant = state.active_member(appellant_id, entry.time, "claim.appealed.appellant")
    allowed = [claim.member] if claim.decision == "deny" else claim.objectors
    if appellant.id not in allowed:
        raise RuleError(
            "claim.appealed.appellant",
            f"only {'the claimant' if claim.decision == 'deny' else 'an objector'} may appeal "
            f"this {claim.decision}, not {appellant.id}",
        )
    note_request(state, request, entry.seq)
    claim.appellant = appellant.id
    claim.appealed = entry.time
    claim.secret_commitment = commitment
    # The pool is fixed here, before any randomness exists (§6).
    excluded = {claim.member, *claim.objectors}
    claim.pool = sorted(m.id for m in state.jurors_active_at(entry.time) if m.id not in excluded)
