"""The operator's own guards, on both backends: one person joins once, a period is named
to close, and entry times never go backwards or ahead of the clock."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text

from ledger.clock import SimulatedClock
from ledger.domain import identity as identity_module
from ledger.domain import member_commands as plan_module
from ledger.domain.errors import RuleError
from ledger.domain.identity import IdentityTakenError
from ledger.domain.periods import PeriodError
from ledger.domain.plan import Plan
from ledger.domain.store import private_table
from ledger.errors import EntryTimeError
from ledger.instance import open_ledger

WU = {"name": "Wu Fang", "phone": "13800000001"}
LI = {"name": "Li Na", "phone": "13800000002"}
JAN2 = "2025-01-02T00:00:00Z"


def private_members(plan: Plan) -> set[str]:
    with plan.ledger.store.reader() as conn:
        return {str(m) for m in conn.execute(select(private_table.c.member)).scalars()}


def test_a_person_joins_once_while_active(plan: Plan) -> None:
    wu, _ = plan.join("0-39", WU, at=JAN2)
    size = plan.ledger.log.size()
    with pytest.raises(IdentityTakenError) as caught:
        plan.join("40-59", dict(reversed(list(WU.items()))), at=JAN2)  # key order is no disguise
    assert caught.value.member == wu
    assert wu in str(caught.value)
    assert f"joined {JAN2}" in str(caught.value)
    assert plan.ledger.log.size() == size
    assert plan.members_by_identity([WU, LI], at=JAN2) == [(wu, JAN2), None]
    # Once they have left, the same person may join again.
    plan.leave(wu, at="2025-01-03T00:00:00Z")
    assert plan.members_by_identity([WU], at="2025-01-03T00:00:00Z") == [None]
    again, _ = plan.join("0-39", WU, at="2025-01-03T00:00:00Z")
    assert again != wu


def test_a_batch_with_a_member_or_a_repeat_joins_no_one(plan: Plan) -> None:
    wu, _ = plan.join("0-39", WU, at=JAN2)
    before = (plan.ledger.log.size(), private_members(plan))
    with pytest.raises(IdentityTakenError) as caught:
        plan.join_many([("0-39", LI), ("0-39", WU)], at=JAN2)
    assert (caught.value.index, caught.value.member) == (1, wu)
    assert "person 1 of the batch is already a member" in str(caught.value)
    with pytest.raises(IdentityTakenError) as caught:
        plan.join_many([("0-39", LI), ("40-59", {"name": "Zhao"}), ("0-39", LI)], at=JAN2)
    assert (caught.value.index, caught.value.member) == (2, None)
    assert "same identity record as person 0" in str(caught.value)
    assert (plan.ledger.log.size(), private_members(plan)) == before


def test_erasing_a_record_forgets_the_person(plan: Plan) -> None:
    wu, _ = plan.join("0-39", WU, at=JAN2)
    assert plan.erase(wu)
    assert plan.members_by_identity([WU], at=JAN2) == [None]


def test_two_writers_cannot_both_enrol_one_person(
    plan: Plan, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The other writer's join lands between this one's first check and its append."""
    other = Plan(open_ledger(db_url, tmp_path / "plan.key"))
    real = identity_module.refuse_known_people
    calls = 0

    def interleaved(*args: Any) -> None:
        nonlocal calls
        calls += 1
        if calls == 1:
            monkeypatch.setattr(plan_module, "refuse_known_people", real)
            other.join("0-39", WU, at=JAN2)
        real(*args)

    monkeypatch.setattr(plan_module, "refuse_known_people", interleaved)
    try:
        size = plan.ledger.log.size()
        with pytest.raises(IdentityTakenError) as caught:
            plan.join("0-39", WU, at=JAN2)
        assert calls == 1, "the first check passed; the one in the append refused"
        joined = next(iter(other.state.members))
        assert caught.value.member == joined
        assert plan.ledger.log.size() == size + 1  # the other writer's join only
        assert private_members(plan) == {joined}
    finally:
        other.ledger.close()


def test_records_stored_before_their_hash_existed_are_found(
    plan: Plan, db_url: str, tmp_path: Path
) -> None:
    wu, _ = plan.join("0-39", WU, at=JAN2)
    with plan.ledger.store.writer() as conn:
        conn.execute(text("DROP INDEX member_private_record_hash"))
        conn.execute(text("ALTER TABLE member_private DROP COLUMN record_hash"))
    reopened = Plan(open_ledger(db_url, tmp_path / "plan.key"))
    try:
        with pytest.raises(IdentityTakenError, match=wu):
            reopened.join("0-39", WU, at=JAN2)
    finally:
        reopened.ledger.close()


def test_a_period_is_closed_by_name_and_only_the_next(plan: Plan) -> None:
    assert plan.next_close() == ("2025-01a", "2025-01-14T00:00:00Z")
    size = plan.ledger.log.size()
    with pytest.raises(RuleError) as caught:
        plan.close_period(period="2025-01b", at="2025-01-28T00:00:00Z")
    assert caught.value.rule == "period.order"
    assert "expected the next period to close, 2025-01a (cutoff 2025-01-14T00:00:00Z)" in str(
        caught.value
    )
    with pytest.raises(RuleError) as caught:
        plan.close_period(period="2025-01a", at="2025-01-13T23:59:59Z")
    assert caught.value.rule == "period.early"
    assert "from its cutoff 2025-01-14T00:00:00Z" in str(caught.value)
    assert plan.ledger.log.size() == size
    body = plan.close_period(period="2025-01a", at="2025-01-14T00:00:00Z")
    assert body["period"] == "2025-01a"
    # The same command again, as a double submit would give it, closes nothing.
    with pytest.raises(RuleError) as caught:
        plan.close_period(period="2025-01a", at="2025-01-28T00:00:00Z")
    assert f"it was closed at seq {size}" in str(caught.value)
    assert "2025-01b (cutoff 2025-01-28T00:00:00Z)" in str(caught.value)
    with pytest.raises(PeriodError, match="2026-13a"):
        plan.close_period(period="2026-13a", at="2025-01-28T00:00:00Z")
    assert plan.ledger.log.size() == size + 1


def test_entry_times_never_go_backwards_or_ahead(plan: Plan) -> None:
    clock = SimulatedClock("2025-02-01T00:00:00Z")
    timed = Plan(plan.ledger, clock=clock)
    timed.join("0-39", WU, at="2025-01-20T00:00:00Z")
    size = plan.ledger.log.size()
    with pytest.raises(EntryTimeError) as caught:
        timed.join("0-39", LI, at="2025-01-19T23:59:59Z")
    assert caught.value.kind == "backwards"
    assert "no earlier than the log's last entry (2025-01-20T00:00:00Z)" in str(caught.value)
    with pytest.raises(EntryTimeError) as caught:
        timed.join("0-39", LI, at="2025-02-01T00:00:01Z")
    assert caught.value.kind == "future"
    assert "no later than now (2025-02-01T00:00:00Z)" in str(caught.value)
    assert plan.ledger.log.size() == size
    # With no time given, entries are dated by the clock; moving it moves them.
    clock.advance("+3d")
    member, appended = timed.join("0-39", LI)
    assert timed.state.members[member].joined == "2025-02-04T00:00:00Z"
    assert appended.seq == size
