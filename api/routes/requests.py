"""``POST /v1/requests``: anyone hands a member-signed request to the log (specs/requests.md §5);
``POST /v1/reveals``: an appellant reveals the secret that seeds their panel's draw (§6).

The member's signature, not the sender, makes a request the member's: the log checks
the document's form, the signature and every plan rule, appends the entry under the
actor ``member:<member>`` and answers 201 with the signed write receipt of
specs/receipt.md, so a member whose request is then withheld holds proof that it was
taken. Refusals are problem documents (400, 409 naming the rule, 413, 415, 422, 429);
nothing a member posts is secret, and nothing but the member id is echoed.

A reveal needs no signature: only the appellant knows the secret that opens the
commitment they signed in their appeal, so the secret is its own authority. The
log draws the panel with it (plan.md §6) and appends ``panel.drawn``; the appellant
reveals only once ``panel.pooled`` is on the log and covered by a checkpoint, which
their tool checks first (a secret sent earlier would let the operator choose the
pool's signature knowing it).

Each client is limited by the server's per-client limit on ``/v1/``; each member, in
addition, to :data:`MEMBER_RATE` accepted requests a second with bursts of
:data:`MEMBER_BURST`, counted in this worker's process. Only accepted requests
count against a member, so requests forged in a member's name (refused by their
signature) cannot use up the member's budget.
"""

from __future__ import annotations

import json
import math
import time
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from api.admin.service import AdminService, Written
from api.middleware import TokenBuckets
from api.problems import PROBLEM_JSON, ProblemError
from ledger.domain.plan import Plan
from ledger.domain.requests import (
    MAX_DOCUMENT_BYTES,
    RequestDocument,
    RequestDocumentError,
    parse_request_document,
)

MEMBER_RATE = 1.0
MEMBER_BURST = 10

router = APIRouter(prefix="/v1", tags=["requests"])
_problem: dict[str, Any] = {"content": {PROBLEM_JSON: {}}}
_errors: dict[int | str, dict[str, Any]] = {
    400: {"description": "Not JSON, or not a request document", **_problem},
    404: {"description": "This server is read-only: post to the log's writer", **_problem},
    409: {"description": "Refused by a plan rule, named in 'rule'", **_problem},
    413: {"description": f"Body over {MAX_DOCUMENT_BYTES:,} bytes", **_problem},
    415: {"description": "Not application/json", **_problem},
    422: {"description": "A join (for the operator) or an entry the log refuses", **_problem},
    429: {"description": "Too many requests from this client or for this member", **_problem},
    503: {"description": "The log's store is unavailable", **_problem},
}


class RequestDocumentIn(BaseModel):
    """A member's signed request (specs/requests.md §5)."""

    type: str = Field(examples=["claim.objected"], description="The entry type")
    body: dict[str, Any] = Field(
        description="The entry's body with the member's request number and signature"
    )


class RevealIn(BaseModel):
    """An appellant's revealed secret (specs/plan.md §6)."""

    claim: str = Field(pattern=r"^c-(0|[1-9][0-9]{0,15})$", examples=["c-42"])
    secret: str = Field(pattern=r"^[0-9a-f]{64}$", description="The 32-byte secret, lower-case hex")


class Accepted(BaseModel):
    """The entry appended, and the log's signed receipt for it (specs/receipt.md)."""

    seq: int
    entry_hash: str = Field(description="SHA-256 of the entry's bytes, hex")
    covered_by: str = Field(description="A checkpoint will cover the entry by this time")
    receipt: str = Field(description="The receipt: a signed note by the log's key")


@router.post(
    "/requests",
    status_code=201,
    response_model=Accepted,
    responses=_errors,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": RequestDocumentIn.model_json_schema(),
                }
            },
        }
    },
)
async def post_request(request: Request) -> JSONResponse:
    """Append a member-signed request; answer with its receipt."""
    service: AdminService | None = getattr(request.app.state, "admin", None)
    if service is None:
        raise ProblemError(
            404, "Not found", "this server is read-only: post requests to the log's writer"
        )
    media = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media != "application/json":
        raise ProblemError(
            415, "Unsupported media type", f"expected application/json, found {media or 'none'!r}"
        )
    document = _document(await _body(request))
    buckets = _member_buckets(request)
    wait = buckets.wait(document.member, time.monotonic())
    if wait > 0:
        seconds = max(1, math.ceil(wait))
        raise ProblemError(
            429,
            "Too many requests",
            f"expected at most {MEMBER_RATE:g} requests a second for {document.member} "
            f"(bursts of {MEMBER_BURST}); retry in {seconds} s",
            headers={"Retry-After": str(seconds)},
        )

    def append(plan: Plan) -> None:
        plan.submit_request(document)

    _, written = await run_in_threadpool(service.run, append)
    buckets.take(document.member, time.monotonic())
    return _accepted(written[0])


async def _body(request: Request) -> bytes:
    """The body, refused (413) past the cap without reading more than the cap."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_DOCUMENT_BYTES:
        raise _too_large()
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_DOCUMENT_BYTES:
            raise _too_large()
        chunks.append(chunk)
    return b"".join(chunks)


@router.post(
    "/reveals",
    status_code=201,
    response_model=Accepted,
    responses={k: v for k, v in _errors.items() if k not in (413, 415)},
)
def post_reveal(request: Request, reveal: RevealIn) -> JSONResponse:
    """Draw an appealed claim's panel with the appellant's secret; answer with the receipt."""
    service: AdminService | None = getattr(request.app.state, "admin", None)
    if service is None:
        raise ProblemError(
            404, "Not found", "this server is read-only: post reveals to the log's writer"
        )
    secret = bytes.fromhex(reveal.secret)

    def draw(plan: Plan) -> None:
        plan.draw_panel(reveal.claim, secret)

    _, written = service.run(draw)
    return _accepted(written[0])


def _accepted(out: Written) -> JSONResponse:
    """201 with the receipt (for the caller only: never cached)."""
    return JSONResponse(
        status_code=201,
        content={
            "seq": out.seq,
            "entry_hash": out.entry_hash,
            "covered_by": out.covered_by,
            "receipt": out.receipt,
        },
        headers={"Cache-Control": "no-store"},
    )


def _too_large() -> ProblemError:
    return ProblemError(
        413,
        "Request too large",
        f"expected a request document of at most {MAX_DOCUMENT_BYTES:,} bytes",
    )


def _refuse_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


def _document(raw: bytes) -> RequestDocument:
    try:
        value = json.loads(raw.decode("utf-8"), parse_constant=_refuse_constant)
    except (UnicodeDecodeError, ValueError) as exc:
        raise ProblemError(400, "Bad request", f"expected a JSON request document: {exc}") from None
    try:
        document = parse_request_document(value)
    except RequestDocumentError as exc:
        raise ProblemError(400, "Bad request", str(exc)) from None
    if document.type == "member.joined":
        raise ProblemError(
            422,
            "Not taken here",
            "a join request goes to the operator, who checks the person's identity and "
            "appends it (specs/requests.md §5)",
        )
    return document


def _member_buckets(request: Request) -> TokenBuckets:
    buckets: TokenBuckets | None = getattr(request.app.state, "member_buckets", None)
    if buckets is None:
        buckets = request.app.state.member_buckets = TokenBuckets(MEMBER_RATE, MEMBER_BURST)
    return buckets
