"""Operations: health, metrics, rate limits, access logs, and the OpenAPI contract."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from api.app import create_app
from ledger.instance import Ledger
from ledger.log.log import NewEntry


@pytest.fixture
def client(ledger: Ledger) -> Iterator[TestClient]:
    ledger.log.append_batch([NewEntry("demo.thing", "operator", {"i": i}) for i in range(20)])
    ledger.publisher.publish()
    with TestClient(create_app(ledger.store, rate=5, burst=5)) as test_client:
        yield test_client


def test_healthz_and_metrics(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok", "tree_size": 21}
    client.get("/v1/log")
    text = client.get("/metrics").text
    assert 'tally_http_requests_total{method="GET",route="/v1/log",status="200"} 1.0' in text
    assert "tally_log_entries 21.0" in text


def test_a_client_over_its_budget_gets_429(client: TestClient) -> None:
    statuses = [client.get("/v1/log").status_code for _ in range(8)]
    assert statuses[:5] == [200] * 5
    assert 429 in statuses
    refused = client.get("/v1/log")
    assert refused.status_code == 429
    assert refused.headers["content-type"] == "application/problem+json"
    assert int(refused.headers["retry-after"]) >= 1
    # Operations endpoints are not limited.
    assert client.get("/healthz").status_code == 200


def test_access_log_is_one_json_line_per_request(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="tally.access"):
        client.get("/v1/entries", params={"start": 3, "end": 4})
    lines = [json.loads(r.getMessage()) for r in caplog.records if r.name == "tally.access"]
    assert lines[-1]["path"] == "/v1/entries"
    assert lines[-1]["status"] == 200
    assert lines[-1]["query"] == "start=3&end=4"


def test_every_operation_honours_its_openapi_contract(ledger: Ledger) -> None:
    """A schemathesis run: no 500, and every response matches the declared schema."""
    ledger.log.append_batch([NewEntry("demo.thing", "operator", {"i": i}) for i in range(40)])
    ledger.publisher.publish()
    app = create_app(ledger.store, rate=1e9, burst=10**9)
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 12
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
        def run(case: schemathesis.Case) -> None:
            # A well-formed seq past the end of the log is rightly a 400 "Out of range":
            # whether a value is in range depends on the log, not on the schema.
            case.call_and_validate(excluded_checks=[positive_data_acceptance])

        run()
