"""The plan's rules, each one kept and each one broken, on both backends."""

from __future__ import annotations

import hashlib

import pytest

from ledger.domain import sumtree
from ledger.domain.errors import RuleError
from ledger.domain.plan import Plan
from ledger.domain.rules import reference_rules
from ledger.domain.state import PlanState
from ledger.domain.vote import sign_vote
from ledger.log.entry import parse_entry
from ledger.log.log import NewEntry
from tests.ledger.domain.conftest import juror_public, juror_seed

RATIONALE = hashlib.sha256(b"the records support it").hexdigest()


def members(plan: Plan, count: int, at: str = "2025-01-02T00:00:00Z") -> list[str]:
    known = len(plan.state.members)  # one person joins once: new people each time
    joined = plan.join_many(
        [
            (
                "0-39" if i % 3 else "40-59",
                {"name": f"person {known + i}", "id": f"ID{known + i:04d}"},
            )
            for i in range(count)
        ],
        at=at,
    )
    return [m for m, _ in joined]


def approved_claim(plan: Plan, member: str, *, amount: int = 1_000_000) -> str:
    claim = plan.file_claim(
        member, "C50", amount, "2025-04-10T00:00:00Z", b"records", at="2025-04-11T00:00:00Z"
    )
    plan.assess(claim, "approve", amount, "covered", b"report", at="2025-04-11T12:00:00Z")
    plan.disclose(claim, at="2025-04-12T00:00:00Z")
    return claim


def refused(plan: Plan, rule: str, action: object) -> None:
    size = plan.ledger.log.size()
    with pytest.raises(RuleError) as caught:
        action()  # type: ignore[operator]
    assert caught.value.rule == rule, caught.value
    assert plan.ledger.log.size() == size


def test_a_claim_from_filing_to_payment(plan: Plan) -> None:
    people = members(plan, 5)
    claim = approved_claim(plan, people[0])
    # Inside the objection window nothing can be paid: not even a decision is possible yet.
    refused(plan, "claim.paid.approved", lambda: plan.pay(claim, at="2025-04-13T00:00:00Z"))
    refused(plan, "claim.decided.early", lambda: plan.decide(claim, at="2025-04-16T00:00:00Z"))
    plan.decide(claim, at="2025-04-18T00:00:00Z")
    plan.pay(claim, at="2025-04-18T01:00:00Z")
    refused(plan, "claim.paid.twice", lambda: plan.pay(claim, at="2025-04-19T00:00:00Z"))
    found = plan.state.claims[claim]
    assert (found.outcome, found.paid_fen, found.paid_period) == ("approved", 1_000_000, "2025-04b")


def test_waiting_period_and_cover(plan: Plan) -> None:
    person = members(plan, 1)[0]
    refused(
        plan,
        "claim.filed.waiting",
        lambda: plan.file_claim(
            person, "C50", 100, "2025-03-01T00:00:00Z", b"e", at="2025-03-02T00:00:00Z"
        ),
    )
    # Accidents are covered at once.
    plan.file_claim(person, "ACC", 100, "2025-01-03T00:00:00Z", b"e", at="2025-01-04T00:00:00Z")
    refused(
        plan,
        "claim.filed.condition",
        lambda: plan.file_claim(
            person, "Z99", 100, "2025-06-01T00:00:00Z", b"e", at="2025-06-02T00:00:00Z"
        ),
    )
    refused(
        plan,
        "claim.filed.diagnosed",
        lambda: plan.file_claim(
            person, "C50", 100, "2025-07-01T00:00:00Z", b"e", at="2025-06-02T00:00:00Z"
        ),
    )
    refused(
        plan,
        "claim.filed.member",
        lambda: plan.file_claim(
            "m-" + "0" * 20, "C50", 100, "2025-06-01T00:00:00Z", b"e", at="2025-06-02T00:00:00Z"
        ),
    )


def test_benefit_limits(plan: Plan) -> None:
    young, older = members(plan, 2)[1], members(plan, 1, at="2025-01-02T00:00:00Z")[0]
    claim = plan.file_claim(
        young, "C50", 40_000_000, "2025-05-01T00:00:00Z", b"e", at="2025-05-02T00:00:00Z"
    )
    refused(
        plan,
        "claim.assessed.amount",
        lambda: plan.assess(claim, "approve", 30_000_001, "x", b"r", at="2025-05-03T00:00:00Z"),
    )
    plan.assess(claim, "approve", 30_000_000, "x", b"r", at="2025-05-03T00:00:00Z")
    light = plan.file_claim(
        older, "C73", 9_000_000, "2025-05-01T00:00:00Z", b"e", at="2025-05-04T00:00:00Z"
    )
    refused(
        plan,
        "claim.assessed.amount",
        lambda: plan.assess(light, "approve", 5_000_001, "x", b"r", at="2025-05-05T00:00:00Z"),
    )
    refused(
        plan,
        "claim.assessed.amount",
        lambda: plan.assess(light, "deny", 5, "x", b"r", at="2025-05-05T00:00:00Z"),
    )


def test_rules_take_force_only_after_notice(plan: Plan) -> None:
    refused(
        plan,
        "rules.notice",
        lambda: plan.set_rules(
            reference_rules("2025-03-01T00:00:00Z", version=2, member_signatures=None),
            at="2025-02-15T00:00:00Z",
        ),
    )
    newer = reference_rules("2025-03-20T00:00:00Z", version=2, member_signatures=None)
    plan.set_rules(newer, at="2025-02-15T00:00:00Z")
    assert plan.state.rules_at("2025-03-19T23:59:59Z").version == 1
    assert plan.state.rules_at("2025-03-20T00:00:00Z").version == 2
    person = members(plan, 1, at="2025-02-16T00:00:00Z")[0]
    claim = plan.file_claim(
        person, "ACC", 100, "2025-02-17T00:00:00Z", b"e", at="2025-02-18T00:00:00Z"
    )
    # An assessment that names version 2 before it is in force is refused.
    body = {
        "claim": claim,
        "decision": "approve",
        "amount_fen": 100,
        "reason": "x",
        "report_commitment": "ab" * 32,
        "rules_version": 2,
    }
    refused(
        plan,
        "rules.applied",
        lambda: plan.submit(
            [NewEntry("claim.assessed", "operator", body, time="2025-02-19T00:00:00Z")]
        ),
    )


def appeal_and_draw(plan: Plan, claim: str, appellant: str, at_day: int) -> list[str]:
    secret = hashlib.sha256(b"appellant secret " + claim.encode()).digest()
    plan.appeal(
        claim, appellant, hashlib.sha256(secret).hexdigest(), at=f"2025-04-{at_day:02d}T00:00:00Z"
    )
    plan.sign_pool(claim, at=f"2025-04-{at_day:02d}T06:00:00Z")
    return plan.draw_panel(claim, secret, at=f"2025-04-{at_day + 1:02d}T00:00:00Z")


def vote(plan: Plan, claim: str, juror: str, index: int, choice: str, at: str) -> None:
    signature = sign_vote(juror_seed(index), plan.state.origin, claim, choice, RATIONALE)
    plan.cast_vote(claim, juror, choice, RATIONALE, signature, at=at)


def panel_fixture(plan: Plan) -> tuple[list[str], dict[str, int]]:
    people = members(plan, 25)
    index = {}
    for n, person in enumerate(people[5:]):
        plan.enrol_juror(person, juror_public(n), at="2025-02-05T00:00:00Z")
        index[person] = n
    return people, index


def test_a_denial_overturned_by_a_drawn_panel(plan: Plan) -> None:
    people, index = panel_fixture(plan)
    claim = plan.file_claim(
        people[0], "I21", 20_000_000, "2025-04-10T00:00:00Z", b"e", at="2025-04-11T00:00:00Z"
    )
    plan.assess(claim, "deny", 0, "pre-existing", b"r", at="2025-04-11T06:00:00Z")
    plan.disclose(claim, at="2025-04-12T00:00:00Z")
    refused(
        plan,
        "claim.appealed.appellant",
        lambda: plan.appeal(claim, people[1], "ab" * 32, at="2025-04-13T00:00:00Z"),
    )
    jurors = appeal_and_draw(plan, claim, people[0], 14)
    assert len(jurors) == 15
    assert people[0] not in jurors
    outsider = next(p for p in index if p not in jurors)
    refused(
        plan,
        "vote.panel",
        lambda: vote(plan, claim, outsider, index[outsider], "approve", "2025-04-15T01:00:00Z"),
    )
    forged = sign_vote(juror_seed(99), plan.state.origin, claim, "approve", RATIONALE)
    refused(
        plan,
        "vote.signature",
        lambda: plan.cast_vote(
            claim, jurors[0], "approve", RATIONALE, forged, at="2025-04-15T01:00:00Z"
        ),
    )
    for n, juror in enumerate(jurors[:12]):
        vote(
            plan, claim, juror, index[juror], "approve" if n < 8 else "deny", "2025-04-15T02:00:00Z"
        )
    refused(
        plan,
        "vote.twice",
        lambda: vote(plan, claim, jurors[0], index[jurors[0]], "deny", "2025-04-15T03:00:00Z"),
    )
    refused(
        plan,
        "vote.window",
        lambda: vote(plan, claim, jurors[13], index[jurors[13]], "deny", "2025-04-18T00:00:00Z"),
    )
    refused(plan, "claim.decided.early", lambda: plan.decide(claim, at="2025-04-16T00:00:00Z"))
    # A decision against the tally is refused.
    body = {
        "claim": claim,
        "outcome": "denied",
        "amount_fen": 0,
        "basis": "panel",
        "approve": 8,
        "deny": 4,
        "rules_version": 1,
    }
    refused(
        plan,
        "claim.decided.outcome",
        lambda: plan.submit(
            [NewEntry("claim.decided", "operator", body, time="2025-04-18T00:00:00Z")]
        ),
    )
    plan.decide(claim, at="2025-04-18T00:00:00Z")
    found = plan.state.claims[claim]
    assert (found.outcome, found.decided_fen) == ("approved", 10_000_000)  # the 40-59 benefit
    plan.pay(claim, at="2025-04-18T00:00:01Z")


def test_the_draw_is_reproducible_from_the_log_alone(plan: Plan) -> None:
    people, _ = panel_fixture(plan)
    claim = approved_claim(plan, people[1])
    plan.object(claim, people[2], "I saw them at the gym", at="2025-04-13T00:00:00Z")
    jurors = appeal_and_draw(plan, claim, people[2], 14)
    replayed = PlanState()
    for _, raw in plan.ledger.log.entries(0, plan.ledger.log.size()):
        replayed.apply(parse_entry(raw))
    assert replayed.claims[claim].jurors == jurors
    assert people[2] not in jurors
    assert people[1] not in jurors


def test_periods_apportion_and_prove_each_share(plan: Plan) -> None:
    people = members(plan, 9)
    bodies = [
        plan.close_period(at=f"2025-{m:02d}-{d}T00:00:00Z") for m in (1, 2, 3) for d in (14, 28)
    ]
    claim = approved_claim(plan, people[0], amount=2_000_000)
    bodies.append(plan.close_period(at="2025-04-14T00:00:00Z"))
    plan.decide(claim, at="2025-04-18T00:00:00Z")
    plan.pay(claim, at="2025-04-18T01:00:00Z")
    bodies.append(plan.close_period(at="2025-04-28T00:00:00Z"))
    last = bodies[-1]
    assert (last["period"], last["claims"]) == ("2025-04b", [claim])
    assert (last["aid_fen"], last["fee_fen"]) == (2_000_000, 160_000)
    assert last["members"] == 9
    assert last["contribution_total_fen"] == (
        last["aid_fen"]
        + last["fee_fen"]
        - last["carry_in_fen"]
        + last["carry_out_fen"]
        - last["subsidy_fen"]
    )
    refused(plan, "period.early", lambda: plan.close_period(at="2025-05-13T00:00:00Z"))
    proof = plan.contribution_proof("2025-04b", people[3])
    assert proof is not None
    index, leaf, siblings, root = proof
    sumtree.verify(leaf, index, 9, siblings, root)
    assert root.total == last["contribution_total_fen"]


def test_fraud_is_reversed_by_a_new_entry(plan: Plan) -> None:
    people = members(plan, 3)
    claim = approved_claim(plan, people[0])
    plan.decide(claim, at="2025-04-18T00:00:00Z")
    plan.pay(claim, at="2025-04-18T01:00:00Z")
    refused(
        plan,
        "claim.reversed.amount",
        lambda: plan.reverse(claim, 1_000_001, "fraud", at="2025-05-01T00:00:00Z"),
    )
    plan.reverse(claim, 1_000_000, "forged records", at="2025-05-01T00:00:00Z")
    assert plan.state.recovered_in_period("2025-05a") == [(claim, 1_000_000)]


def test_juror_tenure_and_erasure(plan: Plan) -> None:
    person = members(plan, 1)[0]
    refused(
        plan,
        "juror.enrolled.tenure",
        lambda: plan.enrol_juror(person, juror_public(1), at="2025-01-20T00:00:00Z"),
    )
    assert plan.identity(person) is not None
    assert plan.erase(person)
    assert plan.identity(person) is None
    replayed = PlanState()
    for _, raw in plan.ledger.log.entries(0, plan.ledger.log.size()):
        replayed.apply(parse_entry(raw))
    assert person in replayed.members


def test_payment_inside_the_objection_window_is_refused_even_if_decided(plan: Plan) -> None:
    """Defence in depth: the payment rule checks the window itself, not only the decision."""
    people = members(plan, 2)
    claim = approved_claim(plan, people[0])
    state = plan.state
    state.claims[claim].outcome = "approved"  # as a buggy or hostile decision step would
    state.claims[claim].decided_fen = 1_000_000
    entry = NewEntry(
        "claim.paid",
        "operator",
        {"claim": claim, "amount_fen": 1_000_000, "period": "2025-04a"},
        time="2025-04-13T00:00:00Z",
    )
    refused(plan, "claim.paid.early", lambda: plan.submit([entry]))


def test_rules_with_absurd_windows_are_refused(plan: Plan) -> None:
    from dataclasses import replace

    huge = replace(
        reference_rules("2025-03-01T00:00:00Z", version=2, member_signatures=None),
        waiting_days=10**9,
    )
    refused(plan, "rules.days", lambda: plan.set_rules(huge, at="2025-01-20T00:00:00Z"))


def test_a_panel_needs_its_pool_signed_on_the_log_first(plan: Plan) -> None:
    people, _ = panel_fixture(plan)
    claim = approved_claim(plan, people[1])
    plan.object(claim, people[2], "doubt", at="2025-04-13T00:00:00Z")
    secret = hashlib.sha256(b"s").digest()
    plan.appeal(claim, people[2], hashlib.sha256(secret).hexdigest(), at="2025-04-14T00:00:00Z")
    refused(
        plan, "panel.drawn.order", lambda: plan.draw_panel(claim, secret, at="2025-04-14T01:00:00Z")
    )
    plan.sign_pool(claim, at="2025-04-14T02:00:00Z")
    refused(plan, "panel.pooled.twice", lambda: plan.sign_pool(claim, at="2025-04-14T03:00:00Z"))
    refused(
        plan,
        "panel.drawn.secret",
        lambda: plan.draw_panel(claim, b"\0" * 32, at="2025-04-14T04:00:00Z"),
    )
    assert len(plan.draw_panel(claim, secret, at="2025-04-14T05:00:00Z")) == 15


def test_many_leave_in_one_batch_or_none_do(plan: Plan) -> None:
    people = members(plan, 4)
    plan.leave(people[0], at="2025-01-03T00:00:00Z")
    refused(
        plan,
        "member.left.active",
        lambda: plan.leave_many(people[:3], at="2025-01-04T00:00:00Z"),
    )
    assert all(plan.state.members[p].left is None for p in people[1:])
    left = plan.leave_many(people[1:3], at="2025-01-04T00:00:00Z")
    assert [a.seq for a in left] == [left[0].seq, left[0].seq + 1]
    assert [plan.state.members[p].left for p in people] == [
        "2025-01-03T00:00:00Z",
        "2025-01-04T00:00:00Z",
        "2025-01-04T00:00:00Z",
        None,
    ]
