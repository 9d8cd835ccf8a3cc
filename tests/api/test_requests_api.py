"""``POST /v1/requests`` (specs/requests.md §5), on both backends.

A plan whose rules require member signatures: members who joined with their own
keys object, appeal, file and leave by posting requests they signed; each is
appended as the member's own entry and answered with a receipt the log's key
signed. Forged, replayed and malformed requests are refused with problem documents
that name the rule, and append nothing; nothing is ever answered with a 500.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from api.app import create_app
from ledger.domain.plan import Plan
from ledger.domain.replay import replay_plan
from ledger.domain.requests import (
    RequestDocument,
    juror_key_message,
    public_key,
    sign,
    sign_request,
)
from ledger.domain.rules import reference_rules
from ledger.domain.vote import sign_vote
from ledger.log.entry import entry_hash
from ledger.publish.receipt import open_receipt
from tests.api.admin_support import ORIGIN, PROBLEM, START, Admin, running_admin

JOINED = "2025-01-02T00:00:00Z"
REASON = hashlib.sha256(b"the diagnosis predates the join").hexdigest()


def seed(n: int) -> bytes:
    return hashlib.sha256(b"requests api member %d" % n).digest()


def member_id(n: int) -> str:
    return "m-" + hashlib.sha256(b"requests api member id %d" % n).hexdigest()[:20]


def document(
    n: int, entry_type: str, body: dict[str, Any], key: bytes | None = None
) -> dict[str, Any]:
    """A request document of member ``n``, signed by their key (or ``key``)."""
    return {
        "type": entry_type,
        "body": sign_request(key or seed(n), ORIGIN, entry_type, body),
    }


def keyed_plan(made: Admin, members: int) -> Plan:
    """Rules requiring member signatures, and ``members`` members joined with their keys."""
    plan = Plan(made.ledger)
    rules = replace(
        reference_rules(START), panel_size=3, quorum=2, member_signature_policy="required"
    )
    plan.set_rules(rules, at=START)
    requests = [
        RequestDocument(
            "member.joined",
            sign_request(
                seed(n),
                ORIGIN,
                "member.joined",
                {"member": member_id(n), "member_key": public_key(seed(n)), "request": 0},
            ),
        )
        for n in range(members)
    ]
    people = [("0-39", {"person": n}) for n in range(members)]
    plan.join_many(people, requests=requests, at=JOINED)
    return plan


@pytest.fixture
def admin(db_url: str, tmp_path: Path) -> Iterator[Admin]:
    """Three keyed members; member 0's accident claim approved and disclosed."""
    with running_admin(db_url, tmp_path) as made:
        plan = keyed_plan(made, 3)
        filing = {
            "member": member_id(0),
            "condition": "ACC",
            "amount_fen": 500_000,
            "diagnosed": "2025-01-03T00:00:00Z",
            "evidence_commitment": hashlib.sha256(b"evidence").hexdigest(),
            "request": 1,
        }
        doc = document(0, "claim.filed", filing)
        filed = plan.submit_request(
            RequestDocument(doc["type"], doc["body"]), at="2025-01-04T00:00:00Z"
        )
        claim = f"c-{filed.seq}"
        plan.assess(claim, "approve", 500_000, "covered", b"r", at="2025-01-04T01:00:00Z")
        plan.disclose(claim, at="2025-01-04T02:00:00Z")
        made.clock.set("2025-01-05T00:00:00Z")
        made.claim = claim  # type: ignore[attr-defined]
        yield made


def post(admin: Admin, value: Any) -> Any:
    return admin.client.post("/v1/requests", json=value)


def objection(admin: Admin, n: int = 1, number: int = 1) -> dict[str, Any]:
    body = {
        "claim": admin.claim,  # type: ignore[attr-defined]
        "objector": member_id(n),
        "reason_hash": REASON,
        "request": number,
    }
    return document(n, "claim.objected", body)


def refused(
    admin: Admin, value: Any, status: int, rule: str | None = None, **kw: Any
) -> dict[str, Any]:
    size = admin.ledger.log.size()
    response = admin.client.post("/v1/requests", **kw) if kw else post(admin, value)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    problem: dict[str, Any] = response.json()
    if rule is not None:
        assert problem["rule"] == rule, problem
    assert admin.ledger.log.size() == size, "a refused request appended nothing"
    return problem


def test_a_signed_objection_is_the_members_entry_with_a_receipt(admin: Admin) -> None:
    doc = objection(admin)
    response = post(admin, doc)
    assert response.status_code == 201, response.text
    out = response.json()
    raw, entry = admin.entry(out["seq"])
    assert entry["actor"] == f"member:{member_id(1)}"
    assert entry["type"] == "claim.objected"
    assert json.loads(raw)["body"] == doc["body"]
    assert out["entry_hash"] == entry_hash(raw)
    receipt = open_receipt(out["receipt"], admin.verifier)
    assert (receipt.seq, receipt.entry_hash) == (out["seq"], out["entry_hash"])
    assert response.headers["cache-control"] == "no-store"


def test_appeal_and_leaving_by_signed_requests_keep_the_rules(admin: Admin, db_url: str) -> None:
    assert post(admin, objection(admin)).status_code == 201
    secret = hashlib.sha256(b"only the appellant knows").hexdigest()
    appeal = {
        "claim": admin.claim,  # type: ignore[attr-defined]
        "appellant": member_id(1),
        "secret_commitment": secret,
        "request": 2,
    }
    assert post(admin, document(1, "claim.appealed", appeal)).status_code == 201
    leave = document(2, "member.left", {"member": member_id(2), "request": 7})
    assert post(admin, leave).status_code == 201
    report, _ = replay_plan(admin.ledger.store)
    assert report.ok, report.mismatches
    assert report.projections_compared == admin.ledger.log.size()


def test_the_same_request_twice_is_refused_as_a_replay(admin: Admin) -> None:
    doc = objection(admin)
    assert post(admin, doc).status_code == 201
    refused(admin, doc, 409, "request.replay")


def test_forged_and_cross_member_requests_are_refused(admin: Admin) -> None:
    forged = objection(admin)
    forged["body"] = sign_request(seed(9), ORIGIN, "claim.objected", forged["body"])
    refused(admin, forged, 409, "request.signature")
    # member 2's key, member 1's name
    crossed = document(2, "claim.objected", {**objection(admin)["body"]}, key=seed(2))
    crossed["body"]["objector"] = member_id(1)
    refused(admin, crossed, 409, "request.signature")
    other_origin = objection(admin)
    other_origin["body"] = sign_request(
        seed(1), "elsewhere.example/log", "claim.objected", other_origin["body"]
    )
    refused(admin, other_origin, 409, "request.signature")


def test_the_rules_still_apply_to_a_signed_request(admin: Admin) -> None:
    # the claimant may not object to their own claim
    refused(admin, objection(admin, n=0, number=5), 409, "claim.objected.objector")


def test_malformed_requests_are_400_never_500(admin: Admin) -> None:
    refused(admin, None, 400, content=b"{not json", headers={"content-type": "application/json"})
    refused(
        admin, None, 400, content=b'{"type": NaN}', headers={"content-type": "application/json"}
    )
    refused(admin, [1, 2], 400)
    refused(admin, {"type": "claim.objected"}, 400)
    refused(admin, {"type": "vote.cast", "body": {"signature": "x"}}, 400)
    unsigned = objection(admin)
    del unsigned["body"]["signature"]
    refused(admin, unsigned, 400)
    refused(admin, {"type": "claim.objected", "body": {"objector": 5, "signature": "x"}}, 400)
    refused(admin, None, 400, content=b"\xff\xfe", headers={"content-type": "application/json"})


def test_a_join_is_for_the_operator(admin: Admin) -> None:
    body = {"member": member_id(5), "member_key": public_key(seed(5)), "request": 0}
    problem = refused(admin, document(5, "member.joined", body), 422)
    assert "operator" in problem["detail"]


def test_content_type_and_size_are_checked(admin: Admin) -> None:
    text = json.dumps(objection(admin)).encode()
    refused(admin, None, 415, content=text, headers={"content-type": "text/plain"})
    refused(admin, None, 415, content=text)
    big = objection(admin)
    big["body"]["padding"] = "x" * 20_000
    refused(admin, big, 413)


def test_each_member_is_limited_but_forgeries_do_not_use_up_their_budget(admin: Admin) -> None:
    for _ in range(15):  # forged in member 0's name: refused, and not counted
        forged = document(0, "member.left", {"member": member_id(0), "request": 99}, key=seed(8))
        refused(admin, forged, 409, "request.signature")
    accepted = 0
    for n in range(12):
        filing = {
            "member": member_id(0),
            "condition": "ACC",
            "amount_fen": 1_000 + n,
            "diagnosed": f"2025-01-03T00:01:{n:02d}Z",
            "evidence_commitment": hashlib.sha256(b"evidence %d" % n).hexdigest(),
            "request": 10 + n,
        }
        response = post(admin, document(0, "claim.filed", filing))
        if response.status_code == 201:
            accepted += 1
        else:
            assert response.status_code == 429, response.text
            assert int(response.headers["retry-after"]) >= 1
            break
    assert accepted == 10


def test_a_read_only_server_takes_no_request(admin: Admin) -> None:
    with TestClient(create_app(admin.ledger.store)) as client:
        response = client.post("/v1/requests", json=objection(admin))
    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM


def test_the_endpoint_under_generated_input_never_answers_500(admin: Admin) -> None:
    app = admin.client.app
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operation = schema["/v1/requests"]["POST"]

    @given(case=operation.as_strategy())
    @settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
    def run(case: schemathesis.Case) -> None:
        # a well-formed document is refused by the plan's rules (409): data, not schema
        case.call_and_validate(excluded_checks=[positive_data_acceptance])

    run()


def _denied_claim(made: Admin) -> str:
    """Five keyed members, three jurors; member 0's claim denied and disclosed."""
    plan = keyed_plan(made, 5)
    for n in (2, 3, 4):
        juror = hashlib.sha256(b"juror %d" % n).digest()
        key = public_key(juror)
        body = {
            "member": member_id(n),
            "juror_key": key,
            "juror_signature": sign(juror, juror_key_message(ORIGIN, member_id(n), key)),
            "request": 1,
        }
        doc = document(n, "juror.enrolled", body)
        plan.submit_request(RequestDocument(doc["type"], doc["body"]), at="2025-02-05T00:00:00Z")
    filing = {
        "member": member_id(0),
        "condition": "ACC",
        "amount_fen": 500_000,
        "diagnosed": "2025-02-05T00:00:00Z",
        "evidence_commitment": hashlib.sha256(b"evidence").hexdigest(),
        "request": 1,
    }
    doc = document(0, "claim.filed", filing)
    filed = plan.submit_request(
        RequestDocument(doc["type"], doc["body"]), at="2025-02-06T00:00:00Z"
    )
    claim = f"c-{filed.seq}"
    plan.assess(claim, "deny", 0, "not an accident", b"r", at="2025-02-06T01:00:00Z")
    plan.disclose(claim, at="2025-02-06T02:00:00Z")
    return claim


def test_an_appellant_reveals_their_secret_once_the_pool_is_signed(
    db_url: str, tmp_path: Path
) -> None:
    secret = hashlib.sha256(b"the appellant's own secret").digest()
    with running_admin(db_url, tmp_path) as made:
        claim = _denied_claim(made)
        plan = Plan(made.ledger)
        made.clock.set("2025-02-07T00:00:00Z")
        appeal = {
            "claim": claim,
            "appellant": member_id(0),
            "secret_commitment": hashlib.sha256(secret).hexdigest(),
            "request": 2,
        }
        assert post(made, document(0, "claim.appealed", appeal)).status_code == 201
        reveal = {"claim": claim, "secret": secret.hex()}

        def reveal_refused(value: Any, status: int, rule: str | None = None) -> None:
            size = made.ledger.log.size()
            response = made.client.post("/v1/reveals", json=value)
            assert response.status_code == status, response.text
            if rule is not None:
                assert response.json()["rule"] == rule
            assert made.ledger.log.size() == size

        reveal_refused(reveal, 409, "panel.drawn.order")  # no pool signed yet
        plan.sign_pool(claim, at="2025-02-07T00:00:00Z")
        reveal_refused({**reveal, "secret": "00" * 32}, 409, "panel.drawn.secret")
        reveal_refused({**reveal, "secret": "xyz"}, 400)
        reveal_refused({"claim": claim}, 400)
        response = made.client.post("/v1/reveals", json=reveal)
        assert response.status_code == 201, response.text
        raw, entry = made.entry(response.json()["seq"])
        assert entry["type"] == "panel.drawn"
        assert json.loads(raw)["body"]["secret"] == secret.hex()
        report, _ = replay_plan(made.ledger.store)
        assert report.ok, report.mismatches

        jurors = json.loads(raw)["body"]["jurors"]
        rationale = hashlib.sha256(b"the accident is documented").hexdigest()
        vote = {
            "claim": claim,
            "juror": jurors[0],
            "choice": "approve",
            "rationale_hash": rationale,
        }
        n = next(k for k in (2, 3, 4) if member_id(k) == jurors[0])
        forged = sign_vote(seed(9), ORIGIN, claim, "approve", rationale)
        refused(
            made,
            {"type": "vote.cast", "body": {**vote, "signature": forged}},
            409,
            "vote.signature",
        )
        juror_seed = hashlib.sha256(b"juror %d" % n).digest()
        signature = sign_vote(juror_seed, ORIGIN, claim, "approve", rationale)
        response = post(made, {"type": "vote.cast", "body": {**vote, "signature": signature}})
        assert response.status_code == 201, response.text
        assert made.entry(response.json()["seq"])[1]["actor"] == f"juror:{jurors[0]}"
        report, _ = replay_plan(made.ledger.store)
        assert report.ok, report.mismatches
