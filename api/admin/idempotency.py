"""The ``Idempotency-Key`` header on admin writes (IETF draft-ietf-httpapi-idempotency-key-header).

A client that did not hear back from a write sends it again with the same key; the
log must not grow twice. :class:`IdempotentRoute` wraps every admin endpoint:

- no header: the request runs as usual;
- a key this token used before for the same request (method, path and body, the
  body compared as canonical JSON): the first answer, word for word (same seq,
  same receipt), with ``Idempotent-Replayed: true``; nothing is appended;
- a key this token used for another request: 422, nothing is appended;
- a key whose request appended but has not been answered yet (it is running, or
  the server stopped in between): 409 naming the seqs it appended;
- a new key: the request runs, and the key is recorded in the transaction that
  appends its entries (ledger.idempotency), so two requests with one key, in one
  server or two, never both append. A refused request records nothing.

Keys are per token and kept for seven days (ledger.idempotency.RETENTION).
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Callable, Coroutine
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import Header, Request, Response
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool

from api.problems import ProblemError
from ledger.idempotency import KeyTakenError, Stored, lookup, record_answer

if TYPE_CHECKING:
    from api.admin.service import AdminService

HEADER = "Idempotency-Key"
log = logging.getLogger("tally.admin")
KEY_RE = re.compile(r"\A[!-~]{1,255}\Z")
REPLAYED = "Idempotent-Replayed"


@dataclass(frozen=True)
class Pending:
    """The key of the request being run, for the service to record with its entries."""

    scope: str
    key: str
    request_hash: str


CURRENT: ContextVar[Pending | None] = ContextVar("tally_idempotency", default=None)
"""Set while an endpoint runs for a request with a new key (read by AdminService.run)."""


def idempotency_key(
    key: Annotated[
        str | None,
        Header(
            alias=HEADER,
            pattern=r'^"?[!-~]{1,255}"?$',
            description="Makes the write safe to repeat: the same key and request get the "
            "first answer again and append nothing; the same key with another request is "
            "422. 1 to 255 visible ASCII characters (a UUID, say), per token, kept 7 days.",
            examples=["4d1f8c9e-6a1b-4c1e-9a57-0f1c2b3d4e5f"],
        ),
    ] = None,
) -> str | None:
    """Declares the header in the OpenAPI document; :class:`IdempotentRoute` acts on it."""
    return key


def parse_key(values: list[str]) -> str:
    """The key from the header's values: one value, visible ASCII, optionally quoted."""
    if len(values) != 1:
        raise ProblemError(400, "Bad request", f"expected one {HEADER} header, found several")
    value = values[0]
    if len(value) >= 2 and value[0] == value[-1] == '"':
        value = value[1:-1]  # the structured-field string form of the draft
    if not KEY_RE.match(value):
        raise ProblemError(
            400,
            "Bad request",
            f"expected an {HEADER} of 1 to 255 visible ASCII characters (a UUID, say), "
            "found another",
        )
    return value


def request_digest(method: str, path: str, body: bytes) -> str:
    """SHA-256 of the request: method, path, and the body as canonical JSON (else as sent)."""
    try:
        parsed = json.loads(body) if body else None
        canonical = json.dumps(parsed, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        data = canonical.encode()
    except (ValueError, UnicodeDecodeError, RecursionError):
        data = body
    return hashlib.sha256(f"{method} {path}\n".encode() + data).hexdigest()


def again(stored: Stored, digest: str, key: str) -> Response:
    """The answer to a key already used: the first answer, or why there is none."""
    if stored.request_hash != digest:
        raise ProblemError(
            422,
            "Idempotency-Key reused",
            f"the {HEADER} {key!r} was first used at {stored.created} for another request "
            "(another path or body); a key names one request: send a new request with a "
            "new key",
        )
    if stored.answer is None or stored.status is None:
        raise ProblemError(
            409,
            "Request in progress",
            f"a request with the {HEADER} {key!r} appended seq {stored.first_seq} to "
            f"{stored.last_seq} at {stored.created} and has not been answered yet (it is "
            "still running, or the server stopped before answering): retry shortly, or "
            f"read its entries at /v1/entries?start={stored.first_seq}&end={stored.last_seq + 1}",
            headers={"Retry-After": "1"},
        )
    return Response(
        content=stored.answer,
        status_code=stored.status,
        media_type="application/json",
        headers={REPLAYED: "true"},
    )


class IdempotentRoute(APIRoute):
    """An admin endpoint that honours ``Idempotency-Key`` (see the module's docstring)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        """Wrap the endpoint's handler with the key's lookup, recording and replay."""
        original = super().get_route_handler()

        async def handler(request: Request) -> Response:
            values = request.headers.getlist(HEADER)
            if not values:
                return await original(request)
            key = parse_key(values)
            service: AdminService | None = request.app.state.admin
            # The token the admin gate accepted (api.admin.auth.PRINCIPAL).
            principal: Any = request.scope.get("state", {}).get("tally_principal")
            if service is None or principal is None:
                return await original(request)
            store = service.ledger.store
            digest = request_digest(request.method, request.url.path, await request.body())
            stored = await run_in_threadpool(lookup, store, principal.id, key)
            if stored is not None:
                return again(stored, digest, key)
            token = CURRENT.set(Pending(principal.id, key, digest))
            try:
                response = await original(request)
            except KeyTakenError as exc:
                # A request with the same key appended first (in this server or another).
                stored = await run_in_threadpool(lookup, store, principal.id, key)
                if stored is None:  # forgotten since: only if it was days ago
                    raise ProblemError(409, "Idempotency-Key used", str(exc)) from None
                return again(stored, digest, key)
            finally:
                CURRENT.reset(token)
            if 200 <= response.status_code < 300:
                body = bytes(response.body).decode()
                try:
                    await run_in_threadpool(
                        record_answer, store, principal.id, key, response.status_code, body
                    )
                except Exception:  # the entries are in: answer anyway; a repeat gets 409
                    log.exception("could not keep the answer to Idempotency-Key %r", key)
            return response

        return handler
