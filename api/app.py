"""The FastAPI application: the public log contract over one ledger store.

Given a :class:`ledger.instance.Ledger` (which holds the signing key), the app also
serves the authenticated admin API under ``/admin/v1`` and signs checkpoints itself
(api.admin); without one it is read-only. The members' page (api.site) is at ``/``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from fastapi import FastAPI
from fastapi_offline import FastAPIOffline

from api import admin, problems, site
from api.middleware import AccessLog, Buckets, RateLimit
from api.plan_view import PlanView
from api.routes import health as health_routes
from api.routes import log as log_routes
from api.routes import members as member_routes
from api.routes import plan as plan_routes
from api.routes import requests as request_routes
from api.routes import tiles as tile_routes
from api.routes.health import Metrics
from ledger.errors import StoreError
from ledger.instance import Ledger
from ledger.log.log import Log
from ledger.log.store import Store
from ledger.publish.loop import DEFAULT_INTERVAL

DEFAULT_RATE = 50.0
DEFAULT_BURST = 200
DOCS_ASSETS = "/docs-assets"
"""Where the API documentation's own scripts, styles and icon are served."""


def create_app(
    store: Store,
    *,
    rate: float = DEFAULT_RATE,
    burst: int = DEFAULT_BURST,
    ledger: Ledger | None = None,
    publish_interval: float = DEFAULT_INTERVAL,
    clock: Callable[[], datetime] | None = None,
    buckets: Buckets | None = None,
    publisher_pid: int | None = None,
) -> FastAPI:
    """Build the app serving the log kept in ``store`` (which must be initialised).

    ``rate`` and ``burst`` limit each client on the public endpoints (requests a
    second, and at once). ``ledger`` (over the same store, with the key) enables the
    admin API and the server's own checkpoint signing every ``publish_interval``
    seconds; ``clock`` times admin entries that name no time (default: the wall
    clock; for simulations). A worker of a multi-process server passes the rate
    limiter's shared ``buckets`` and the ``publisher_pid`` of the process that signs
    checkpoints for all of them.
    """
    meta = store.require_meta()
    if ledger is not None and ledger.store is not store:
        raise StoreError("expected the ledger to be over the store being served, found another")
    # /docs loads its scripts and styles from this server, not a CDN. ReDoc is off: its
    # page loads a logo from its vendor's site.
    app = FastAPIOffline(
        redoc_url=None,
        title="Tally",
        summary="The public audit API of an append-only mutual-aid ledger",
        version="1",
        lifespan=admin.lifespan,
        static_url=DOCS_ASSETS,
        swagger_ui_parameters={"validatorUrl": None},
    )
    app.state.log = Log(store)
    app.state.plan_view = PlanView(app.state.log)
    app.state.meta = meta
    app.state.metrics = Metrics(app.state.log)
    problems.install(app)
    # Before the other middleware, so that they wrap the admin gate (access logs see its 401s).
    admin.install(
        app, ledger, publish_interval=publish_interval, clock=clock, publisher_pid=publisher_pid
    )
    app.add_middleware(RateLimit, rate=rate, burst=burst, buckets=buckets)
    app.add_middleware(AccessLog)
    app.include_router(log_routes.router)
    app.include_router(plan_routes.router)
    app.include_router(health_routes.router)
    app.include_router(tile_routes.router)
    app.include_router(member_routes.router)
    app.include_router(request_routes.router)
    site.install(app)
    return app
