"""The FastAPI application: the public log contract over one ledger store."""

from __future__ import annotations

from fastapi import FastAPI

from api import problems
from api.plan_view import PlanView
from api.routes import log as log_routes
from api.routes import plan as plan_routes
from ledger.log.log import Log
from ledger.log.store import Store


def create_app(store: Store) -> FastAPI:
    """Build the app serving the log kept in ``store`` (which must be initialised)."""
    meta = store.require_meta()
    app = FastAPI(
        title="Tally",
        summary="The public audit API of an append-only mutual-aid ledger",
        version="1",
    )
    app.state.log = Log(store)
    app.state.plan_view = PlanView(app.state.log)
    app.state.meta = meta
    problems.install(app)
    app.include_router(log_routes.router)
    app.include_router(plan_routes.router)
    return app
