"""The admin API's lookups, on both backends: operator tokens only, read-only, bad
queries answered with a problem document, never a 500."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ledger.domain.identity import canonical_record
from ledger.domain.rules import reference_rules
from ledger.domain.store import record_hash
from tests.api.admin_support import PROBLEM, START, Admin, b64, juror_public_b64, running_admin

JAN2 = "2025-01-02T00:00:00Z"
WU = {"name": "Wu Fang", "phone": "13800000001"}


@pytest.fixture
def admin(db_url: str, tmp_path: Path) -> Iterator[Admin]:
    with running_admin(db_url, tmp_path) as made:
        made.ok(
            "/rules",
            {"rules": reference_rules(START, member_signatures=None).to_body(), "at": START},
        )
        yield made


@pytest.fixture(scope="module")
def reading_admin(module_db_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Admin]:
    """One admin app per backend for the whole module, for the tests that only look up."""
    with running_admin(module_db_url, tmp_path_factory.mktemp("admin")) as made:
        made.ok(
            "/rules",
            {"rules": reference_rules(START, member_signatures=None).to_body(), "at": START},
        )
        yield made


def get(admin: Admin, path: str, token: str | None = None, **params: Any) -> Any:
    return admin.client.get(f"/admin/v1{path}", params=params, headers=admin.headers(token))


def test_member_claims_queue_and_status(admin: Admin) -> None:
    wu = admin.ok("/members", {"age_band": "0-39", "identity": WU, "at": JAN2})["member"]
    filed = admin.ok(
        "/claims",
        {
            "member": wu,
            "condition": "ACC",
            "diagnosed": JAN2,
            "evidence": b64(b"x-ray"),
            "amount_fen": 100_000,
            "at": "2025-01-03T00:00:00Z",
        },
    )
    size = admin.ledger.log.size()
    shown = get(admin, f"/members/{wu}")
    assert shown.status_code == 200, shown.text
    body = shown.json()
    assert (body["member"], body["status"], body["age_band"]) == (wu, "active", "0-39")
    assert body["claims"][0]["claim"] == filed["claim"]
    assert body["claims"][0]["status"] == "filed"
    for params in ({"name": "Wu Fang"}, {"phone": "13800000001"}, {"field": ["name=Wu Fang"]}):
        found = get(admin, "/members", **params)
        assert [m["member"] for m in found.json()["members"]] == [wu], params
    digest = record_hash(canonical_record(WU))
    assert get(admin, "/members", record_hash=digest).json()["members"][0]["member"] == wu
    assert get(admin, "/members", name="Nobody").json() == {"members": []}
    queue = get(admin, "/claims/queue").json()
    assert [(c["claim"], c["stage"], c["waits_on"]) for c in queue["claims"]] == [
        (filed["claim"], "assessment", "operator")
    ]
    status = get(admin, "/plan/status").json()
    assert status["active_members"] == 1
    assert status["waiting"]["assessment"] == 1
    assert status["next_period"] == "2025-01a"
    assert admin.ledger.log.size() == size  # nothing written


@pytest.mark.parametrize(
    ("path", "params", "status"),
    [
        ("/members/m-00000000000000000000", {}, 404),
        ("/members/not-a-member", {}, 400),
        ("/members", {}, 400),
        ("/members", {"record_hash": "zz"}, 400),
        ("/members", {"field": "no-equals"}, 400),
        ("/members", {"name": "x" * 600}, 400),
    ],
)
def test_bad_lookups_are_problems(
    reading_admin: Admin, path: str, params: dict[str, Any], status: int
) -> None:
    response = get(reading_admin, path, **params)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM


def test_lookups_are_for_operators_only(admin: Admin) -> None:
    wu = admin.ok("/members", {"age_band": "0-39", "identity": WU, "at": JAN2})["member"]
    admin.ok(
        "/jurors", {"member": wu, "juror_key": juror_public_b64(0), "at": "2025-02-05T00:00:00Z"}
    )
    juror = admin.juror_token(wu)
    for path in (f"/members/{wu}", "/claims/queue", "/plan/status"):
        assert get(admin, path, token=juror).status_code == 403
        assert admin.client.get(f"/admin/v1{path}").status_code == 401


def test_a_lookup_by_name_leaves_no_name_in_the_access_log(
    admin: Admin, caplog: pytest.LogCaptureFixture
) -> None:
    import logging

    with caplog.at_level(logging.INFO, logger="tally.access"):
        assert get(admin, "/members", name="Wu Fang", phone="13800000001").status_code == 200
    lines = [r.getMessage() for r in caplog.records if r.name == "tally.access"]
    assert any('"query":"name=*&phone=*"' in line for line in lines), lines
    assert not any("Wu" in line or "13800000001" in line for line in lines)
