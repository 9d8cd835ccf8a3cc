"""The public plan endpoints, on the demo plan, on both backends."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.plan_view import PlanView
from ledger.demo import build_demo
from ledger.domain.stored_state import StoredPlanState
from ledger.instance import Ledger, init_ledger
from tests.conftest import empty_database

PROBLEM = "application/problem+json"


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def client(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TestClient]:
    """One demo plan per backend for the whole module (the endpoints only read)."""
    folder = tmp_path_factory.mktemp("plan-api")
    postgres = request.getfixturevalue("postgres_url") if request.param == "postgresql" else None
    with empty_database(request.param, folder, postgres) as url:
        ledger, _ = init_ledger(
            url, folder / "k.key", "api.example/plan", genesis_time="2025-01-01T00:00:00Z"
        )
        try:
            build_demo(ledger, seed=3, members=400, periods=12)
            with TestClient(create_app(ledger.store)) as test_client:
                yield test_client
        finally:
            ledger.close()


def test_rules_periods_and_stats(client: TestClient) -> None:
    rules = client.get("/v1/rules").json()["rules"]
    assert [r["version"] for r in rules] == [1, 2]
    assert rules[1]["body"]["fee_bp"] == 700
    periods = client.get("/v1/periods").json()["periods"]
    assert len(periods) == 12
    one = client.get(f"/v1/periods/{periods[-1]['period']}")
    assert one.json() == periods[-1]
    assert "immutable" in one.headers["cache-control"]
    entry = client.get(
        "/v1/entries", params={"start": one.json()["seq"], "end": one.json()["seq"] + 1}
    )
    assert entry.json()["entries"][0]["entry"]["type"] == "period.closed"
    answer = client.get("/v1/stats").json()
    stats = answer["periods"]
    assert [s["period"] for s in stats] == [p["period"] for p in periods]
    totals = answer["totals"]
    for key in ("aid_fen", "fee_fen", "subsidy_fen", "recovered_fen", "reversals"):
        assert totals[key] == sum(s[key] for s in stats)
    assert totals["aid_yuan"] == f"{totals['aid_fen'] // 100}.{totals['aid_fen'] % 100:02d}"
    reversed_claims = client.get("/v1/claims", params={"status": "reversed"}).json()["claims"]
    assert totals["reversals"] == len(reversed_claims)
    assert totals["recovered_fen"] == sum(c["recovered_fen"] for c in reversed_claims)
    assert sum(s["joins"] for s in stats) <= 400
    assert any(s["decisions"] for s in stats)


def test_claims_and_their_history(client: TestClient) -> None:
    page = client.get("/v1/claims", params={"limit": 500}).json()
    claims = page["claims"]
    assert claims
    assert {c["status"] for c in claims} >= {"paid", "decided"}
    paid = client.get("/v1/claims", params={"status": "paid"}).json()["claims"]
    assert all(c["status"] == "paid" for c in paid)
    first = client.get("/v1/claims", params={"limit": 1}).json()
    assert len(first["claims"]) == 1
    assert first["next"] == 1
    detail = client.get(f"/v1/claims/{paid[0]['claim']}").json()
    types = [step["type"] for step in detail["history"]]
    assert types[:3] == ["claim.filed", "claim.assessed", "claim.disclosed"]
    assert "claim.paid" in types
    in_period = client.get("/v1/claims", params={"period": paid[0]["paid_period"]}).json()["claims"]
    assert paid[0]["claim"] in [c["claim"] for c in in_period]


@pytest.mark.parametrize(
    ("path", "params", "status"),
    [
        ("/v1/periods/2025-13a", {}, 400),
        ("/v1/periods/2031-01a", {}, 404),
        ("/v1/claims/c-999999", {}, 404),
        ("/v1/claims/x-1", {}, 400),
        ("/v1/claims", {"status": "lost"}, 400),
        ("/v1/claims", {"limit": 0}, 400),
        ("/v1/claims", {"limit": 501}, 400),
        ("/v1/claims", {"period": "soon"}, 400),
        ("/v1/claims", {"start": -1}, 400),
    ],
)
def test_bad_requests_get_problems(
    client: TestClient, path: str, params: dict[str, object], status: int
) -> None:
    response = client.get(path, params=params)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM


def test_no_private_field_leaves(client: TestClient) -> None:
    bodies = [
        client.get(p).text
        for p in ("/v1/rules", "/v1/periods", "/v1/claims?limit=500", "/v1/stats")
    ]
    for text in bodies:
        for private in ("salt", "record", "identity", "phone", "demo member"):
            assert private not in text


def test_a_members_statement_verifies(client: TestClient) -> None:
    import base64

    from ledger.domain import sumtree
    from ledger.log.entry import parse_entry
    from ledger.log.proof import verify_inclusion
    from ledger.log.tree import leaf_hash
    from ledger.publish.checkpoint import open_checkpoint
    from ledger.publish.note import parse_verifier_key

    periods = client.get("/v1/periods").json()["periods"]
    last = periods[-1]
    paid = client.get("/v1/claims", params={"period": last["period"], "status": "paid"}).json()[
        "claims"
    ]
    member = paid[0]["member"] if paid else None
    assert member is not None
    response = client.get(f"/v1/members/{member}/statement", params={"period": last["period"]})
    assert response.status_code == 200, response.text
    bundle = response.json()
    checkpoint = open_checkpoint(bundle["checkpoint"], parse_verifier_key(bundle["verifier_key"]))
    seen = {}
    for item in bundle["entries"]:
        raw = base64.b64decode(item["leaf"])
        proof = [base64.b64decode(h) for h in item["proof"]]
        verify_inclusion(item["seq"], checkpoint.size, leaf_hash(raw), proof, checkpoint.root)
        seen[item["seq"]] = parse_entry(raw)
    assert seen[last["seq"]].type == "period.closed"
    assert any(e.type == "member.joined" and e.body["member"] == member for e in seen.values())
    assert any(
        e.type == "claim.paid" and e.body["claim"] == paid[0]["claim"] for e in seen.values()
    )
    closes = {e.body["period"]: e.body for e in seen.values() if e.type == "period.closed"}
    for item in bundle["contributions"]:
        body = closes[item["period"]]
        root = sumtree.Node(
            base64.b64decode(body["contribution_root"]),
            body["members"],
            body["contribution_total_fen"],
        )
        siblings = [
            sumtree.Node(base64.b64decode(s["hash"]), s["count"], s["total"])
            for s in item["siblings"]
        ]
        leaf = sumtree.leaf(item["period"], member, item["amount_fen"])
        sumtree.verify(leaf, item["index"], body["members"], siblings, root)
    latest = client.get(f"/v1/members/{member}/statement").json()
    assert latest["period"] == last["period"]
    assert client.get(f"/v1/members/m-{'0' * 20}/statement").status_code == 404
    assert (
        client.get(f"/v1/members/{member}/statement", params={"period": "2024-01a"}).status_code
        == 404
    )
    assert client.get("/v1/members/nobody/statement").status_code == 400


def test_claims_state_their_disclosure(client: TestClient) -> None:
    claims = client.get("/v1/claims", params={"limit": 500}).json()["claims"]
    disclosed = [c for c in claims if c["disclosure"] is not None]
    assert disclosed
    for c in disclosed[:5]:
        d = c["disclosure"]
        entry = client.get("/v1/entries", params={"start": d["seq"], "end": d["seq"] + 1})
        stated = entry.json()["entries"][0]["entry"]
        assert stated["type"] == "claim.disclosed"
        assert stated["body"] == {"claim": c["claim"], **{k: v for k, v in d.items() if k != "seq"}}
    assert all(c["disclosure"] is None for c in claims if c["status"] in ("filed", "assessed"))


def test_a_member_names_the_seqs_of_their_entries(client: TestClient) -> None:
    claims = client.get("/v1/claims", params={"limit": 500}).json()["claims"]
    history = next(
        client.get(f"/v1/claims/{c['claim']}").json()["history"]
        for c in claims
        if c["status"] in ("paid", "decided")
    )
    filed = client.get(
        "/v1/entries", params={"start": history[0]["seq"], "end": history[0]["seq"] + 1}
    )
    member = filed.json()["entries"][0]["entry"]["body"]["member"]
    found = client.get(f"/v1/members/{member}")
    assert found.status_code == 200, found.text
    body = found.json()
    joined = client.get(
        "/v1/entries", params={"start": body["joined_seq"], "end": body["joined_seq"] + 1}
    )
    assert joined.json()["entries"][0]["entry"]["body"]["member"] == member
    assert joined.json()["entries"][0]["entry"]["time"] == body["joined"]
    assert body["juror_seq"] is None
    votes = [
        s
        for c in claims
        for s in client.get(f"/v1/claims/{c['claim']}").json()["history"]
        if s["type"] == "vote.cast"
    ]
    if votes:
        vote = client.get(
            "/v1/entries", params={"start": votes[0]["seq"], "end": votes[0]["seq"] + 1}
        )
        juror = vote.json()["entries"][0]["entry"]["body"]["juror"]
        seq = client.get(f"/v1/members/{juror}").json()["juror_seq"]
        enrolled = client.get("/v1/entries", params={"start": seq, "end": seq + 1}).json()
        assert enrolled["entries"][0]["entry"]["type"] == "juror.enrolled"
    assert client.get(f"/v1/members/m-{'0' * 20}").status_code == 404
    assert client.get("/v1/members/nobody").status_code == 400


def test_a_statement_nobody_can_have_is_a_typed_404(client: TestClient) -> None:
    """A member or a period the log does not know: a 404 whose type says which, not a failure."""
    member = client.get("/v1/claims", params={"limit": 1}).json()["claims"][0]["member"]
    cases = [
        (f"/v1/members/m-{'0' * 20}/statement", {}, "unknown-member", f"m-{'0' * 20}"),
        (
            f"/v1/members/m-{'0' * 20}/statement",
            {"period": "2024-01a"},
            "unknown-member",
            f"m-{'0' * 20}",
        ),
        (f"/v1/members/{member}/statement", {"period": "2024-01a"}, "unknown-period", "2024-01a"),
        (f"/v1/members/{member}/statement", {"period": "2099-12b"}, "unknown-period", "2099-12b"),
    ]
    for path, params, kind, named in cases:
        response = client.get(path, params=params)
        assert response.status_code == 404, response.text
        assert response.headers["content-type"] == PROBLEM
        problem = response.json()
        assert problem["type"] == f"tag:tally,2025:problem/{kind}"
        assert (problem["title"], problem["status"]) == ("Not found", 404)
        assert named in problem["detail"]
    # Other errors of the route keep their shape.
    bad = client.get(f"/v1/members/{member}/statement", params={"period": "2024-13a"})
    assert (bad.status_code, bad.json()["type"]) == (400, "about:blank")


def test_the_plan_view_reads_the_tables_without_replaying(ledger: Ledger) -> None:
    view = PlanView(ledger.log)
    state = view.state()
    assert state.size == ledger.log.size()
    assert isinstance(state, StoredPlanState), "a state over the projection tables"
