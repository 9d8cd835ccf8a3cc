"""A random valid plan replays identically on both implementations of specs/plan.md.

Hypothesis draws a sequence of operator actions (joins, leavings, enrolments,
claims through every step, panels and votes, payments, reversals, rules changes,
period closes, days passing); each is tried through the ledger's ``Plan``, and one
the rules refuse is simply not on the log. The ledger's own replay
(:class:`ledger.domain.state.PlanState`) and the verifier's
(:class:`verifier.plan.state.PlanReplay`) must then accept every entry and agree
on every member, claim and closed period. On both backends.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger.domain.errors import RuleError
from ledger.domain.periods import cutoff
from ledger.domain.plan import Plan
from ledger.domain.rules import reference_rules
from ledger.domain.state import PlanState
from ledger.domain.vote import sign_vote
from ledger.instance import init_ledger
from ledger.log.entry import format_time, parse_entry, parse_time
from tests.conftest import empty_database
from verifier.entry import ChainVerifier
from verifier.plan.state import PlanReplay

START = "2024-01-01T00:00:00Z"
LAST = "2026-06-01T00:00:00Z"
RATIONALE = hashlib.sha256(b"why").hexdigest()
PATHS = ("deny", "approve", "appeal_denial", "objected_appeal", "objected_only", "undisclosed")


@dataclass(frozen=True)
class ClaimPlan:
    """One claim's path through the plan, drawn at random."""

    member: int
    code: str
    amount: int
    path: str
    votes: tuple[bool, ...]
    reverse: int
    gap_days: int


CLAIMS = st.builds(
    ClaimPlan,
    member=st.integers(0, 40),
    code=st.sampled_from(("ACC", "C50", "C73", "I21")),
    amount=st.integers(1, 40_000_000),
    path=st.sampled_from(PATHS),
    votes=st.lists(st.booleans(), max_size=5).map(tuple),
    reverse=st.integers(0, 120),
    gap_days=st.integers(0, 40),
)


@dataclass(frozen=True)
class Scenario:
    """A random plan: members, leavers, jurors, rules changes and claims."""

    members: int
    leavers: tuple[int, ...]
    jurors: int
    rules: tuple[tuple[int, int, int], ...]
    claims: tuple[ClaimPlan, ...]


SCENARIOS = st.builds(
    Scenario,
    members=st.integers(5, 24),
    leavers=st.lists(st.integers(0, 40), max_size=4).map(tuple),
    jurors=st.integers(2, 12),
    rules=st.lists(
        st.tuples(st.integers(0, 10_000), st.integers(0, 40_000), st.integers(2, 5)), max_size=2
    ).map(tuple),
    claims=st.lists(CLAIMS, min_size=1, max_size=8).map(tuple),
)


def seed_of(member: str) -> bytes:
    return hashlib.sha256(b"juror key of " + member.encode()).digest()


def secret_of(claim: str) -> bytes:
    return hashlib.sha256(b"secret of " + claim.encode()).digest()


@dataclass
class Driver:
    """Runs a scenario through the ledger's commands, on a calendar that only moves forward.

    A command the rules refuse (a pool too small for the panel, a member who left,
    an illness in its waiting period, ...) is simply not on the log; the scenario
    goes on. Every due period is closed as time passes.
    """

    plan: Plan
    time: str = START
    people: list[str] = field(default_factory=list)
    versions: int = 1

    def wait(self, hours: int) -> None:
        later = min(format_time(parse_time(self.time) + timedelta(hours=hours)), LAST)
        while True:
            period = self.plan.state.next_period_to_close()
            if period is None or cutoff(period) > later:
                break
            self.time = max(self.time, cutoff(period))
            self.plan.close_period(at=self.time)
        self.time = max(self.time, later)

    def tried(self, command: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, at=self.time, **kwargs)
        except RuleError:
            return None

    def run(self, scenario: Scenario) -> None:
        people = [("0-39" if i % 3 else "40-59", {"n": i}) for i in range(scenario.members)]
        self.people = [m for m, _ in self.plan.join_many(people, at=self.time)]
        self.wait(24 * 35)
        for member in self.people[: scenario.jurors]:
            public = Ed25519PrivateKey.from_private_bytes(seed_of(member)).public_key()
            self.tried(self.plan.enrol_juror, member, public.public_bytes_raw())
        for fee_bp, cap, panel in scenario.rules:
            self.announce(fee_bp, cap, panel)
        for n, claim in enumerate(scenario.claims):
            if n < len(scenario.leavers):
                self.tried(self.plan.leave, self.people[scenario.leavers[n] % len(self.people)])
            self.wait(24 * claim.gap_days + 1)
            self.claim(claim)
        self.wait(24 * 40)

    def announce(self, fee_bp: int, cap: int, panel: int) -> None:
        effective = format_time(parse_time(self.time) + timedelta(days=2))
        rules = replace(
            reference_rules(START, member_signatures=None),
            version=self.versions + 1,
            effective=effective,
            notice_days=1,
            waiting_days=30,
            fee_bp=fee_bp,
            annual_cap_fen=cap,
            panel_size=panel,
            quorum=2,
        )
        if self.tried(self.plan.set_rules, rules) is not None:
            self.versions += 1
        self.wait(1)

    def claim(self, how: ClaimPlan) -> None:
        member = self.people[how.member % len(self.people)]
        diagnosed = format_time(parse_time(self.time) - timedelta(hours=1))
        claim = self.tried(self.plan.file_claim, member, how.code, how.amount, diagnosed, b"e")
        if claim is None or how.path == "undisclosed":
            return
        found = self.plan.state.claim(claim)
        if how.path in ("deny", "appeal_denial"):
            self.tried(self.plan.assess, claim, "deny", 0, "not covered", b"r")
        else:
            rules = self.plan.state.rules_at(self.time)
            band = self.plan.state.members[member].age_band
            limit = min(found.amount_fen, rules.benefit_for(found.kind, band))
            self.tried(self.plan.assess, claim, "approve", limit, "covered", b"r")
        self.wait(1)
        self.tried(self.plan.disclose, claim)
        self.wait(1)
        if how.path in ("objected_appeal", "objected_only"):
            objector = self.people[(how.member + 1) % len(self.people)]
            self.tried(self.plan.object, claim, objector, "doubt")
            self.wait(1)
        if how.path in ("appeal_denial", "objected_appeal"):
            self.appeal(claim, how)
        self.wait(24 * 7)
        self.tried(self.plan.decide, claim)
        self.wait(1)
        if self.tried(self.plan.pay, claim) is not None and how.reverse:
            self.wait(24 * (how.reverse % 30))
            paid = self.plan.state.claim(claim).paid_fen or 1
            self.tried(self.plan.reverse, claim, max(1, paid * how.reverse // 120), "fraud")

    def appeal(self, claim: str, how: ClaimPlan) -> None:
        found = self.plan.state.claim(claim)
        appellant = found.member if found.decision == "deny" else next(iter(found.objectors), None)
        if appellant is None:
            return
        commitment = hashlib.sha256(secret_of(claim)).hexdigest()
        if self.tried(self.plan.appeal, claim, appellant, commitment) is None:
            return
        self.wait(1)
        self.tried(self.plan.sign_pool, claim)
        self.wait(1)
        jurors = self.tried(self.plan.draw_panel, claim, secret_of(claim)) or []
        origin = self.plan.state.origin
        for juror, approve in zip(jurors, how.votes, strict=False):
            self.wait(1)
            choice = "approve" if approve else "deny"
            signature = sign_vote(seed_of(juror), origin, claim, choice, RATIONALE)
            self.tried(self.plan.cast_vote, claim, juror, choice, RATIONALE, signature)


def ledger_view(state: PlanState) -> dict[str, Any]:
    members = {m.id: (m.age_band, m.joined, m.left, m.juror_key) for m in state.all_members()}
    claims = {
        c.id: (
            c.member,
            c.condition,
            c.outcome,
            c.basis,
            c.paid_fen,
            c.paid_period,
            c.recovered_fen,
            c.recovered_period,
            c.jurors,
            dict(c.votes),
            sorted(c.objectors),
        )
        for c in state.all_claims()
    }
    return {"members": members, "claims": claims, "periods": [c.body for c in state.closed]}


def verifier_view(replay: PlanReplay) -> dict[str, Any]:
    members = {
        m.member: (m.age_band, m.joined_at, m.left_at, m.juror_key) for m in replay.members.values()
    }
    claims = {
        c.claim: (
            c.member,
            c.condition,
            c.outcome,
            c.basis,
            c.paid_fen,
            c.paid_period,
            c.recovered_fen,
            c.recovered_period,
            c.jurors,
            dict(c.votes),
            sorted(c.objectors),
        )
        for c in replay.claims.values()
    }
    return {
        "members": members,
        "claims": claims,
        "periods": [p.body for p in replay.periods.values()],
    }


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(scenario=SCENARIOS)
@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_a_random_plan_replays_identically_on_both_sides(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path, scenario: Scenario
) -> None:
    postgres = request.getfixturevalue("postgres_url") if backend == "postgresql" else None
    with empty_database(backend, tmp_path, postgres) as url:
        key = tmp_path / f"{abs(hash(url))}.key"
        ledger, _ = init_ledger(url, key, "both.example/log", genesis_time=START)
        try:
            driver = Driver(Plan(ledger))
            rules = replace(
                reference_rules(START, member_signatures=None),
                panel_size=3,
                quorum=2,
                waiting_days=30,
                notice_days=1,
            )
            driver.plan.set_rules(rules, at=START)
            driver.run(scenario)
            raws = [raw for _, raw in ledger.log.entries(0, ledger.log.size())]
        finally:
            ledger.close()
    ledger_state = PlanState()
    chain, replay = ChainVerifier(), PlanReplay()
    for raw in raws:
        ledger_state.apply(parse_entry(raw))
        replay.apply(chain.add(raw))
    assert verifier_view(replay) == ledger_view(ledger_state)
