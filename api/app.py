"""The FastAPI application: the public log contract over one ledger store."""

from __future__ import annotations

from fastapi import FastAPI

from api import problems
from api.middleware import AccessLog, RateLimit
from api.plan_view import PlanView
from api.routes import health as health_routes
from api.routes import log as log_routes
from api.routes import plan as plan_routes
from api.routes.health import Metrics
from ledger.log.log import Log
from ledger.log.store import Store

DEFAULT_RATE = 50.0
DEFAULT_BURST = 200


def create_app(store: Store, *, rate: float = DEFAULT_RATE, burst: int = DEFAULT_BURST) -> FastAPI:
    """Build the app serving the log kept in ``store`` (which must be initialised).

    ``rate`` and ``burst`` limit each client on the public endpoints (requests a
    second, and at once).
    """
    meta = store.require_meta()
    app = FastAPI(
        title="Tally",
        summary="The public audit API of an append-only mutual-aid ledger",
        version="1",
    )
    app.state.log = Log(store)
    app.state.plan_view = PlanView(app.state.log)
    app.state.meta = meta
    app.state.metrics = Metrics(app.state.log)
    problems.install(app)
    app.add_middleware(RateLimit, rate=rate, burst=burst)
    app.add_middleware(AccessLog)
    app.include_router(log_routes.router)
    app.include_router(plan_routes.router)
    app.include_router(health_routes.router)
    return app
