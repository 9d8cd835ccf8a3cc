"""Who may call the admin API: bearer tokens (ledger.tokens), checked before anything else.

:class:`AdminGate` is ASGI middleware in front of every path under ``/admin/``. In
order, before the request's body is read:

1. a server without the signing key answers 404 (it has no admin API);
2. the ``Authorization: Bearer <token>`` header: missing, malformed, unknown or
   revoked is 401 with ``WWW-Authenticate: Bearer``;
3. a body larger than :data:`MAX_BODY` bytes is 413 (by its ``Content-Length``, or
   while it streams in).

The token's description is then left in the request's state, and each endpoint's
role dependency (:func:`operator`, :func:`juror`) answers 403 to the wrong role.
Every answer under ``/admin/`` is sent ``Cache-Control: no-store``.
"""

from __future__ import annotations

import json
import logging
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.admin.service import AdminService
from api.problems import PROBLEM_JSON, ProblemError
from ledger.errors import StoreError
from ledger.tokens import TokenError, TokenInfo, authenticate

MAX_BODY = 1024 * 1024
PREFIX = "/admin/"
REALM = 'Bearer realm="tally-admin"'
PRINCIPAL = "tally_principal"

log = logging.getLogger("tally.admin")

# Declares the scheme in the OpenAPI document; the gate does the checking.
bearer = HTTPBearer(
    auto_error=False,
    scheme_name="token",
    description="A token from 'tally token create' (tly_...)",
)


class AdminGate:
    """ASGI middleware: the admin API's availability, authentication and body limit."""

    def __init__(
        self, app: ASGIApp, *, service: AdminService | None, max_body: int = MAX_BODY
    ) -> None:
        """Guard ``app``'s admin paths; ``service`` is None when the server has no key."""
        self.app = app
        self.service = service
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Refuse, or pass the request on with its token's description in its state."""
        if scope["type"] != "http" or not str(scope["path"]).startswith(PREFIX):
            await self.app(scope, receive, send)
            return
        if self.service is None:
            await _problem(
                send,
                404,
                "Not found",
                "this server is read-only, without the log's signing key, so it has no admin "
                "API: start 'tally serve' with --key (or TALLY_KEY_FILE) for it",
            )
            return
        headers = _headers(scope)
        try:
            principal = await self._authenticate(headers.get("authorization", []))
        except ProblemError as exc:
            await _problem(send, exc.status, exc.title, exc.detail, exc.headers)
            return
        lengths = headers.get("content-length", [])
        if lengths:
            if len(lengths) != 1 or not lengths[0].isdigit():
                await _problem(send, 400, "Bad request", "expected one decimal Content-Length")
                return
            if int(lengths[0]) > self.max_body:
                await _problem(send, 413, "Request too large", self._too_large(int(lengths[0])))
                return
        scope.setdefault("state", {})[PRINCIPAL] = principal
        await self.app(scope, self._limited(receive), _no_store(send))

    async def _authenticate(self, values: list[str]) -> TokenInfo:
        if not values:
            raise ProblemError(
                401,
                "Unauthorized",
                "expected an 'Authorization: Bearer <token>' header, found none",
                headers={"WWW-Authenticate": REALM},
            )
        scheme, _, token = values[0].partition(" ")
        if len(values) != 1 or scheme.lower() != "bearer" or not token.strip():
            raise _invalid("expected one 'Authorization: Bearer <token>' header, found another")
        assert self.service is not None
        store = self.service.ledger.store
        try:
            return await run_in_threadpool(authenticate, store, token.strip())
        except TokenError as exc:
            raise _invalid(str(exc)) from None
        except StoreError as exc:
            raise ProblemError(
                503, "Log unavailable", str(exc), headers={"Retry-After": "5"}
            ) from None
        except Exception as exc:  # the driver's own errors: never a 500
            log.exception("token lookup failed")
            raise ProblemError(
                503,
                "Log unavailable",
                f"cannot check the token: {type(exc).__name__}",
                headers={"Retry-After": "5"},
            ) from None

    def _too_large(self, size: int | None) -> str:
        found = "more" if size is None else f"{size} bytes"
        return f"expected a request body of at most {self.max_body} bytes, found {found}"

    def _limited(self, receive: Receive) -> Receive:
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_body:
                    raise HTTPException(413, self._too_large(None))
            return message

        return counted


def _no_store(send: Send) -> Send:
    """Mark every answer ``Cache-Control: no-store``: receipts are for their caller only."""

    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = [h for h in message.get("headers", []) if h[0].lower() != b"cache-control"]
            message = {**message, "headers": [*headers, (b"cache-control", b"no-store")]}
        await send(message)

    return sending


def _invalid(detail: str) -> ProblemError:
    return ProblemError(
        401,
        "Unauthorized",
        detail,
        headers={"WWW-Authenticate": f'{REALM}, error="invalid_token"'},
    )


def _headers(scope: Scope) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for name, value in scope.get("headers", []):
        found.setdefault(name.decode("latin-1").lower(), []).append(value.decode("latin-1"))
    return found


async def _problem(
    send: Send, status: int, title: str, detail: str, headers: dict[str, str] | None = None
) -> None:
    body = json.dumps(
        {"type": "about:blank", "title": title, "status": status, "detail": detail}
    ).encode()
    raw_headers = [
        (b"content-type", PROBLEM_JSON.encode()),
        (b"cache-control", b"no-store"),
        (b"content-length", str(len(body)).encode()),
        *((k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in (headers or {}).items()),
    ]
    await send({"type": "http.response.start", "status": status, "headers": raw_headers})
    await send({"type": "http.response.body", "body": body})


def principal(
    request: Request,
    _: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> TokenInfo:
    """The token the gate accepted for this request."""
    found: Any = request.scope.get("state", {}).get(PRINCIPAL)
    if not isinstance(found, TokenInfo):
        raise _invalid("expected a token checked by the admin gate, found none")
    return found


def operator(token: Annotated[TokenInfo, Depends(principal)]) -> TokenInfo:
    """The caller, who must hold an operator token (403 otherwise)."""
    if token.role != "operator":
        raise _forbidden(f"expected an operator token, found {token.role} token {token.id}")
    return token


def juror(token: Annotated[TokenInfo, Depends(principal)]) -> TokenInfo:
    """The caller, who must hold a juror token (403 otherwise)."""
    if token.role != "juror":
        raise _forbidden(
            f"expected a juror token (a vote is cast by its juror), found {token.role} "
            f"token {token.id}"
        )
    return token


def _forbidden(detail: str) -> ProblemError:
    return ProblemError(
        403,
        "Forbidden",
        detail,
        headers={"WWW-Authenticate": f'{REALM}, error="insufficient_scope"'},
    )
