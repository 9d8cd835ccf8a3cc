"""The public log contract over HTTP, on both backends."""

from __future__ import annotations

import base64
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api.app import create_app
from api.routes.log import MAX_PAGE, MAX_PAGE_BYTES
from ledger.instance import Ledger, init_ledger
from ledger.log.log import NewEntry
from ledger.log.proof import verify_consistency, verify_inclusion
from ledger.log.tree import leaf_hash
from ledger.publish.checkpoint import open_checkpoint
from ledger.publish.note import parse_verifier_key
from tests.conftest import TEST_ORIGIN

PROBLEM = "application/problem+json"


@pytest.fixture(scope="module")
def filled(module_db_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ledger]:
    """A log of 1,501 entries, signed at 1, 501, 1,001 and 1,501, once per backend for the
    whole module: the tests served from it only read."""
    key = tmp_path_factory.mktemp("log-api") / "keys" / "log.key"
    ledger, _ = init_ledger(module_db_url, key, TEST_ORIGIN)
    try:
        for batch in range(3):
            ledger.log.append_batch(
                [NewEntry("demo.thing", "operator", {"b": batch, "i": i}) for i in range(500)]
            )
            ledger.publisher.publish()
        yield ledger
    finally:
        ledger.close()


@pytest.fixture
def client(filled: Ledger) -> Iterator[TestClient]:
    """A fresh app (and so a fresh rate limit) over the shared log."""
    with TestClient(create_app(filled.store)) as test_client:
        yield test_client


def b64(text: str) -> bytes:
    return base64.b64decode(text)


def test_log_info(client: TestClient, filled: Ledger) -> None:
    body = client.get("/v1/log").json()
    meta = filled.store.require_meta()
    assert body == {"origin": meta.origin, "verifier_key": meta.verifier_key, "tree_size": 1501}


def test_checkpoint_is_signed_text(client: TestClient, filled: Ledger) -> None:
    response = client.get("/v1/checkpoint")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert "max-age=1" in response.headers["cache-control"]
    checkpoint = open_checkpoint(
        response.text, parse_verifier_key(filled.store.require_meta().verifier_key)
    )
    assert checkpoint.size == 1501


def test_entries_pages_and_exact_bytes(client: TestClient, filled: Ledger) -> None:
    page = client.get("/v1/entries", params={"start": 0, "end": 5000})
    assert page.status_code == 200
    entries = page.json()["entries"]
    assert len(entries) == MAX_PAGE
    assert [e["seq"] for e in entries] == list(range(MAX_PAGE))
    stored = dict(filled.log.entries(0, MAX_PAGE))
    for item in entries:
        assert b64(item["leaf"]) == stored[item["seq"]]
        assert item["entry"]["seq"] == item["seq"]
    tail = client.get("/v1/entries", params={"start": 1490}).json()["entries"]
    assert [e["seq"] for e in tail] == list(range(1490, 1501))
    fixed = client.get("/v1/entries", params={"start": 10, "end": 20})
    assert "immutable" in fixed.headers["cache-control"]


def test_pages_of_large_entries_stop_near_four_mib(ledger: Ledger) -> None:
    big = "x" * 60_000
    ledger.log.append_batch([NewEntry("demo.big", "operator", {"s": big}) for _ in range(40)])
    with TestClient(create_app(ledger.store)) as client:
        page = client.get("/v1/entries", params={"start": 1, "end": 41})
        entries = page.json()["entries"]
        assert len(page.content) < MAX_PAGE_BYTES + 200_000  # at most one entry over
        assert 20 < len(entries) < 40
        assert "immutable" not in page.headers["cache-control"]  # it ends before 'end'
        rest = client.get("/v1/entries", params={"start": 1 + len(entries), "end": 41})
        assert [e["seq"] for e in rest.json()["entries"]] == list(range(1 + len(entries), 41))
        assert "immutable" in rest.headers["cache-control"]


def test_proofs_verify(client: TestClient, filled: Ledger) -> None:
    roots = {n: filled.log.root(n) for n in (1, 501, 1001, 1501)}
    for seq, size in [(0, 1), (0, 1501), (700, 1001), (1500, 1501), (499, 501)]:
        body = client.get("/v1/proof/inclusion", params={"seq": seq, "tree_size": size}).json()
        assert (
            body["leaf_hash"]
            == base64.b64encode(leaf_hash(filled.log.entries(seq, seq + 1)[0][1])).decode()
        )
        verify_inclusion(
            seq, size, b64(body["leaf_hash"]), [b64(h) for h in body["hashes"]], roots[size]
        )
    for first, second in [(1, 1501), (501, 1001), (1001, 1501), (1501, 1501)]:
        body = client.get("/v1/proof/consistency", params={"first": first, "second": second}).json()
        verify_consistency(
            first, second, roots[first], roots[second], [b64(h) for h in body["hashes"]]
        )


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/v1/entries", {}),
        ("/v1/entries", {"start": -1}),
        ("/v1/entries", {"start": "abc"}),
        ("/v1/entries", {"start": 1501}),
        ("/v1/entries", {"start": 5, "end": 5}),
        ("/v1/entries", {"start": 2**70}),
        ("/v1/entries", {"start": "1.5"}),
        ("/v1/proof/inclusion", {"seq": 5}),
        ("/v1/proof/inclusion", {"seq": 5, "tree_size": 5}),
        ("/v1/proof/inclusion", {"seq": 0, "tree_size": 1502}),
        ("/v1/proof/inclusion", {"seq": 0, "tree_size": 0}),
        ("/v1/proof/inclusion", {"seq": "", "tree_size": ""}),
        ("/v1/proof/consistency", {"first": 0, "second": 5}),
        ("/v1/proof/consistency", {"first": 6, "second": 5}),
        ("/v1/proof/consistency", {"first": 1, "second": 1502}),
        ("/v1/proof/consistency", {"first": "x", "second": 3}),
    ],
)
def test_bad_parameters_get_a_problem(
    client: TestClient, path: str, params: dict[str, object]
) -> None:
    response = client.get(path, params=params)
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["status"] == 400
    assert body["detail"]


def test_unknown_routes_and_methods(client: TestClient) -> None:
    assert client.get("/v1/nothing").status_code == 404
    assert client.get("/v1/nothing").headers["content-type"] == PROBLEM
    response = client.post("/v1/checkpoint", content=b"x")
    assert response.status_code == 405
    assert response.headers["content-type"] == PROBLEM


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    path=st.sampled_from(
        ["/v1/log", "/v1/checkpoint", "/v1/entries", "/v1/proof/inclusion", "/v1/proof/consistency"]
    ),
    params=st.dictionaries(
        st.sampled_from(["start", "end", "seq", "tree_size", "first", "second", "junk"]),
        st.one_of(st.integers(-(2**70), 2**70), st.text(max_size=12)),
        max_size=4,
    ),
)
def test_no_request_gets_a_500(client: TestClient, path: str, params: dict[str, object]) -> None:
    response = client.get(path, params=params)
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        assert response.headers["content-type"] == PROBLEM


def test_openapi_document_describes_the_contract(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    for path in (
        "/v1/log",
        "/v1/checkpoint",
        "/v1/entries",
        "/v1/proof/inclusion",
        "/v1/proof/consistency",
    ):
        assert "get" in paths[path]


def test_store_outage_is_a_503(ledger: Ledger) -> None:
    from sqlalchemy import create_engine

    app = create_app(ledger.store)
    # The database goes away under a running server.
    ledger.store.engine.dispose()
    ledger.store.engine = create_engine("sqlite:////nonexistent-dir/gone.db")
    with TestClient(app) as test_client:
        response = test_client.get("/v1/log")
    assert response.status_code == 503
    assert response.headers["content-type"] == PROBLEM
    assert response.headers["retry-after"] == "5"
