"""The log as C2SP tlog-tiles at the server's root (specs/http.md §Tiles).

``/checkpoint`` is the latest signed checkpoint, as ``/v1/checkpoint``; ``/tile/...``
serves hash tiles and entry bundles (:mod:`ledger.log.tiles`), immutable once they
exist, so that any web server or CDN can cache them for good and a client can build
any proof from them. Each is one indexed read, done inline like the other hot reads
(ADR 0008).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from api.problems import PROBLEM_JSON, ProblemError
from api.routes import log as log_routes
from api.routes.log import IMMUTABLE
from ledger.errors import TreeError
from ledger.log.log import Log
from ledger.log.tiles import (
    ENTRIES,
    TilePathError,
    parse_tile_path,
    read_entry_bundle,
    read_hash_tile,
)

router = APIRouter(tags=["tiles"])
OCTETS = "application/octet-stream"
_errors: dict[int | str, dict[str, Any]] = {
    404: {
        "description": "No such tile: a path that is not a tile's, or beyond the log",
        "content": {PROBLEM_JSON: {}},
    },
    503: {"description": "The log's store is unavailable", "content": {PROBLEM_JSON: {}}},
}


@router.get(
    "/checkpoint",
    response_class=Response,
    responses={
        200: {"content": {"text/plain": {}}, "description": "The latest C2SP signed checkpoint"},
        **_errors,
    },
)
async def tiles_checkpoint(request: Request) -> Response:
    """The latest signed checkpoint (C2SP tlog-tiles ``<prefix>/checkpoint``)."""
    return await log_routes.checkpoint(request)


@router.get(
    "/tile/{path:path}",
    response_class=Response,
    responses={
        200: {
            "content": {OCTETS: {}},
            "description": "A hash tile (concatenated 32-byte hashes) or an entry bundle "
            "(each entry as a big-endian u16 length and its bytes)",
        },
        **_errors,
    },
)
async def tile(request: Request, path: str) -> Response:
    """``tile/<L>/<N>[.p/<W>]`` or ``tile/entries/<N>[.p/<W>]`` (C2SP tlog-tiles)."""
    log: Log = request.app.state.log
    try:
        found = parse_tile_path("tile/" + path)
        if found.level == ENTRIES:
            body = read_entry_bundle(log.store, found)
        else:
            body = read_hash_tile(log.store, found)
    except TilePathError as exc:
        raise ProblemError(404, "Not found", f"no such tile: {exc}") from None
    except TreeError as exc:
        raise ProblemError(404, "Not found", str(exc)) from None
    return Response(body, media_type=OCTETS, headers={"Cache-Control": IMMUTABLE})
