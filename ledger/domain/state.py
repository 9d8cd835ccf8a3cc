"""The plan's state, derived from entries alone; every rule of specs/plan.md checked on the way.

:meth:`PlanState.apply` is the single place where plan rules live on the ledger
side: the operator's commands go through it before anything is appended (inside
the sequencer's lock), and ``tally check`` replays every entry through it to
rebuild the projections. An entry that breaks a rule raises :class:`RuleError`
naming the rule.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from ledger.domain import sumtree
from ledger.domain.apportion import Apportionment, apportion
from ledger.domain.draw import DrawError, draw, pool_root, pool_signature_message, seed
from ledger.domain.errors import RuleError
from ledger.domain.periods import cutoff, next_period, period_open_at
from ledger.domain.rules import AGE_BANDS, Rules, add_days, parse_rules
from ledger.domain.vote import VoteError, verify_vote
from ledger.log.entry import GENESIS_TYPE, Entry, parse_time
from ledger.publish.note import Verifier, parse_verifier_key

OPERATOR_ACTOR_RE = re.compile(r"\Aoperator(:[A-Za-z0-9._@-]{1,128})?\Z")
MEMBER_RE = re.compile(r"\Am-[0-9a-f]{20}\Z")
HEX64_RE = re.compile(r"\A[0-9a-f]{64}\Z")
SECONDS_PER_DAY = 86_400


@dataclass(slots=True)
class Member:
    """A member as the log describes them, with the seqs of the entries that say so."""

    id: str
    age_band: str
    joined: str
    left: str | None = None
    juror_key: str | None = None
    joined_seq: int = -1
    left_seq: int = -1
    juror_seq: int = -1

    def active_at(self, time: str) -> bool:
        """Joined at or before ``time`` and not left by then."""
        return self.joined <= time and (self.left is None or self.left > time)


@dataclass
class Claim:
    """A claim and every step it has been through."""

    id: str
    member: str
    condition: str
    amount_fen: int
    diagnosed: str
    filed: str
    decision: str | None = None
    assessed_fen: int = 0
    disclosed: str | None = None
    objections_close: str | None = None
    objectors: list[str] = field(default_factory=list)
    appellant: str | None = None
    appealed: str | None = None
    secret_commitment: str | None = None
    pool: list[str] | None = None
    pool_signature: bytes | None = None
    jurors: list[str] | None = None
    voting_closes: str | None = None
    votes: dict[str, str] = field(default_factory=dict)
    outcome: str | None = None
    decided_fen: int = 0
    paid_fen: int | None = None
    paid_period: str | None = None
    recovered_fen: int | None = None
    history: list[tuple[int, str, str]] = field(default_factory=list)


@dataclass
class PeriodClose:
    """A closed period's figures, as derived."""

    period: str
    body: dict[str, Any]
    apportionment: Apportionment
    tree: sumtree.Tree
    members: list[str]
    seq: int = -1
    time: str = ""


@dataclass
class PlanState:
    """Everything the entries so far imply about the plan."""

    origin: str = ""
    log_key: Verifier | None = None
    size: int = 0
    rules: list[Rules] = field(default_factory=list)
    rules_seqs: list[int] = field(default_factory=list)
    members: dict[str, Member] = field(default_factory=dict)
    claims: dict[str, Claim] = field(default_factory=dict)
    wound_down: str | None = None
    first_period: str | None = None
    closed: list[PeriodClose] = field(default_factory=list)
    paid_in: dict[str, list[tuple[str, int]]] = field(default_factory=dict)
    recovered_in: dict[str, list[tuple[str, int]]] = field(default_factory=dict)
    charged: dict[int, dict[str, int]] = field(default_factory=dict)
    keep_trees: bool = False
    close_cache: tuple[tuple[str, str, int], PeriodClose] | None = None

    # -- reading ------------------------------------------------------------------

    def rules_at(self, time: str) -> Rules:
        """The rules version in force at ``time``."""
        in_force = [r for r in self.rules if r.effective <= time]
        if not in_force:
            raise RuleError("rules_in_force", f"no rules version is in force at {time}")
        return in_force[-1]

    def last_carry_out(self) -> int:
        """What the last closed period carried out (0 before the first)."""
        return int(self.closed[-1].body["carry_out_fen"]) if self.closed else 0

    def next_period_to_close(self) -> str | None:
        """The period the next ``period.closed`` must name."""
        if self.closed:
            return next_period(self.closed[-1].period)
        return self.first_period

    # -- applying -----------------------------------------------------------------

    def apply(self, entry: Entry) -> None:
        """Check ``entry`` against the rules and the state, then fold it in."""
        if entry.seq != self.size:
            raise RuleError("order", f"expected entry {self.size} next, found {entry.seq}")
        handler = _HANDLERS.get(entry.type)
        if entry.type == GENESIS_TYPE:
            self.origin = str(entry.body["origin"])
            self.log_key = parse_verifier_key(str(entry.body["verifier_key"]))
        elif handler is not None:
            if entry.type != "plan.rules" and not self.rules:
                raise RuleError("rules_in_force", f"{entry.type} before any plan.rules")
            if entry.type != "vote.cast" and not OPERATOR_ACTOR_RE.match(entry.actor):
                raise RuleError(
                    "actor", f"expected {entry.type} by the operator, found actor {entry.actor}"
                )
            handler(self, entry)
            self._record(entry)
        self.size += 1

    def _record(self, entry: Entry) -> None:
        """Remember where each claim's steps, each rules version and each period are."""
        if entry.type == "plan.rules":
            self.rules_seqs.append(entry.seq)
        elif entry.type == "period.closed":
            self.closed[-1] = replace(self.closed[-1], seq=entry.seq, time=entry.time)
        elif entry.type == "member.joined":
            self.members[str(entry.body["member"])].joined_seq = entry.seq
        elif entry.type == "member.left":
            self.members[str(entry.body["member"])].left_seq = entry.seq
        elif entry.type == "juror.enrolled":
            self.members[str(entry.body["member"])].juror_seq = entry.seq
        claim = f"c-{entry.seq}" if entry.type == "claim.filed" else entry.body.get("claim")
        if isinstance(claim, str) and claim in self.claims:
            self.claims[claim].history.append((entry.seq, entry.type, entry.time))

    def _member(self, member: str, time: str, rule: str = "member_active") -> Member:
        found = self.members.get(member)
        if found is None:
            raise RuleError("member_known", f"no member {member!r} has joined")
        if not found.active_at(time):
            raise RuleError(rule, f"member {member} is not an active member at {time}")
        return found

    def _claim(self, claim: str) -> Claim:
        found = self.claims.get(claim)
        if found is None:
            raise RuleError("claim_known", f"no claim {claim!r} has been filed")
        return found


# -- handlers, one per entry type (specs/plan.md §2-§8) ----------------------------


def _plan_rules(state: PlanState, entry: Entry) -> None:
    rules = parse_rules(entry.body)
    expected = len(state.rules) + 1
    if rules.version != expected:
        raise RuleError(
            "rules_version", f"expected rules version {expected}, found {rules.version}"
        )
    if state.rules:
        current = state.rules_at(entry.time)
        earliest = add_days(entry.time, current.notice_days)
        if rules.effective < earliest:
            raise RuleError(
                "rules_notice",
                f"version {rules.version} must take effect no earlier than {earliest} "
                f"({current.notice_days} days' notice), found {rules.effective}",
            )
        if rules.effective <= state.rules[-1].effective:
            raise RuleError("rules_order", "each version must take effect after the previous one")
    elif rules.effective < entry.time:
        raise RuleError("rules_notice", f"rules cannot take effect in the past ({rules.effective})")
    state.rules.append(rules)
    if state.first_period is None:
        state.first_period = period_open_at(rules.effective)


def _wound_down(state: PlanState, entry: Entry) -> None:
    _keys(entry, {"claims_until", "rules_version"})
    _rules_version(state, entry)
    until = _time(entry, "claims_until")
    if until < entry.time:
        raise RuleError("wind_down", f"claims_until {until} is before the wind-down itself")
    if state.wound_down is not None:
        raise RuleError("wind_down", "the plan was already wound down")
    state.wound_down = entry.time


def _member_joined(state: PlanState, entry: Entry) -> None:
    _keys(entry, {"member", "age_band", "identity_commitment"})
    member = _str(entry, "member", MEMBER_RE)
    if member in state.members:
        raise RuleError("member_new", f"member {member} has already joined")
    if state.wound_down is not None:
        raise RuleError("wind_down", "no member may join after the plan was wound down")
    band = entry.body["age_band"]
    if band not in AGE_BANDS:
        raise RuleError("age_band", f"expected an age band of {AGE_BANDS}, found {band!r}")
    _str(entry, "identity_commitment", HEX64_RE)
    state.members[member] = Member(member, band, entry.time)


def _member_left(state: PlanState, entry: Entry) -> None:
    _keys(entry, {"member"})
    member = state._member(_str(entry, "member", MEMBER_RE), entry.time)
    member.left = entry.time


def _juror_enrolled(state: PlanState, entry: Entry) -> None:
    _keys(entry, {"member", "juror_key"})
    member = state._member(_str(entry, "member", MEMBER_RE), entry.time)
    rules = state.rules_at(entry.time)
    if member.juror_key is not None:
        raise RuleError("juror_once", f"member {member.id} is already a juror")
    tenure = add_days(member.joined, rules.juror_tenure_days)
    if entry.time < tenure:
        raise RuleError(
            "juror_tenure",
            f"member {member.id} may enrol from {tenure} ({rules.juror_tenure_days} days "
            f"after joining), not {entry.time}",
        )
    key = _b64(entry, "juror_key", 32)
    member.juror_key = base64.b64encode(key).decode()


def _claim_filed(state: PlanState, entry: Entry) -> None:
    _keys(entry, {"member", "condition", "amount_fen", "diagnosed", "evidence_commitment"})
    rules = state.rules_at(entry.time)
    member = state._member(_str(entry, "member", MEMBER_RE), entry.time)
    code = entry.body["condition"]
    condition = rules.conditions.get(code) if isinstance(code, str) else None
    if condition is None:
        raise RuleError(
            "condition_covered",
            f"condition {code!r} is not on the covered list of rules version {rules.version}",
        )
    amount = _int(entry, "amount_fen", minimum=1)
    diagnosed = _time(entry, "diagnosed")
    if diagnosed > entry.time:
        raise RuleError("diagnosis_date", f"diagnosed {diagnosed}, after the claim was filed")
    if condition.kind != "accident":
        covered_from = add_days(member.joined, rules.waiting_days)
        if diagnosed < covered_from:
            raise RuleError(
                "waiting_period",
                f"member {member.id} is covered for illness from {covered_from} "
                f"({rules.waiting_days} days after joining); diagnosed {diagnosed}",
            )
    _str(entry, "evidence_commitment", HEX64_RE)
    claim_id = f"c-{entry.seq}"
    state.claims[claim_id] = Claim(
        claim_id, member.id, condition.code, amount, diagnosed, entry.time
    )


def _claim_assessed(state: PlanState, entry: Entry) -> None:
    _keys(
        entry, {"claim", "decision", "amount_fen", "reason", "report_commitment", "rules_version"}
    )
    rules = _rules_version(state, entry)
    claim = state._claim(str(entry.body["claim"]))
    if claim.decision is not None:
        raise RuleError("assess_once", f"claim {claim.id} was already assessed")
    decision = entry.body["decision"]
    amount = _int(entry, "amount_fen", minimum=0)
    reason = entry.body["reason"]
    if not isinstance(reason, str):
        raise RuleError("assessment", f"expected a reason code, found {reason!r}")
    _str(entry, "report_commitment", HEX64_RE)
    member = state.members[claim.member]
    # The condition is judged by the rules it was filed under; the benefit by those in force.
    condition = state.rules_at(claim.filed).conditions[claim.condition]
    benefit = rules.benefit(condition, member.age_band)
    if decision == "approve":
        if not 0 < amount <= min(claim.amount_fen, benefit):
            raise RuleError(
                "benefit_limit",
                f"an approval pays 1 to {min(claim.amount_fen, benefit)} fen (the claim, "
                f"and the benefit for {member.age_band} {condition.kind}), found {amount}",
            )
    elif decision == "deny":
        if amount != 0 or not reason:
            raise RuleError("assessment", "a denial states amount 0 and a reason")
    else:
        raise RuleError("assessment", f"expected decision approve or deny, found {decision!r}")
    claim.decision = str(decision)
    claim.assessed_fen = amount


def _claim_disclosed(state: PlanState, entry: Entry) -> None:
    _keys(
        entry,
        {"claim", "age_band", "category", "amount_fen", "days_since_joining", "objections_close"},
    )
    claim = state._claim(str(entry.body["claim"]))
    if claim.decision is None or claim.disclosed is not None:
        raise RuleError("disclose", f"claim {claim.id} must be assessed and not yet disclosed")
    expected = disclosure_body(state, claim, entry.time)
    if dict(entry.body) != expected:
        raise RuleError(
            "disclosure", f"expected the disclosure {expected}, found {dict(entry.body)}"
        )
    claim.disclosed = entry.time
    claim.objections_close = expected["objections_close"]


def disclosure_body(state: PlanState, claim: Claim, time: str) -> dict[str, Any]:
    """What disclosing ``claim`` at ``time`` must state (specs/plan.md §5.3)."""
    member = state.members[claim.member]
    return {
        "claim": claim.id,
        "age_band": member.age_band,
        "category": state.rules_at(claim.filed).conditions[claim.condition].category,
        "amount_fen": claim.assessed_fen,
        "days_since_joining": (parse_time(claim.filed) - parse_time(member.joined)).days,
        "objections_close": add_days(time, state.rules_at(time).objection_days),
    }


def decision_body(state: PlanState, claim: Claim, rules: Rules) -> dict[str, Any]:
    """The decision the assessment, the votes and ``rules`` give (specs/plan.md §5.8)."""
    approve = sum(1 for c in claim.votes.values() if c == "approve")
    deny = len(claim.votes) - approve
    basis = "assessment"
    outcome = "approved" if claim.decision == "approve" else "denied"
    if claim.jurors is not None and approve + deny >= rules.quorum:
        basis = "panel"
        approved = approve * 10_000 > rules.threshold_bp * (approve + deny)
        outcome = "approved" if approved else "denied"
    amount = 0
    if outcome == "approved":
        if claim.decision == "approve":
            amount = claim.assessed_fen
        else:
            condition = state.rules_at(claim.filed).conditions[claim.condition]
            band = state.members[claim.member].age_band
            amount = min(claim.amount_fen, rules.benefit(condition, band))
    return {
        "claim": claim.id,
        "outcome": outcome,
        "amount_fen": amount,
        "basis": basis,
        "approve": approve,
        "deny": deny,
        "rules_version": rules.version,
    }


def _claim_objected(state: PlanState, entry: Entry) -> None:
    _keys(entry, {"claim", "objector", "reason_hash"})
    claim = state._claim(str(entry.body["claim"]))
    if claim.objections_close is None or entry.time >= claim.objections_close:
        raise RuleError(
            "objection_window",
            f"objections to {claim.id} are open from its disclosure until "
            f"{claim.objections_close}, not at {entry.time}",
        )
    objector = state._member(_str(entry, "objector", MEMBER_RE), entry.time)
    if objector.id == claim.member or objector.id in claim.objectors:
        raise RuleError("objector", f"{objector.id} may not object to {claim.id} (again)")
    _str(entry, "reason_hash", HEX64_RE)
    claim.objectors.append(objector.id)


def _claim_appealed(state: PlanState, entry: Entry) -> None:
    _keys(entry, {"claim", "appellant", "secret_commitment"})
    rules = state.rules_at(entry.time)
    claim = state._claim(str(entry.body["claim"]))
    if claim.objections_close is None or claim.appellant is not None or claim.outcome is not None:
        raise RuleError("appeal", f"claim {claim.id} must be disclosed, undecided, not appealed")
    closes = add_days(claim.objections_close, rules.appeal_days)
    if entry.time >= closes:
        raise RuleError("appeal_window", f"appeals against {claim.id} closed at {closes}")
    appellant = state._member(_str(entry, "appellant", MEMBER_RE), entry.time)
    allowed = [claim.member] if claim.decision == "deny" else claim.objectors
    if appellant.id not in allowed:
        raise RuleError(
            "appellant",
            f"only {'the claimant' if claim.decision == 'deny' else 'an objector'} may appeal "
            f"this {claim.decision}, not {appellant.id}",
        )
    claim.appellant = appellant.id
    claim.appealed = entry.time
    claim.secret_commitment = _str(entry, "secret_commitment", HEX64_RE)
    # The pool is fixed here, before any randomness exists (§6).
    excluded = {claim.member, *claim.objectors}
    claim.pool = sorted(
        m.id
        for m in state.members.values()
        if m.juror_key is not None and m.active_at(entry.time) and m.id not in excluded
    )


def _panel_pooled(state: PlanState, entry: Entry) -> None:
    _keys(entry, {"claim", "pool_root", "pool_size", "pool_signature", "rules_version"})
    rules = _rules_version(state, entry)
    claim = state._claim(str(entry.body["claim"]))
    if claim.pool is None or claim.appealed is None or claim.pool_signature is not None:
        raise RuleError("pool", f"claim {claim.id} must be appealed and its pool not yet signed")
    if claim.outcome is not None:
        raise RuleError("pool", f"claim {claim.id} is already decided")
    reveal_by = add_days(claim.appealed, rules.reveal_days)
    if entry.time >= reveal_by:
        raise RuleError("reveal_window", f"the pool was due before {reveal_by}")
    try:
        root = pool_root(claim.id, claim.pool)
    except DrawError as exc:
        raise RuleError("pool", str(exc)) from None
    if entry.body["pool_root"] != root.hex() or entry.body["pool_size"] != len(claim.pool):
        raise RuleError("pool", "the pool root or size is not the pool fixed at the appeal")
    if len(claim.pool) < rules.panel_size:
        raise RuleError(
            "panel_size",
            f"expected a pool of at least {rules.panel_size} jurors, found {len(claim.pool)}",
        )
    signature = _b64(entry, "pool_signature", 64)
    assert state.log_key is not None
    if not state.log_key.verify(pool_signature_message(state.origin, claim.id, root), signature):
        raise RuleError("pool", "the pool signature does not verify with the log's key")
    claim.pool_signature = signature


def _panel_drawn(state: PlanState, entry: Entry) -> None:
    _keys(entry, {"claim", "secret", "seed", "jurors", "voting_closes", "rules_version"})
    rules = _rules_version(state, entry)
    claim = state._claim(str(entry.body["claim"]))
    if claim.pool is None or claim.pool_signature is None or claim.jurors is not None:
        raise RuleError("draw", f"claim {claim.id} must have a signed pool and no panel yet")
    if claim.outcome is not None or claim.appealed is None:
        raise RuleError("draw", f"claim {claim.id} is already decided")
    reveal_by = add_days(claim.appealed, rules.reveal_days)
    if entry.time >= reveal_by:
        raise RuleError("reveal_window", f"the appellant's secret was due before {reveal_by}")
    secret_hex = _str(entry, "secret", HEX64_RE)
    if hashlib.sha256(bytes.fromhex(secret_hex)).hexdigest() != claim.secret_commitment:
        raise RuleError("draw", "the revealed secret does not match the appeal's commitment")
    root = pool_root(claim.id, claim.pool)
    seed_bytes = seed(root, claim.pool_signature, bytes.fromhex(secret_hex))
    if entry.body["seed"] != seed_bytes.hex():
        raise RuleError("draw", "the seed is not H(pool root, pool signature, secret)")
    try:
        jurors = draw(claim.pool, seed_bytes, rules.panel_size)
    except DrawError as exc:
        raise RuleError("panel_size", str(exc)) from None
    if entry.body["jurors"] != jurors:
        raise RuleError("draw", f"expected the jurors {jurors}, found {entry.body['jurors']}")
    closes = add_days(entry.time, rules.voting_days)
    if entry.body["voting_closes"] != closes:
        raise RuleError("draw", f"expected voting to close at {closes}")
    claim.jurors = jurors
    claim.voting_closes = closes


def _vote_cast(state: PlanState, entry: Entry) -> None:
    _keys(entry, {"claim", "juror", "choice", "rationale_hash", "signature"})
    claim = state._claim(str(entry.body["claim"]))
    juror = _str(entry, "juror", MEMBER_RE)
    if claim.jurors is None or claim.voting_closes is None:
        raise RuleError("vote_panel", f"claim {claim.id} has no panel")
    if juror not in claim.jurors:
        raise RuleError("vote_panel", f"{juror} was not drawn for claim {claim.id}")
    if entry.actor != f"juror:{juror}":
        raise RuleError("vote_actor", f"a vote by {juror} must have actor juror:{juror}")
    if juror in claim.votes:
        raise RuleError("vote_once", f"{juror} has already voted on claim {claim.id}")
    if entry.time >= claim.voting_closes or claim.outcome is not None:
        raise RuleError("vote_window", f"voting on {claim.id} closed at {claim.voting_closes}")
    if not state.members[juror].active_at(entry.time):
        raise RuleError("vote_panel", f"juror {juror} has left the plan")
    key = state.members[juror].juror_key
    assert key is not None
    try:
        verify_vote(
            key,
            state.origin,
            claim.id,
            str(entry.body["choice"]),
            str(entry.body["rationale_hash"]),
            str(entry.body["signature"]),
        )
    except VoteError as exc:
        raise RuleError("vote_signature", str(exc)) from None
    claim.votes[juror] = str(entry.body["choice"])


def _claim_decided(state: PlanState, entry: Entry) -> None:
    _keys(entry, {"claim", "outcome", "amount_fen", "basis", "approve", "deny", "rules_version"})
    rules = _rules_version(state, entry)
    claim = state._claim(str(entry.body["claim"]))
    if claim.objections_close is None or claim.outcome is not None:
        raise RuleError("decide", f"claim {claim.id} must be disclosed and not yet decided")
    if claim.appellant is None:
        ready = add_days(claim.objections_close, rules.appeal_days)
        if entry.time < ready:
            raise RuleError("decide_early", f"claim {claim.id} may be decided from {ready}")
    elif claim.jurors is None:
        assert claim.appealed is not None
        ready = add_days(claim.appealed, rules.reveal_days)
        if entry.time < ready:
            raise RuleError("decide_early", f"the appellant may reveal until {ready}")
    else:
        assert claim.voting_closes is not None
        if entry.time < claim.voting_closes and len(claim.votes) < len(claim.jurors):
            raise RuleError(
                "decide_early", f"voting on {claim.id} is open until {claim.voting_closes}"
            )
    expected = decision_body(state, claim, rules)
    if dict(entry.body) != expected:
        raise RuleError(
            "decision_tally",
            f"the rules and votes give {expected}, the entry says {dict(entry.body)}",
        )
    claim.outcome = str(expected["outcome"])
    claim.decided_fen = int(expected["amount_fen"])


def _claim_paid(state: PlanState, entry: Entry) -> None:
    _keys(entry, {"claim", "amount_fen", "period"})
    claim = state._claim(str(entry.body["claim"]))
    if claim.outcome != "approved":
        raise RuleError("pay_approved", f"claim {claim.id} is not decided approved")
    if claim.paid_fen is not None:
        raise RuleError("pay_once", f"claim {claim.id} was already paid")
    assert claim.objections_close is not None
    if entry.time < claim.objections_close:
        raise RuleError(
            "objection_window", f"claim {claim.id} may be paid from {claim.objections_close}"
        )
    amount = _int(entry, "amount_fen", minimum=1)
    if amount != claim.decided_fen:
        raise RuleError(
            "benefit_limit", f"expected {claim.decided_fen} fen as decided, found {amount}"
        )
    period = period_open_at(entry.time)
    if entry.body["period"] != period:
        raise RuleError("period", f"a payment at {entry.time} belongs to {period}")
    claim.paid_fen = amount
    claim.paid_period = period
    state.paid_in.setdefault(period, []).append((claim.id, amount))


def _claim_reversed(state: PlanState, entry: Entry) -> None:
    _keys(entry, {"claim", "recovered_fen", "reason"})
    claim = state._claim(str(entry.body["claim"]))
    if claim.paid_fen is None or claim.recovered_fen is not None:
        raise RuleError("reverse", f"claim {claim.id} must be paid and not yet reversed")
    recovered = _int(entry, "recovered_fen", minimum=1)
    if recovered > claim.paid_fen:
        raise RuleError("reverse", f"at most the {claim.paid_fen} fen paid can be recovered")
    if not isinstance(entry.body["reason"], str) or not entry.body["reason"]:
        raise RuleError("reverse", "a reversal states its reason")
    claim.recovered_fen = recovered
    state.recovered_in.setdefault(period_open_at(entry.time), []).append((claim.id, recovered))


def close_period(state: PlanState, period: str, time: str) -> PeriodClose:
    """Compute what closing ``period`` at ``time`` must state (specs/plan.md §8).

    The result is remembered for this state (at its current size), so that checking
    the ``period.closed`` entry the operator builds from it does not compute a large
    period twice.
    """
    key = (period, time, state.size)
    if state.close_cache is not None and state.close_cache[0] == key:
        return state.close_cache[1]
    close = _close_period(state, period, time)
    state.close_cache = (key, close)
    return close


def _close_period(state: PlanState, period: str, time: str) -> PeriodClose:
    expected_period = state.next_period_to_close()
    if period != expected_period:
        raise RuleError(
            "period_order", f"the next period to close is {expected_period}, not {period}"
        )
    cut = cutoff(period)
    if time < cut:
        raise RuleError("period_cutoff", f"period {period} can be closed from {cut}")
    rules = state.rules_at(time)
    paid = state.paid_in.get(period, [])
    recovered = state.recovered_in.get(period, [])
    aid = sum(a for _, a in paid) - sum(a for _, a in recovered)
    year = parse_time(cut).year
    before = state.charged.get(year, {})
    counted = sorted(
        m.id for m in state.members.values() if m.joined < cut and (m.left is None or m.left >= cut)
    )
    result = apportion(
        aid_fen=aid,
        fee_bp=rules.fee_bp,
        carry_in_fen=state.last_carry_out(),
        annual_cap_fen=rules.annual_cap_fen,
        members=[(m, before.get(m, 0)) for m in counted],
    )
    charges = result.charges
    tree = sumtree.levels([sumtree.leaf_packed(period, m, charges[m]) for m in counted])
    root = sumtree.root(tree)
    body = {
        "period": period,
        "cutoff": cut,
        "rules_version": rules.version,
        "claims": [c for c, _ in paid],
        "aid_fen": aid,
        "fee_fen": result.fee_fen,
        "carry_in_fen": result.carry_in_fen,
        "members": result.members,
        "share_fen": result.share_fen,
        "carry_out_fen": result.carry_out_fen,
        "subsidy_fen": result.subsidy_fen,
        "capped_members": result.capped_members,
        "contribution_root": base64.b64encode(root.hash).decode(),
        "contribution_total_fen": root.total,
    }
    return PeriodClose(period, body, result, tree, counted)


def _period_closed(state: PlanState, entry: Entry) -> None:
    period = entry.body.get("period")
    if not isinstance(period, str):
        raise RuleError("period", "expected a period id")
    close = close_period(state, period, entry.time)
    if dict(entry.body) != close.body:
        raise RuleError(
            "apportionment", f"the rules give {close.body}, the entry says {dict(entry.body)}"
        )
    year = parse_time(close.body["cutoff"]).year
    charged = state.charged.setdefault(year, {})
    for member, charge in close.apportionment.charges.items():
        charged[member] = charged.get(member, 0) + charge
    # The computed tree stays in ``close_cache`` for whoever stores it; the state
    # keeps trees only when asked (they are large).
    state.closed.append(close if state.keep_trees else replace(close, tree=[]))


_HANDLERS: Mapping[str, Callable[[PlanState, Entry], None]] = {
    "plan.rules": _plan_rules,
    "plan.wound_down": _wound_down,
    "member.joined": _member_joined,
    "member.left": _member_left,
    "juror.enrolled": _juror_enrolled,
    "claim.filed": _claim_filed,
    "claim.assessed": _claim_assessed,
    "claim.disclosed": _claim_disclosed,
    "claim.objected": _claim_objected,
    "claim.appealed": _claim_appealed,
    "panel.pooled": _panel_pooled,
    "panel.drawn": _panel_drawn,
    "vote.cast": _vote_cast,
    "claim.decided": _claim_decided,
    "claim.paid": _claim_paid,
    "claim.reversed": _claim_reversed,
    "period.closed": _period_closed,
}
PLAN_TYPES = frozenset(_HANDLERS)


# -- body field helpers -----------------------------------------------------------


def _keys(entry: Entry, keys: set[str]) -> None:
    found = set(entry.body)
    if found != keys:
        raise RuleError(
            "entry_format",
            f"{entry.type} has the keys {sorted(keys)}; missing {sorted(keys - found)}, "
            f"extra {sorted(found - keys)}",
        )


def _str(entry: Entry, key: str, pattern: re.Pattern[str]) -> str:
    value = entry.body[key]
    if not isinstance(value, str) or not pattern.match(value):
        raise RuleError("entry_format", f"{entry.type}: {key} {value!r} is malformed")
    return value


def _int(entry: Entry, key: str, *, minimum: int) -> int:
    value = entry.body[key]
    if type(value) is not int or value < minimum:
        raise RuleError(
            "entry_format", f"{entry.type}: expected {key} >= {minimum}, found {value!r}"
        )
    return value


def _time(entry: Entry, key: str) -> str:
    value = entry.body[key]
    if not isinstance(value, str):
        raise RuleError("entry_format", f"{entry.type}: expected {key} a time, found {value!r}")
    try:
        parse_time(value)
    except Exception:
        raise RuleError("entry_format", f"{entry.type}: {key} {value!r} is not a time") from None
    return value


def _b64(entry: Entry, key: str, size: int) -> bytes:
    value = entry.body[key]
    try:
        data = base64.b64decode(str(value), validate=True)
    except (binascii.Error, ValueError):
        data = b""
    if len(data) != size or base64.b64encode(data).decode() != value:
        raise RuleError("entry_format", f"{entry.type}: expected {key} base64 of {size} bytes")
    return data


def _rules_version(state: PlanState, entry: Entry) -> Rules:
    rules = state.rules_at(entry.time)
    if entry.body.get("rules_version") != rules.version:
        raise RuleError(
            "rules_in_force",
            f"version {rules.version} is in force at {entry.time}; the entry names "
            f"{entry.body.get('rules_version')!r}",
        )
    return rules
