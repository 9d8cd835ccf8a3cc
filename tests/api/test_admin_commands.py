"""Every admin endpoint's happy path, and refusals as problems, on both backends.

One plan is run end to end through the admin API on a simulated calendar (the
``at`` of each command, and the server's clock for the jurors' votes): rules,
members (one, many, one leaving), jurors, two claims (one objected to and paid
then partly reversed, one denied, appealed, its pool signed, drawn, voted and
overturned), four
periods closed, and the wind-down. Every entry's actor names who wrote it, and the
ledger's own replay accepts the log.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from ledger.domain.replay import replay_plan
from ledger.domain.rules import reference_rules
from ledger.domain.vote import sign_vote
from ledger.log.entry import entry_hash
from ledger.publish.receipt import open_receipt
from tests.api.admin_support import (
    ORIGIN,
    PROBLEM,
    START,
    Admin,
    b64,
    juror_public_b64,
    juror_seed,
    running_admin,
)

RATIONALE = hashlib.sha256(b"the fall is documented").hexdigest()
SECRET = hashlib.sha256(b"appellant secret").digest()


@pytest.fixture
def admin(db_url: str, tmp_path: Path) -> Iterator[Admin]:
    with running_admin(db_url, tmp_path) as made:
        yield made


@pytest.fixture(scope="module")
def refusing_admin(module_db_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Admin]:
    """One admin app over a fresh log per backend, for the tests whose every command is
    refused (``refused`` checks that each appended nothing)."""
    with running_admin(module_db_url, tmp_path_factory.mktemp("admin")) as made:
        yield made


def rules_body(effective: str = START, version: int = 1) -> dict[str, Any]:
    return replace(
        reference_rules(effective, version, member_signatures=None), panel_size=3, quorum=2
    ).to_body()


def refused(admin: Admin, path: str, body: Any, status: int, rule: str | None = None) -> None:
    """The command is refused with a problem document and appends nothing.

    A ``bytes`` body is sent as is (JSON text that httpx would not encode, such as
    an escaped lone surrogate).
    """
    size = admin.ledger.log.size()
    if isinstance(body, bytes):
        response = admin.client.post(
            f"/admin/v1{path}",
            content=body,
            headers={**admin.headers(), "content-type": "application/json"},
        )
    else:
        response = admin.post(path, body)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    problem = response.json()
    assert problem["status"] == status
    assert problem["detail"]
    if rule is not None:
        assert problem["rule"] == rule, problem
        assert problem["detail"].startswith(f"{rule} (plan.md ")
    assert admin.ledger.log.size() == size, "a refused command appended nothing"


def test_a_plan_run_through_the_admin_api(admin: Admin) -> None:
    written: list[dict[str, Any]] = []

    def ok(path: str, body: Any = None, token: str | None = None) -> dict[str, Any]:
        answer = admin.ok(path, body, token)
        written.extend(answer.get("members", [answer]))
        return answer

    announced = ok("/rules", {"rules": rules_body(), "at": START})
    assert (announced["version"], announced["effective"]) == (1, START)
    people = [
        m["member"]
        for m in ok(
            "/members/bulk",
            {
                "members": [
                    {"age_band": "0-39" if i % 2 else "40-59", "identity": {"name": f"p{i}"}}
                    for i in range(8)
                ],
                "at": "2025-01-02T00:00:00Z",
            },
        )["members"]
    ]
    assert len(set(people)) == 8
    admin.clock.set("2025-01-02T00:00:00Z")
    leaver = ok(
        "/members",
        {"age_band": "0-39", "identity": {"name": "Zhao", "phone": "1370000"}},
    )["member"]
    # Without `at` the entry takes the server's clock, which is stopped here.
    assert admin.entry(written[-1]["seq"])[1]["time"] == "2025-01-02T00:00:00Z"
    admin.clock.set(None)
    closed = [ok("/periods/close", {"period": "2025-01a", "at": "2025-01-14T00:00:00Z"})]
    admin.clock.set("2025-01-28T00:00:00Z")
    closed.append(ok("/periods/close", {"period": "2025-01b"}))  # `at` is optional
    assert [c["period"] for c in closed] == ["2025-01a", "2025-01b"]
    assert closed[0]["body"]["members"] == 9
    admin.clock.set(None)

    for n, member in enumerate(people[3:]):
        ok(
            "/jurors",
            {"member": member, "juror_key": juror_public_b64(n), "at": "2025-02-05T00:00:00Z"},
        )
    ok("/periods/close", {"period": "2025-02a", "at": "2025-02-14T00:00:00Z"})

    # A claim approved, objected to, decided, paid, and partly reversed.
    paid = ok(
        "/claims",
        {
            "member": people[0],
            "condition": "ACC",
            "amount_fen": 2_000_000,
            "diagnosed": "2025-02-15T00:00:00Z",
            "evidence": b64(b"hospital records"),
            "at": "2025-02-16T00:00:00Z",
        },
    )["claim"]
    assert paid == f"c-{written[-1]['seq']}"
    ok(
        f"/claims/{paid}/assess",
        {
            "decision": "approve",
            "amount_fen": 2_000_000,
            "reason": "covered",
            "report": b64(b"report"),
            "at": "2025-02-16T01:00:00Z",
        },
    )
    ok(f"/claims/{paid}/disclose", {"at": "2025-02-16T02:00:00Z"})
    ok(
        f"/claims/{paid}/object",
        {"objector": people[2], "reason": "I doubt it", "at": "2025-02-16T02:30:00Z"},
    )

    # A claim denied, appealed, drawn, voted on by its panel, overturned and paid.
    appealed = ok(
        "/claims",
        {
            "member": people[1],
            "condition": "ACC",
            "amount_fen": 900_000,
            "diagnosed": "2025-02-15T00:00:00Z",
            "evidence": b64(b"x-ray"),
            "at": "2025-02-16T03:00:00Z",
        },
    )["claim"]
    ok(
        f"/claims/{appealed}/assess",
        {
            "decision": "deny",
            "amount_fen": 0,
            "reason": "not an accident",
            "report": b64(b"r"),
            "at": "2025-02-16T04:00:00Z",
        },
    )
    ok(f"/claims/{appealed}/disclose", {"at": "2025-02-16T05:00:00Z"})
    ok(
        f"/claims/{appealed}/appeal",
        {
            "appellant": people[1],
            "secret_commitment": hashlib.sha256(SECRET).hexdigest(),
            "at": "2025-02-17T00:00:00Z",
        },
    )
    # The pool is signed on the log before the appellant reveals the secret.
    refused(admin, f"/claims/{appealed}/draw", {"secret": SECRET.hex()}, 409, "panel.drawn.order")
    ok(f"/claims/{appealed}/pool", {"at": "2025-02-17T03:00:00Z"})
    jurors = ok(f"/claims/{appealed}/draw", {"secret": SECRET.hex(), "at": "2025-02-17T06:00:00Z"})[
        "jurors"
    ]
    assert len(jurors) == 3
    assert set(jurors) <= set(people[3:])
    # Votes are timed by the server's clock: a juror cannot choose an entry time.
    admin.clock.set("2025-02-17T12:00:00Z")
    for juror in jurors:
        seed = juror_seed(people[3:].index(juror))
        vote = {
            "juror": juror,
            "choice": "approve",
            "rationale_hash": RATIONALE,
            "signature": sign_vote(seed, ORIGIN, appealed, "approve", RATIONALE),
        }
        cast = ok(f"/claims/{appealed}/votes", vote, admin.juror_token(juror))
        assert admin.entry(cast["seq"])[1] == {
            "actor": f"juror:{juror}",
            "type": "vote.cast",
            "time": "2025-02-17T12:00:00Z",
        }
    admin.clock.set(None)
    ok(f"/claims/{appealed}/decide", {"at": "2025-02-18T00:00:00Z"})
    ok(f"/claims/{appealed}/pay", {"at": "2025-02-19T06:00:00Z"})

    ok(f"/claims/{paid}/decide", {"at": "2025-02-23T00:00:00Z"})
    ok(f"/claims/{paid}/pay", {"at": "2025-02-23T00:00:01Z"})
    refused(admin, f"/claims/{paid}/pay", {"at": "2025-02-23T00:00:02Z"}, 409, "claim.paid.twice")
    ok(
        f"/claims/{paid}/reverse",
        {"recovered_fen": 1_000, "reason": "fraud", "at": "2025-02-24T00:00:00Z"},
    )
    ok(f"/members/{leaver}/leave", {"at": "2025-02-25T00:00:00Z"})
    last_close = ok("/periods/close", {"period": "2025-02b", "at": "2025-02-28T00:00:00Z"})
    assert last_close["body"]["claims"] == [appealed, paid]
    ok("/plan/wind-down", {"claims_until": "2025-12-31T00:00:00Z", "at": "2025-03-01T00:00:00Z"})

    state = replay_plan(admin.ledger.store)
    assert state[0].ok, state[0].mismatches
    plan = state[1]
    assert plan.claims[appealed].outcome == "approved"
    assert plan.claims[appealed].paid_fen == 900_000
    assert plan.claims[paid].recovered_fen == 1_000
    assert plan.members[leaver].left == "2025-02-25T00:00:00Z"
    assert plan.wound_down is not None
    assert plan.wound_down.at == "2025-03-01T00:00:00Z"

    # Every entry written has a receipt naming its seq and hash, and its actor.
    assert [w["seq"] for w in written] == list(range(1, admin.ledger.log.size()))
    for answer in written:
        raw, fields = admin.entry(answer["seq"])
        assert answer["entry_hash"] == entry_hash(raw)
        receipt = open_receipt(answer["receipt"], admin.verifier)
        assert (receipt.seq, receipt.entry_hash, receipt.covered_by) == (
            answer["seq"],
            answer["entry_hash"],
            answer["covered_by"],
        )
        expected = "operator:ops" if fields["type"] != "vote.cast" else fields["actor"]
        assert fields["actor"] == expected


def test_rule_refusals_are_problems_naming_the_rule(admin: Admin) -> None:
    admin.ok("/rules", {"rules": rules_body(), "at": START})
    member = admin.ok(
        "/members", {"age_band": "0-39", "identity": {"n": 1}, "at": "2025-01-02T00:00:00Z"}
    )["member"]
    claim = {
        "member": member,
        "condition": "C50",
        "amount_fen": 100,
        "diagnosed": "2025-03-01T00:00:00Z",
        "evidence": b64(b"e"),
        "at": "2025-03-02T00:00:00Z",
    }
    # Inside the 90-day waiting period.
    refused(admin, "/claims", claim, 409, "claim.filed.waiting")
    refused(admin, "/claims", {**claim, "condition": "Z99"}, 409, "claim.filed.condition")
    refused(admin, "/claims/c-999/assess", _assess(), 409, "claim.known")
    refused(admin, "/members/m-00000000000000000000/leave", None, 409, "member.left.active")
    enrol = {"member": member, "juror_key": juror_public_b64(0), "at": "2025-01-03T00:00:00Z"}
    refused(admin, "/jurors", enrol, 409, "juror.enrolled.tenure")
    # A later version needs notice; a malformed rules document is 422.
    refused(
        admin,
        "/rules",
        {"rules": rules_body("2025-01-05T00:00:00Z", 2), "at": "2025-01-03T00:00:00Z"},
        409,
        "rules.notice",
    )
    refused(admin, "/rules", {"rules": {"version": 2}}, 422, "entry.keys")
    refused(
        admin,
        "/periods/close",
        {"period": "2025-01a", "at": "2025-01-03T00:00:00Z"},
        409,
        "period.early",
    )


def _assess() -> dict[str, Any]:
    return {"decision": "approve", "amount_fen": 1, "reason": "r", "report": b64(b"r")}


def test_entry_times_are_checked(admin: Admin) -> None:
    admin.ok("/rules", {"rules": rules_body(), "at": START})
    admin.ok("/members", {"age_band": "0-39", "identity": {}, "at": "2025-01-02T00:00:00Z"})
    person = {"age_band": "0-39", "identity": {}}
    # Before the log's last entry: the log refuses it.
    refused(admin, "/members", {**person, "at": "2025-01-01T12:00:00Z"}, 409)
    # In the future of the server's clock.
    admin.clock.set("2025-06-01T00:00:00Z")
    refused(admin, "/members", {**person, "at": "2025-06-01T00:00:01Z"}, 422)
    for bad in ("2025-06-01", "2025-01-03T00:00:00+00:00", "2025-02-30T00:00:00Z", 1234):
        refused(admin, "/members", {**person, "at": bad}, 400)


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/members", {"age_band": "0-39"}),
        ("/members", {"age_band": "0-39", "identity": {}, "extra": 1}),
        ("/members", {"age_band": "0-39", "identity": ["a list"]}),
        ("/members", {"age_band": "0-39", "identity": {"n": "nul \u0000"}}),
        ("/members", b'{"age_band": "0-39", "identity": {"n": "\\ud800"}}'),
        ("/members/bulk", {"members": []}),
        ("/claims", {"member": "m-1", "condition": "C50", "amount_fen": 1}),
        (
            "/claims",
            {
                "member": "m-" + "0" * 20,
                "condition": "C50",
                "amount_fen": "100",
                "diagnosed": START,
                "evidence": "",
            },
        ),
        (
            "/claims",
            {
                "member": "m-" + "0" * 20,
                "condition": "C50",
                "amount_fen": 100,
                "diagnosed": START,
                "evidence": "not base64!",
            },
        ),
        ("/claims/c-1/assess", {**_assess(), "amount_fen": -1}),
        ("/claims/c-1/assess", {**_assess(), "decision": "maybe"}),
        ("/claims/x-1/disclose", None),
        ("/claims/c-1/draw", {"secret": "zz"}),
        ("/claims/c-1/object", b'{"objector": "m-00000000000000000000", "reason": "\\udfff"}'),
        ("/jurors", {"member": "m-" + "0" * 20, "juror_key": b64(b"short")}),
        ("/plan/wind-down", {}),
        ("/rules", {"rules": "not an object"}),
    ],
)
def test_malformed_bodies_are_400(refusing_admin: Admin, path: str, body: Any) -> None:
    refused(refusing_admin, path, body, 400)


def test_unparseable_json_is_400(admin: Admin) -> None:
    response = admin.client.post(
        "/admin/v1/members",
        content=b'{"age_band": ',
        headers={**admin.headers(), "content-type": "application/json"},
    )
    assert response.status_code == 400
    assert response.headers["content-type"] == PROBLEM


def test_huge_rule_windows_are_refused(admin: Admin) -> None:
    body = {**rules_body(), "objection_days": 10**9}
    refused(admin, "/rules", {"rules": body, "at": START}, 400)
