"""The authenticated admin API (``/admin/v1``) and the server's own checkpoint signing.

:func:`install` adds both to an app. Given a ledger that holds the signing key, the
app serves the admin endpoints (api.admin.routes) behind the token gate
(api.admin.auth), and its lifespan (:func:`lifespan`) runs the publishing loop
(ledger.publish.loop): a checkpoint every interval and after every admin write.
Without a ledger the app is read-only: the admin endpoints are not mounted (nor in
the OpenAPI document), and every admin path answers 404 saying why.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool

from api.admin import lookups, routes
from api.admin.auth import AdminGate
from api.admin.service import AdminService
from ledger.instance import Ledger
from ledger.publish.loop import DEFAULT_INTERVAL

__all__ = ["AdminService", "install", "lifespan"]


def install(
    app: FastAPI,
    ledger: Ledger | None,
    *,
    publish_interval: float = DEFAULT_INTERVAL,
    clock: Callable[[], datetime] | None = None,
    publisher_pid: int | None = None,
) -> AdminService | None:
    """Add the admin API to ``app``; with ``ledger``, also its publishing loop (or, with
    ``publisher_pid``, a way to wake that process's loop)."""
    service = (
        AdminService(
            ledger, publish_interval=publish_interval, clock=clock, publisher_pid=publisher_pid
        )
        if ledger is not None
        else None
    )
    app.state.admin = service
    app.add_middleware(AdminGate, service=service)
    if service is not None:  # a read-only server does not advertise what it cannot do
        app.include_router(routes.router)
        app.include_router(lookups.router)
    return service


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Run the publishing loop while the app serves (when it has the signing key)."""
    service: AdminService | None = getattr(app.state, "admin", None)
    if service is None:
        yield
        return
    service.publishing.start()
    try:
        yield
    finally:
        await run_in_threadpool(service.publishing.stop)
