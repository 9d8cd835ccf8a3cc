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
from collections.abc import Awaitable, Callable

from starlette.middleware.base import BaseHTTPMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp

from api.problems import problem_response

access_log = logging.getLogger("tally.access")
MAX_CLIENTS = 10_000


class TokenBuckets:
    """Token buckets keyed by client, least recently seen forgotten first."""

    def __init__(self, rate: float, burst: int) -> None:
        self.rate = rate
        self.burst = burst
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

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


class RateLimit(BaseHTTPMiddleware):
    """Refuse public requests beyond a client's budget with 429 and Retry-After."""

    def __init__(self, app: ASGIApp, *, rate: float, burst: int, prefix: str = "/v1/") -> None:
        super().__init__(app)
        self.buckets = TokenBuckets(rate, burst)
        self.prefix = prefix

    async def dispatch(
        self, request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        """Count the request against its client's bucket."""
        if request.url.path.startswith(self.prefix):
            client = request.client.host if request.client else "unknown"
            wait = self.buckets.take(client, time.monotonic())
            if wait > 0:
                seconds = max(1, math.ceil(wait))
                return problem_response(
                    429,
                    "Too many requests",
                    f"expected at most {self.buckets.rate:g} requests a second "
                    f"(bursts of {self.buckets.burst}); retry in {seconds} s",
                    **{"Retry-After": str(seconds)},
                )
        return await call_next(request)


class AccessLog(BaseHTTPMiddleware):
    """One JSON line per request on the ``tally.access`` logger."""

    async def dispatch(
        self, request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        """Time the request and log what was asked and answered."""
        started = time.perf_counter()
        response = await call_next(request)
        route = getattr(request.scope.get("route"), "path", "unmatched")
        metrics = getattr(request.app.state, "metrics", None)
        if metrics is not None:
            metrics.requests.labels(request.method, route, str(response.status_code)).inc()
        if access_log.isEnabledFor(logging.INFO):
            access_log.info(
                json.dumps(
                    {
                        "client": request.client.host if request.client else None,
                        "method": request.method,
                        "path": request.url.path,
                        "query": request.url.query,
                        "status": response.status_code,
                        "ms": round((time.perf_counter() - started) * 1000, 2),
                    },
                    separators=(",", ":"),
                )
            )
        return response
