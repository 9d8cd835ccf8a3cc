"""Per-client rate limits on the public endpoints, and structured access logs.

The limiter is a token bucket per client address: ``burst`` requests at once, then
``rate`` per second. A client over its limit gets 429 with ``Retry-After`` and a
problem document. Buckets of idle clients are forgotten, so memory stays bounded.
"""

from __future__ import annotations

import json
import logging
import math
import threading
import time
from collections import OrderedDict
from typing import Protocol

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.problems import problem_response

access_log = logging.getLogger("tally.access")
MAX_CLIENTS = 10_000


class Buckets(Protocol):
    """Where a rate limiter keeps its clients' budgets."""

    rate: float
    burst: int

    def take(self, client: str, now: float) -> float:
        """Take a token; return 0 if allowed, else the seconds until one is available."""
        ...


class TokenBuckets:
    """Token buckets keyed by client, least recently seen forgotten first."""

    def __init__(self, rate: float, burst: int) -> None:
        self.rate = rate
        self.burst = burst
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    def wait(self, client: str, now: float) -> float:
        """The seconds until ``client`` has a token (0: now), taking none."""
        with self._lock:
            tokens, last = self._buckets.get(client, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - last) * self.rate)
            return 0.0 if tokens >= 1 else (1 - tokens) / self.rate

    def take(self, client: str, now: float) -> float:
        """Take a token; return 0 if allowed, else the seconds until one is available."""
        with self._lock:
            tokens, last = self._buckets.pop(client, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - last) * self.rate)
            wait = 0.0
            if tokens >= 1:
                tokens -= 1
            else:
                wait = (1 - tokens) / self.rate
            self._buckets[client] = (tokens, now)
            while len(self._buckets) > MAX_CLIENTS:
                self._buckets.popitem(last=False)
            return wait


class RateLimit:
    """ASGI middleware: refuse public requests beyond a client's budget (429, Retry-After)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        rate: float,
        burst: int,
        prefix: str = "/v1/",
        buckets: Buckets | None = None,
    ) -> None:
        """Limit requests to paths under ``prefix``, in ``buckets`` (default: this
        process's own; a multi-process server passes buckets its workers share)."""
        self.app = app
        self.buckets = buckets if buckets is not None else TokenBuckets(rate, burst)
        self.prefix = prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Count the request against its client's bucket, or answer 429."""
        if scope["type"] == "http" and str(scope["path"]).startswith(self.prefix):
            client = scope.get("client")
            wait = self.buckets.take(client[0] if client else "unknown", time.monotonic())
            if wait > 0:
                seconds = max(1, math.ceil(wait))
                response = problem_response(
                    429,
                    "Too many requests",
                    f"expected at most {self.buckets.rate:g} requests a second "
                    f"(bursts of {self.buckets.burst}); retry in {seconds} s",
                    **{"Retry-After": str(seconds)},
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


class AccessLog:
    """ASGI middleware: one JSON line per request on ``tally.access``, and request metrics."""

    def __init__(self, app: ASGIApp) -> None:
        """Log what ``app`` is asked and answers."""
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Time the request; log and count it once answered."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def record_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, record_status)
        finally:
            route = getattr(scope.get("route"), "path", "unmatched")
            app = scope.get("app")
            metrics = getattr(getattr(app, "state", None), "metrics", None)
            if metrics is not None:
                metrics.requests.labels(scope["method"], route, str(status)).inc()
            if access_log.isEnabledFor(logging.INFO):
                client = scope.get("client")
                access_log.info(
                    json.dumps(
                        {
                            "client": client[0] if client else None,
                            "method": scope["method"],
                            "path": scope["path"],
                            "query": _loggable_query(scope),
                            "status": status,
                            "ms": round((time.perf_counter() - started) * 1000, 2),
                        },
                        separators=(",", ":"),
                    )
                )


def _loggable_query(scope: Scope) -> str:
    """The query string as logged: on admin paths, its keys alone, since an operator's
    lookup carries a person's name or phone there (never to be written to a log)."""
    query = bytes(scope.get("query_string", b"")).decode("latin-1")
    if not str(scope["path"]).startswith("/admin/") or not query:
        return query
    return "&".join(part.split("=", 1)[0] + "=*" for part in query.split("&"))
