"""Appeals that ended without their panel (verifier.plan.findings), case by case."""

from __future__ import annotations

from typing import Any

from verifier.plan.findings import appeal_findings
from verifier.plan.records import ClaimRecord

DAY = 86_400


def record(**fields: Any) -> ClaimRecord:
    claim = ClaimRecord(
        claim="c-7",
        seq=10,
        member="m-1",
        condition="C50",
        kind="major",
        category="cancer",
        claimed_fen=100,
        diagnosed="2025-01-01T00:00:00Z",
        filed_at="2025-02-01T00:00:00Z",
        filed_s=0,
    )
    claim.history = [(10, "claim.filed"), (14, "claim.appealed"), (20, "claim.decided")]
    for name, value in fields.items():
        setattr(claim, name, value)
    return claim


APPEALED = {"appellant": "m-2", "appealed_s": 5 * DAY, "appeal_due_s": 7 * DAY, "panel_size": 3}


def kinds(*claims: ClaimRecord, now: int | None = None) -> list[tuple[int, str]]:
    return [(f.seq, f.kind) for f in appeal_findings(claims, now)]


def test_no_appeal_or_a_panel_decision_is_no_finding() -> None:
    assert kinds(record(outcome="approved", basis="assessment")) == []
    drawn = record(**APPEALED, jurors=["a", "b", "c"], outcome="denied", basis="panel")
    assert kinds(drawn) == []


def test_each_way_an_appeal_can_miss_its_panel() -> None:
    pool = ["a", "b", "c", "d"]
    base = {**APPEALED, "outcome": "denied", "basis": "assessment", "pool": pool}
    assert kinds(record(**base)) == [(20, "panel_not_convened")]
    assert kinds(record(**{**base, "pool": ["a", "b"]})) == [(20, "too_few_jurors")]
    assert kinds(record(**base, pool_signature=b"s")) == [(20, "panel_not_drawn")]
    quorum = record(**base, pool_signature=b"s", jurors=["a", "b", "c"], quorum=2)
    quorum.votes = {"a": "approve"}
    (finding,) = appeal_findings([quorum], None)
    assert finding.kind == "no_quorum"
    assert "1 of the 3 drawn jurors voted, fewer than the quorum of 2" in finding.message


def test_an_undecided_appeal_is_overdue_only_after_its_deadline() -> None:
    pending = record(**APPEALED)
    assert kinds(pending, now=7 * DAY - 1) == []
    assert kinds(pending, now=7 * DAY) == [(14, "appeal_overdue")]
    assert kinds(pending, now=None) == []
    assert kinds(record(**APPEALED, jurors=["a", "b", "c"]), now=30 * DAY) == []
