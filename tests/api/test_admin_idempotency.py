"""Idempotency-Key on admin writes, on both backends: a repeat gets the first answer and
appends nothing; another request under the same key is 422; two at once append once."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

import api.admin.idempotency as idempotency
from api.app import create_app
from ledger.domain.rules import reference_rules
from ledger.idempotency import claim_key, lookup
from ledger.instance import open_ledger
from ledger.log.entry import parse_time
from ledger.tokens import create_token
from tests.api.admin_support import PROBLEM, START, Admin, running_admin

JAN2 = "2025-01-02T00:00:00Z"
WU = {"age_band": "0-39", "identity": {"name": "Wu"}, "at": JAN2}


@pytest.fixture
def admin(db_url: str, tmp_path: Path) -> Iterator[Admin]:
    with running_admin(db_url, tmp_path) as made:
        made.ok(
            "/rules",
            {"rules": reference_rules(START, member_signatures=None).to_body(), "at": START},
        )
        yield made


@pytest.fixture(scope="module")
def refusing_admin(module_db_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Admin]:
    """One admin app per backend for the whole module, for the requests that are refused
    (each checks that nothing was appended)."""
    with running_admin(module_db_url, tmp_path_factory.mktemp("admin")) as made:
        made.ok(
            "/rules",
            {"rules": reference_rules(START, member_signatures=None).to_body(), "at": START},
        )
        yield made


def post(admin: Admin, path: str, body: Any, key: str | None, token: str | None = None) -> Any:
    headers = admin.headers(token)
    if key is not None:
        headers["Idempotency-Key"] = key
    return admin.client.post(f"/admin/v1{path}", json=body, headers=headers)


def test_a_repeat_gets_the_first_answer_and_appends_nothing(admin: Admin) -> None:
    first = post(admin, "/members", WU, "join-wu-1")
    assert first.status_code == 201, first.text
    size = admin.ledger.log.size()
    again = post(admin, "/members", WU, "join-wu-1")
    assert again.status_code == 201
    assert again.content == first.content  # same member, seq and receipt, byte for byte
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.headers["cache-control"] == "no-store"
    # The same body sent with its keys in another order is the same request.
    reordered = admin.client.post(
        "/admin/v1/members",
        content=b'{"at": "2025-01-02T00:00:00Z", "identity": {"name": "Wu"}, "age_band": "0-39"}',
        headers={**admin.headers(), "Idempotency-Key": '"join-wu-1"', "content-type": "json"},
    )
    assert reordered.status_code == 201
    assert reordered.json() == first.json()
    assert admin.ledger.log.size() == size
    assert "Idempotent-Replayed" not in first.headers


def test_the_same_key_for_another_request_is_422(admin: Admin) -> None:
    assert post(admin, "/members", WU, "k1").status_code == 201
    size = admin.ledger.log.size()
    other = {**WU, "identity": {"name": "Li"}}
    for path, body in (("/members", other), ("/members/bulk", {"members": [other]})):
        response = post(admin, path, body, "k1")
        assert response.status_code == 422, response.text
        assert response.headers["content-type"] == PROBLEM
        assert "was first used at" in response.json()["detail"]
    assert admin.ledger.log.size() == size


def test_keys_are_per_token(admin: Admin) -> None:
    _, second = create_token(admin.ledger.store, "operator", name="second")
    mine = post(admin, "/members", WU, "shared-key")
    theirs = post(admin, "/members", {**WU, "identity": {"name": "Li"}}, "shared-key", second)
    assert (mine.status_code, theirs.status_code) == (201, 201)
    assert mine.json()["seq"] != theirs.json()["seq"]


def test_a_refused_request_records_no_key(admin: Admin) -> None:
    early = {"period": "2025-01a", "at": JAN2}
    refused = post(admin, "/periods/close", early, "close-jan-a")
    assert refused.status_code == 409
    assert lookup(admin.ledger.store, admin.operator_info.id, "close-jan-a") is None
    admin.clock.set("2025-01-14T00:00:00Z")
    closed = post(admin, "/periods/close", {"period": "2025-01a"}, "close-jan-a")
    assert closed.status_code == 201, closed.text
    # A double submit of the close is answered as the first, and closes one period.
    size = admin.ledger.log.size()
    again = post(admin, "/periods/close", {"period": "2025-01a"}, "close-jan-a")
    assert again.content == closed.content
    assert admin.ledger.log.size() == size


def test_an_unanswered_key_names_its_entries(admin: Admin) -> None:
    """The server stopped after appending and before answering: never a second append."""
    post(admin, "/members", WU, None)
    digest = idempotency.request_digest("POST", "/admin/v1/members", b'{"x": 1}')
    with admin.ledger.store.writer() as conn:
        claim_key(conn, admin.operator_info.id, "lost", digest, (2, 2), parse_time(JAN2))
    size = admin.ledger.log.size()
    response = post(admin, "/members", {"x": 1}, "lost")
    assert response.status_code == 409
    assert response.headers["Retry-After"] == "1"
    assert "/v1/entries?start=2&end=3" in response.json()["detail"]
    assert post(admin, "/members", WU, "lost").status_code == 422
    assert admin.ledger.log.size() == size


@pytest.mark.parametrize(
    "headers",
    [
        [("Idempotency-Key", "")],
        [("Idempotency-Key", "has space")],
        [("Idempotency-Key", "x" * 256)],
        [("Idempotency-Key", "caf\u00e9".encode())],
        [("Idempotency-Key", "a"), ("Idempotency-Key", "b")],
    ],
)
def test_malformed_keys_are_400(
    refusing_admin: Admin, headers: list[tuple[str, str | bytes]]
) -> None:
    admin = refusing_admin
    size = admin.ledger.log.size()
    response = admin.client.post(
        "/admin/v1/members",
        json=WU,
        headers=[("Authorization", f"Bearer {admin.operator}"), *headers],
    )
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == PROBLEM
    assert admin.ledger.log.size() == size


def test_two_servers_given_one_key_at_once_append_once(
    admin: Admin, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both requests look the key up before either appends; the database decides."""
    other_ledger = open_ledger(db_url, tmp_path / "admin.key")
    other = create_app(
        other_ledger.store, ledger=other_ledger, clock=admin.clock, rate=1e9, burst=10**9
    )
    real_lookup = idempotency.lookup
    meet = threading.Barrier(2, timeout=30)
    met: set[int] = set()

    def lookup_then_meet(*args: Any) -> Any:
        found = real_lookup(*args)
        if threading.get_ident() not in met:
            met.add(threading.get_ident())
            meet.wait()
        return found

    monkeypatch.setattr(idempotency, "lookup", lookup_then_meet)
    try:
        with TestClient(other) as second:
            clients = [admin.client, second]
            for round_ in range(5):
                met.clear()
                meet.reset()
                size = admin.ledger.log.size()
                body = {**WU, "identity": {"name": f"person {round_}"}}
                key = f"race-{round_}"

                def send(client: TestClient, body: Any = body, key: str = key) -> Any:
                    return client.post(
                        "/admin/v1/members",
                        json=body,
                        headers={**admin.headers(), "Idempotency-Key": key},
                    )

                with ThreadPoolExecutor(2) as pool:
                    answers = list(pool.map(send, clients))
                assert admin.ledger.log.size() == size + 1, [a.text for a in answers]
                statuses = sorted(a.status_code for a in answers)
                assert statuses in ([201, 201], [201, 409]), [a.text for a in answers]
                # The key stopped the second request, not a plan rule refusing the person.
                waiting = [a.json() for a in answers if a.status_code == 409]
                assert all(w["title"] == "Request in progress" for w in waiting), waiting
                created = [a.json() for a in answers if a.status_code == 201]
                assert all(c == created[0] for c in created)
                assert created[0]["seq"] == size
    finally:
        other_ledger.close()


def test_an_answer_that_cannot_be_kept_is_still_given(
    admin: Admin, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_: Any) -> None:
        raise RuntimeError("the database went away")

    monkeypatch.setattr(idempotency, "record_answer", broken)
    first = post(admin, "/members", WU, "unkept")
    assert first.status_code == 201, first.text
    size = admin.ledger.log.size()
    again = post(admin, "/members", WU, "unkept")
    assert again.status_code == 409  # never a second append
    assert f"appended seq {first.json()['seq']}" in again.json()["detail"]
    assert admin.ledger.log.size() == size


def test_a_repeat_refused_by_the_first_requests_effect_gets_its_answer(
    admin: Admin, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first request committed just after the repeat looked its key up: the repeat's
    command is then refused by the plan (the person is a member now), and the answer is
    the first request's, not that refusal."""
    first = post(admin, "/members", WU, "late-key")
    size = admin.ledger.log.size()
    real = idempotency.lookup
    calls = 0

    def missed_once(*args: Any) -> Any:
        nonlocal calls
        calls += 1
        return None if calls == 1 else real(*args)

    monkeypatch.setattr(idempotency, "lookup", missed_once)
    again = post(admin, "/members", WU, "late-key")
    assert again.status_code == 201, again.text
    assert again.content == first.content
    assert admin.ledger.log.size() == size
