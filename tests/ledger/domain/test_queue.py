"""The claims queue and the plan's calendar (ledger.domain.queue), on both backends: a
claim walked through every step shows what it waits for, on whom, and until when."""

from __future__ import annotations

import hashlib

from ledger.domain.plan import Plan
from ledger.domain.queue import Waiting, claim_queue, deadlines, overview
from ledger.domain.rules import reference_rules
from tests.ledger.domain.test_plan import members, panel_fixture, vote


def only(plan: Plan, now: str) -> Waiting:
    queue = claim_queue(plan.state, now)
    assert len(queue) == 1, queue
    return queue[0]


def stage(plan: Plan, now: str) -> tuple[str, str, str | None]:
    w = only(plan, now)
    return w.stage, w.waits_on, w.until


def test_a_claim_through_its_panel(plan: Plan) -> None:
    people, index = panel_fixture(plan)
    claim = plan.file_claim(
        people[0], "I21", 20_000_000, "2025-04-10T00:00:00Z", b"e", at="2025-04-11T00:00:00Z"
    )
    assert stage(plan, "2025-04-11T00:00:00Z") == ("assessment", "operator", None)
    plan.assess(claim, "deny", 0, "pre-existing", b"r", at="2025-04-11T06:00:00Z")
    assert stage(plan, "2025-04-11T06:00:00Z") == ("disclosure", "operator", None)
    plan.disclose(claim, at="2025-04-12T00:00:00Z")
    # A denial: only the claimant may act, by appealing until objections close + 3 days.
    assert stage(plan, "2025-04-12T00:00:00Z") == ("appeals", "claimant", "2025-04-18T00:00:00Z")
    assert stage(plan, "2025-04-15T00:00:00Z") == ("appeals", "claimant", "2025-04-18T00:00:00Z")
    assert stage(plan, "2025-04-18T00:00:00Z") == ("decision", "operator", None)
    secret = hashlib.sha256(b"queue secret").digest()
    plan.appeal(claim, people[0], hashlib.sha256(secret).hexdigest(), at="2025-04-16T00:00:00Z")
    assert stage(plan, "2025-04-16T00:00:00Z") == ("pool", "operator", "2025-04-18T00:00:00Z")
    plan.sign_pool(claim, at="2025-04-16T06:00:00Z")
    assert stage(plan, "2025-04-16T06:00:00Z") == ("secret", "appellant", "2025-04-18T00:00:00Z")
    assert stage(plan, "2025-04-18T00:00:00Z") == ("decision", "operator", None)
    jurors = plan.draw_panel(claim, secret, at="2025-04-17T00:00:00Z")
    waiting = only(plan, "2025-04-17T00:00:00Z")
    assert (waiting.stage, waiting.waits_on, waiting.until) == (
        "votes",
        "jurors",
        "2025-04-20T00:00:00Z",
    )
    assert waiting.detail == f"0 of {len(jurors)} jurors have voted"
    vote(plan, claim, jurors[0], index[jurors[0]], "approve", "2025-04-17T06:00:00Z")
    assert only(plan, "2025-04-17T06:00:00Z").detail == f"1 of {len(jurors)} jurors have voted"
    for juror in jurors[1:]:
        vote(plan, claim, juror, index[juror], "approve", "2025-04-18T00:00:00Z")
    # Every juror voted: the operator may decide before voting closes.
    assert stage(plan, "2025-04-18T00:00:00Z") == ("decision", "operator", None)
    plan.decide(claim, at="2025-04-18T01:00:00Z")
    assert stage(plan, "2025-04-18T01:00:00Z") == ("payment", "operator", None)
    plan.pay(claim, at="2025-04-18T02:00:00Z")
    assert claim_queue(plan.state, "2025-04-18T02:00:00Z") == []


def test_a_denied_claim_leaves_the_queue_and_the_most_urgent_comes_first(plan: Plan) -> None:
    a, b = members(plan, 2)
    first = plan.file_claim(
        a, "ACC", 1_000, "2025-01-02T00:00:00Z", b"e", at="2025-01-03T00:00:00Z"
    )
    second = plan.file_claim(
        b, "ACC", 1_000, "2025-01-02T00:00:00Z", b"e", at="2025-01-03T01:00:00Z"
    )
    plan.assess(second, "deny", 0, "no", b"r", at="2025-01-03T02:00:00Z")
    plan.disclose(second, at="2025-01-03T03:00:00Z")
    queue = claim_queue(plan.state, "2025-01-03T04:00:00Z")
    # The one with a deadline first, then the one waiting since longest.
    assert [(w.claim, w.stage) for w in queue] == [(second, "appeals"), (first, "assessment")]
    plan.decide(second, at="2025-01-09T03:00:00Z")
    assert [w.claim for w in claim_queue(plan.state, "2025-01-09T03:00:00Z")] == [first]


def test_the_calendar_names_the_next_cutoff_and_rules_announced(plan: Plan) -> None:
    members(plan, 2)
    plan.set_rules(
        reference_rules("2025-03-01T00:00:00Z", version=2, member_signatures=None),
        at="2025-01-20T00:00:00Z",
    )
    early = deadlines(plan.state, "2025-01-10T00:00:00Z")
    assert (early.next_period, early.next_cutoff, early.closable) == (
        "2025-01a",
        "2025-01-14T00:00:00Z",
        False,
    )
    late = deadlines(plan.state, "2025-01-20T00:00:00Z")
    assert late.closable
    assert late.announced == [(2, "2025-03-01T00:00:00Z")]
    facts = overview(plan.state, "2025-01-20T00:00:00Z")
    assert facts["rules_version"] == 1
    assert facts["active_members"] == 2
    assert facts["announced_rules"] == [{"version": 2, "effective": "2025-03-01T00:00:00Z"}]
    assert facts["waiting"]["assessment"] == 0


def test_an_approval_waits_on_members_then_objectors(plan: Plan) -> None:
    a, b = members(plan, 2)
    claim = plan.file_claim(
        a, "ACC", 1_000, "2025-01-02T00:00:00Z", b"e", at="2025-01-03T00:00:00Z"
    )
    plan.assess(claim, "approve", 1_000, "ok", b"r", at="2025-01-03T01:00:00Z")
    plan.disclose(claim, at="2025-01-03T02:00:00Z")
    assert stage(plan, "2025-01-04T00:00:00Z") == ("objections", "members", "2025-01-06T02:00:00Z")
    late = only(plan, "2025-01-07T00:00:00Z")
    assert (late.stage, late.waits_on, late.detail) == (
        "appeals",
        "objectors",
        "no objection: nobody may appeal",
    )
    plan.object(claim, b, "seen at work", at="2025-01-04T00:00:00Z")
    assert only(plan, "2025-01-07T00:00:00Z").detail == "1 objector(s) may appeal"
    assert stage(plan, "2025-01-09T02:00:00Z") == ("decision", "operator", None)


def test_no_rules_in_force_yet_is_an_empty_queue(plan: Plan) -> None:
    plan.set_rules(
        reference_rules("2025-03-01T00:00:00Z", version=2, member_signatures=None),
        at="2025-01-20T00:00:00Z",
    )
    assert claim_queue(plan.state, "2024-12-01T00:00:00Z") == []
    assert deadlines(plan.state, "2024-12-01T00:00:00Z").queue == []
