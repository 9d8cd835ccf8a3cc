"""Replaying the plan: every rule re-checked from the log, stored trees compared."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger.domain.plan import Plan
from ledger.domain.replay import replay_plan
from ledger.domain.rules import reference_rules
from ledger.domain.state import PlanState
from ledger.instance import init_ledger
from ledger.log.entry import encode_entry, entry_hash, parse_entry
from ledger.log.tree import Frontier, leaf_hash, stored_hash_count
from tests.conftest import empty_database
from tests.ledger.domain.conftest import START
from tests.ledger.domain.test_plan import approved_claim, members
from tests.ledger.tamper import tamper


def paid_plan(plan: Plan) -> list[str]:
    people = members(plan, 6)
    for month in (1, 2, 3):
        for day in (14, 28):
            plan.close_period(at=f"2025-{month:02d}-{day}T00:00:00Z")
    claim = approved_claim(plan, people[0], amount=3_000_000)
    plan.close_period(at="2025-04-14T00:00:00Z")
    plan.decide(claim, at="2025-04-18T00:00:00Z")
    plan.pay(claim, at="2025-04-18T01:00:00Z")
    plan.close_period(at="2025-04-28T00:00:00Z")
    return people


def test_a_clean_plan_replays(plan: Plan) -> None:
    paid_plan(plan)
    report, state = replay_plan(plan.ledger.store)
    assert report.ok, report.mismatches
    assert (report.periods, report.members, report.claims) == (8, 6, 1)
    assert state.closed[-1].body == plan.state.closed[-1].body


def test_a_tampered_contribution_row_is_found(plan: Plan) -> None:
    people = paid_plan(plan)
    tamper(
        plan.ledger.store,
        "UPDATE contribution SET amount_fen = amount_fen + 1 "
        "WHERE period = '2025-04b' AND member = :m",
        {"m": sorted(people)[0]},
    )
    report, _ = replay_plan(plan.ledger.store)
    assert not report.ok
    assert "2025-04b" in report.mismatches[0].what


def test_an_entry_that_breaks_a_rule_is_named_by_seq(plan: Plan) -> None:
    """A forger with database access appends a payment no rule allows, hashes and all."""
    people = paid_plan(plan)
    store = plan.ledger.store
    size = plan.ledger.log.size()
    last = plan.ledger.log.entries(size - 1, size)[0][1]
    forged = encode_entry(
        seq=size,
        time="2025-05-01T00:00:00Z",
        type="claim.paid",
        prev=entry_hash(last),
        actor="operator",
        body={"claim": f"c-{size}", "amount_fen": 1, "period": "2025-05a"},
    )
    frontier = Frontier(size, store.fetch_hashes(Frontier.positions(size)))
    tamper(store, "INSERT INTO entry (seq, data) VALUES (:s, :d)", {"s": size, "d": forged})
    for offset, h in enumerate(frontier.append(leaf_hash(forged))):
        tamper(
            store,
            "INSERT INTO tree_hash (idx, hash) VALUES (:i, :h)",
            {"i": stored_hash_count(size) + offset, "h": h},
        )
    report, _ = replay_plan(store)
    assert report.mismatches[0].seq == size
    assert "claim.known" in report.mismatches[0].what
    assert people


@settings(
    max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    people=st.integers(1, 12),
    claims=st.lists(st.lists(st.integers(1, 30_000_000), max_size=3), min_size=4, max_size=8),
    leavers=st.integers(0, 3),
)
def test_money_is_conserved_in_random_plans(
    backend: str,
    request: pytest.FixtureRequest,
    tmp_path: Path,
    people: int,
    claims: list[list[int]],
    leavers: int,
) -> None:
    """Every period: charges = aid + fee - carry_in + carry_out - subsidy; each paid claim once."""
    postgres = request.getfixturevalue("postgres_url") if backend == "postgresql" else None
    with empty_database(backend, tmp_path, postgres) as url:
        key = tmp_path / f"{abs(hash(url))}.key"
        ledger, _ = init_ledger(url, key, "p.example/log", genesis_time=START)
        try:
            plan = Plan(ledger)
            plan.set_rules(reference_rules(START, member_signatures=None), at=START)
            joined = members(plan, people)
            gone = set(joined[: min(leavers, people - 1)])
            for member in sorted(gone):
                plan.leave(member, at="2025-01-03T00:00:00Z")
            active = [m for m in joined if m not in gone]
            pending: list[str] = []
            for n, amounts in enumerate(claims):
                month, half = divmod(n, 2)
                day = "14" if half == 0 else "28"
                start_of = f"2025-{month + 1:02d}-{day}T06:00:00Z"
                for claim in pending:
                    plan.decide(claim, at=start_of)
                    plan.pay(claim, at=start_of)
                pending = []
                for i, amount in enumerate(amounts):
                    member = active[(n + i) % len(active)]
                    diagnosed = f"2025-{month + 1:02d}-{day}T05:{i:02d}:00Z"
                    claim = plan.file_claim(member, "ACC", amount, diagnosed, b"e", at=start_of)
                    plan.assess(claim, "approve", min(amount, 5_000_000), "ok", b"r", at=start_of)
                    plan.disclose(claim, at=start_of)
                    pending.append(claim)
                plan.close_period(at=start_of)
            replayed = PlanState()
            for _, raw in plan.ledger.log.entries(0, plan.ledger.log.size()):
                replayed.apply(parse_entry(raw))
        finally:
            ledger.close()
    seen: set[str] = set()
    for close in replayed.closed:
        b = close.body
        assert b["contribution_total_fen"] == (
            b["aid_fen"] + b["fee_fen"] - b["carry_in_fen"] + b["carry_out_fen"] - b["subsidy_fen"]
        )
        assert not seen & set(b["claims"])
        seen |= set(b["claims"])
    closed = {close.period for close in replayed.closed}
    paid = {c.id for c in replayed.claims.values() if c.paid_period in closed}
    assert paid == seen
