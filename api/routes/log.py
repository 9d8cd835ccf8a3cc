"""The public log contract (specs/http.md): log info, checkpoint, entries, proofs."""

from __future__ import annotations

import base64
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from api.problems import PROBLEM_JSON, ProblemError
from ledger.log.log import Log
from ledger.publish.publisher import latest_checkpoint

MAX_PAGE = 1000
MAX_PAGE_BYTES = 4 * 1024 * 1024
"""A page stops after the entry that takes it past this many bytes of JSON."""
MAX_INDEX = 2**62
IMMUTABLE = "public, max-age=31536000, immutable"
SHORT = "public, max-age=1"

router = APIRouter(prefix="/v1", tags=["log"])
_errors: dict[int | str, dict[str, Any]] = {
    400: {"description": "Malformed or out-of-range parameters", "content": {PROBLEM_JSON: {}}},
    503: {"description": "The log's store is unavailable", "content": {PROBLEM_JSON: {}}},
}

Index = Annotated[int, Query(ge=0, le=MAX_INDEX)]


class LogInfo(BaseModel):
    """Who the log is and how large it is."""

    origin: str = Field(description="The log's origin, also its key name")
    verifier_key: str = Field(description="C2SP verifier key: name+hex8+base64(0x01||key)")
    tree_size: int = Field(description="Entries appended so far (may exceed the latest checkpoint)")


class EntryOut(BaseModel):
    """One entry: its exact bytes, and the same bytes decoded for reading."""

    seq: int
    leaf: str = Field(description="base64 of the entry's exact bytes; hash these, not 'entry'")
    entry: dict[str, Any]


class EntriesPage(BaseModel):
    """Entries ``start <= seq < end``; fewer than asked when capped or at the end of the log."""

    entries: list[EntryOut]


class InclusionProof(BaseModel):
    """RFC 9162 §2.1.3 inclusion proof, hashes base64."""

    seq: int
    tree_size: int
    leaf_hash: str
    hashes: list[str]


class ConsistencyProof(BaseModel):
    """RFC 9162 §2.1.4 consistency proof, hashes base64."""

    first: int
    second: int
    hashes: list[str]


def _log(request: Request) -> Log:
    log: Log = request.app.state.log
    return log


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


@router.get("/log", response_model=LogInfo, responses=_errors)
def log_info(request: Request, response: Response) -> LogInfo:
    """The log's origin, verifier key and current size."""
    response.headers["Cache-Control"] = SHORT
    meta = request.app.state.meta
    return LogInfo(
        origin=meta.origin, verifier_key=meta.verifier_key, tree_size=_log(request).size()
    )


@router.get(
    "/checkpoint",
    response_class=Response,
    responses={
        200: {"content": {"text/plain": {}}, "description": "The latest C2SP signed checkpoint"},
        404: {"description": "No checkpoint signed yet", "content": {PROBLEM_JSON: {}}},
        **_errors,
    },
)
async def checkpoint(request: Request) -> Response:
    """The latest signed checkpoint, as a C2SP signed note."""
    # The hot read endpoints are async and read the store inline: one short indexed
    # statement each, cheaper than a hop through the thread pool (ADR 0008).
    note = latest_checkpoint(_log(request).store)
    if note is None:
        raise ProblemError(404, "Not found", "no checkpoint has been signed yet")
    return Response(note, media_type="text/plain; charset=utf-8", headers={"Cache-Control": SHORT})


@router.get("/entries", response_model=EntriesPage, responses=_errors)
def entries(
    request: Request,
    start: Index,
    end: Annotated[int | None, Query(ge=1, le=MAX_INDEX)] = None,
) -> Response:
    """Entries from ``start`` up to ``end`` (exclusive), at most 1,000 and about 4 MiB a page."""
    log = _log(request)
    size = log.size()
    if start >= size:
        raise ProblemError(400, "Out of range", f"expected start < tree size {size}, found {start}")
    if end is not None and end <= start:
        raise ProblemError(400, "Bad request", f"expected end > start {start}, found {end}")
    stop = min(end if end is not None else start + MAX_PAGE, start + MAX_PAGE, size)
    rows = log.entries(start, stop)
    # Written directly rather than through the response model: an entry's bytes are
    # already canonical JSON (checked when appended), so they are the 'entry' value
    # verbatim, and a page of 1,000 needs no parsing or re-encoding.
    items: list[bytes] = []
    written = 0
    for seq, raw in rows:
        item = b'{"seq":%d,"leaf":"%s","entry":%s}' % (seq, base64.b64encode(raw), raw)
        items.append(item)
        written += len(item) + 1
        if written >= MAX_PAGE_BYTES:
            break  # the client pages on from the last seq it received
    last = start + len(items)
    cache = IMMUTABLE if end is not None and last == end else SHORT
    return Response(
        b'{"entries":[' + b",".join(items) + b"]}",
        media_type="application/json",
        headers={"Cache-Control": cache},
    )


@router.get("/proof/inclusion", response_model=InclusionProof, responses=_errors)
async def inclusion(
    request: Request, response: Response, seq: Index, tree_size: Index
) -> InclusionProof:
    """The inclusion proof of entry ``seq`` in the tree of ``tree_size`` entries."""
    if seq >= tree_size:
        raise ProblemError(
            400, "Out of range", f"expected seq < tree_size {tree_size}, found {seq}"
        )
    leaf, hashes = _log(request).leaf_and_inclusion_proof(seq, tree_size)
    # The hottest endpoint: built by hand and returned as is, skipping the response
    # model's validation (the model above still documents it, and the schemathesis
    # test holds this answer to it).
    body = {
        "seq": seq,
        "tree_size": tree_size,
        "leaf_hash": _b64(leaf),
        "hashes": [_b64(h) for h in hashes],
    }
    return JSONResponse(body, headers={"Cache-Control": IMMUTABLE})  # type: ignore[return-value]


@router.get("/proof/consistency", response_model=ConsistencyProof, responses=_errors)
async def consistency(
    request: Request,
    response: Response,
    first: Annotated[int, Query(ge=1, le=MAX_INDEX)],
    second: Index,
) -> ConsistencyProof:
    """The proof that the tree of ``first`` entries is a prefix of the tree of ``second``."""
    if first > second:
        raise ProblemError(400, "Out of range", f"expected first <= second {second}, found {first}")
    hashes = _log(request).consistency_proof(first, second)
    response.headers["Cache-Control"] = IMMUTABLE
    return ConsistencyProof(first=first, second=second, hashes=[_b64(h) for h in hashes])
