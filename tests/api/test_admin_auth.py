"""Who may call the admin API: tokens, roles, revocation, limits; never a 500.

On both backends: a missing or malformed token, an unknown or revoked one, are 401
with ``WWW-Authenticate: Bearer``; the wrong role is 403 (a juror calling an
operator endpoint, an operator casting a vote, a juror voting as another juror);
a server without the key has no admin API (404); bodies over 1 MiB are 413.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api.admin.auth import MAX_BODY
from api.app import create_app
from ledger.domain.rules import reference_rules
from ledger.domain.vote import sign_vote
from ledger.instance import Ledger
from ledger.tokens import create_token, revoke_token
from tests.api.admin_support import ORIGIN, PROBLEM, Admin, running_admin

MEMBER = "m-" + "1" * 20
OTHER = "m-" + "2" * 20
RATIONALE = hashlib.sha256(b"why").hexdigest()


@pytest.fixture
def admin(db_url: str, tmp_path: Path) -> Iterator[Admin]:
    with running_admin(db_url, tmp_path) as made:
        yield made


def vote(juror: str) -> dict[str, Any]:
    signature = sign_vote(b"\x01" * 32, ORIGIN, "c-5", "approve", RATIONALE)
    return {
        "juror": juror,
        "choice": "approve",
        "rationale_hash": RATIONALE,
        "signature": signature,
    }


def unauthorized(response: Any, error: bool = True) -> None:
    assert response.status_code == 401, response.text
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["content-type"] == PROBLEM
    challenge = response.headers["www-authenticate"]
    assert challenge.startswith("Bearer")
    assert ('error="invalid_token"' in challenge) is error
    assert response.json()["detail"]


CLOSE = {"period": "2025-01a"}


def forbidden(response: Any) -> None:
    assert response.status_code == 403, response.text
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["detail"].startswith("expected")


def test_no_token_or_a_malformed_header_is_401(admin: Admin) -> None:
    size = admin.ledger.log.size()
    unauthorized(admin.client.post("/admin/v1/periods/close"), error=False)
    for header in (
        "Basic dXNlcjpwYXNz",
        "Bearer",
        "Bearer ",
        "Bearer not-a-token",
        f"Bearer {admin.operator}x",
        f"Token {admin.operator}",
        "Bearer tly_" + "A" * 43,  # well-formed, but never made
    ):
        response = admin.client.post("/admin/v1/periods/close", headers={"Authorization": header})
        unauthorized(response)
    # Two Authorization headers are refused, even if one is good.
    response = admin.client.post(
        "/admin/v1/periods/close",
        headers=[("Authorization", f"Bearer {admin.operator}"), ("Authorization", "Bearer x")],
    )
    unauthorized(response)
    # Any path under /admin/ is guarded, even one that does not exist.
    unauthorized(admin.client.get("/admin/v1/nothing"), error=False)
    assert admin.ledger.log.size() == size


def test_the_scheme_is_case_insensitive(admin: Admin) -> None:
    response = admin.client.post(
        "/admin/v1/periods/close",
        json=CLOSE,
        headers={"Authorization": f"bearer {admin.operator}"},
    )
    # Authenticated: the plan refuses (no rules yet), which is not an auth failure.
    assert response.status_code == 409, response.text


def test_a_revoked_token_is_refused_at_once(admin: Admin) -> None:
    info, token = create_token(admin.ledger.store, "operator", name="temp")
    assert admin.post("/periods/close", CLOSE, token).status_code == 409
    revoke_token(admin.ledger.store, info.id)
    response = admin.post("/periods/close", CLOSE, token)
    unauthorized(response)
    assert "revoked" in response.json()["detail"]
    # The operator's own token still works.
    assert admin.post("/periods/close", CLOSE).status_code == 409


def test_roles(admin: Admin) -> None:
    size = admin.ledger.log.size()
    juror = admin.juror_token(MEMBER)
    # A juror token may not call an operator endpoint.
    for path, body in [
        ("/periods/close", None),
        ("/members", {"age_band": "0-39", "identity": {}}),
        ("/claims/c-5/decide", None),
        ("/claims/c-5/draw", {"secret": "00" * 32}),
    ]:
        forbidden(admin.post(path, body, juror))
    # An operator may not cast a vote.
    forbidden(admin.post("/claims/c-5/votes", vote(MEMBER)))
    # A juror may not vote as another juror.
    response = admin.post("/claims/c-5/votes", vote(OTHER), juror)
    forbidden(response)
    assert OTHER in response.json()["detail"]
    # Their own vote passes the gate and the role, and meets the plan's rules.
    response = admin.post("/claims/c-5/votes", vote(MEMBER), juror)
    assert response.status_code == 409
    assert response.json()["rule"] == "rules.in_force"
    # A juror may not choose the entry time of a vote.
    timed = {**vote(MEMBER), "at": "2025-01-01T00:00:00Z"}
    assert admin.post("/claims/c-5/votes", timed, juror).status_code == 400
    assert admin.ledger.log.size() == size


def test_bodies_over_a_mebibyte_are_413(admin: Admin) -> None:
    big = b'{"age_band": "0-39", "identity": {"x": "' + b"a" * MAX_BODY + b'"}}'
    headers = {**admin.headers(), "content-type": "application/json"}
    response = admin.client.post("/admin/v1/members", content=big, headers=headers)
    assert response.status_code == 413
    assert response.headers["content-type"] == PROBLEM

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it streams
        yield big[: MAX_BODY // 2]
        yield big[MAX_BODY // 2 :]

    response = admin.client.post("/admin/v1/members", content=chunks(), headers=headers)
    assert response.status_code == 413
    assert response.headers["content-type"] == PROBLEM
    # Unauthenticated, the size does not matter: 401 comes first.
    response = admin.client.post("/admin/v1/members", content=big)
    assert response.status_code == 401


def test_a_server_without_the_key_is_read_only(ledger: Ledger) -> None:
    _, token = create_token(ledger.store, "operator")
    with TestClient(create_app(ledger.store)) as client:
        response = client.post(
            "/admin/v1/periods/close", headers={"Authorization": f"Bearer {token}"}
        )
        assert response.status_code == 404
        assert response.headers["content-type"] == PROBLEM
        assert "--key" in response.json()["detail"]
        assert client.get("/v1/log").status_code == 200
        assert not any(p.startswith("/admin/") for p in client.get("/openapi.json").json()["paths"])


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    path=st.sampled_from(
        [
            "/rules",
            "/members",
            "/members/bulk",
            "/jurors",
            "/claims",
            "/claims/c-1/assess",
            "/claims/c-1/object",
            "/claims/c-1/reverse",
            "/periods/close",
            "/plan/wind-down",
        ]
    ),
    body=st.recursive(
        st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.text(max_size=20),
        lambda inner: (
            st.lists(inner, max_size=3)
            | st.dictionaries(
                st.sampled_from(
                    ["at", "rules", "member", "members", "age_band", "identity", "amount_fen", "x"]
                ),
                inner,
                max_size=4,
            )
        ),
        max_leaves=8,
    ),
)
def test_no_admin_request_gets_a_500(admin: Admin, path: str, body: Any) -> None:
    response = admin.post(path, body)
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        assert response.headers["content-type"] == PROBLEM


def test_every_admin_operation_honours_its_openapi_contract(db_url: str, tmp_path: Path) -> None:
    """A schemathesis run with an operator token: schema-valid bodies reach the plan."""
    import schemathesis
    from schemathesis.specs.openapi.checks import positive_data_acceptance

    with running_admin(db_url, tmp_path) as admin:
        rules = reference_rules("2025-01-01T00:00:00Z", member_signatures=None).to_body()
        admin.ok("/rules", {"rules": rules, "at": "2025-01-01T00:00:00Z"})
        admin.ok("/members", {"age_band": "0-39", "identity": {}, "at": "2025-01-02T00:00:00Z"})
        schema = schemathesis.openapi.from_asgi("/openapi.json", admin.client.app)
        operations = [
            result.ok()
            for result in schema.get_all_operations()
            if result.ok().path.startswith("/admin/")
        ]
        assert len(operations) == 22  # 18 commands (POST) and 4 lookups (GET)
        for operation in operations:

            @given(case=operation.as_strategy())
            @settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
            def run(case: schemathesis.Case) -> None:
                # Valid by the schema is not valid by the plan's rules: refusals are 409.
                case.call_and_validate(
                    headers=admin.headers(), excluded_checks=[positive_data_acceptance]
                )

            run()
