"""Operations: /healthz for load balancers, /metrics for Prometheus."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    generate_latest,
)
from pydantic import BaseModel

from api.problems import PROBLEM_JSON
from ledger.log.log import Log

router = APIRouter(tags=["operations"])


class Health(BaseModel):
    """The server answers and its store is readable."""

    status: str
    tree_size: int


class Metrics:
    """The app's own Prometheus registry (one per app, so tests can make many apps)."""

    def __init__(self, log: Log) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "tally_http_requests",
            "HTTP requests answered, by method, route and status",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.log_size = Gauge("tally_log_entries", "Entries in the log", registry=self.registry)
        self.log_size.set_function(log.size)


@router.get(
    "/healthz",
    response_model=Health,
    responses={503: {"description": "The store is unavailable", "content": {PROBLEM_JSON: {}}}},
)
def healthz(request: Request) -> Health:
    """200 when the log's store answers (503 otherwise)."""
    log: Log = request.app.state.log
    return Health(status="ok", tree_size=log.size())


@router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"content": {"text/plain": {}}, "description": "Prometheus text format"}},
)
def metrics(request: Request) -> Response:
    """Counters and gauges in the Prometheus text format."""
    registry: Metrics = request.app.state.metrics
    return Response(generate_latest(registry.registry), media_type=CONTENT_TYPE_LATEST)
