"""Who gave a command: the operator's actor on every entry but a vote; what it appended."""

from __future__ import annotations

import pytest

from ledger.domain.errors import RuleError
from ledger.domain.plan import Plan
from ledger.log.entry import parse_entry


def actors(plan: Plan, start: int) -> list[str]:
    size = plan.ledger.log.size()
    return [parse_entry(raw).actor for _, raw in plan.ledger.log.entries(start, size)]


def test_commands_carry_the_actor_given(plan: Plan) -> None:
    start = plan.ledger.log.size()
    joined = plan.join_many(
        [("0-39", {"n": 1}), ("40-59", {"n": 2})], at="2025-01-02T00:00:00Z", actor="operator:ann"
    )
    assert plan.appended == [a for _, a in joined]
    plan.leave(joined[0][0], at="2025-01-03T00:00:00Z", actor="operator:bo.b@x-1")
    assert [a.seq for a in plan.appended] == [start + 2]
    plan.close_period(at="2025-01-14T00:00:00Z")
    assert actors(plan, start) == ["operator:ann", "operator:ann", "operator:bo.b@x-1", "operator"]


@pytest.mark.parametrize("actor", ["juror:m-1", "admin", "operator:", "operator:a b", "Operator"])
def test_only_the_operator_gives_commands(plan: Plan, actor: str) -> None:
    size = plan.ledger.log.size()
    with pytest.raises(RuleError) as caught:
        plan.join("0-39", {"n": 1}, at="2025-01-02T00:00:00Z", actor=actor)
    assert caught.value.rule == "entry.actor"
    assert "expected the operator's actor" in str(caught.value)
    assert plan.ledger.log.size() == size
