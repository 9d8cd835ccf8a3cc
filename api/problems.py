"""Errors as RFC 9457 problem details (``application/problem+json``).

Every error the API returns has this shape, and every malformed request is a 4xx:
request validation failures become 400, ledger errors map to the status that
says whose fault they are, and an unavailable database is 503.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from ledger.errors import LedgerError, StoreError, TreeError

PROBLEM_JSON = "application/problem+json"


class ProblemError(Exception):
    """An error to answer with a problem document.

    ``extensions`` are extra members of the document (RFC 9457 §3.2), for example the
    name of the plan rule that refused a command; ``headers`` are sent with it.
    """

    def __init__(
        self,
        status: int,
        title: str,
        detail: str,
        *,
        extensions: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.title = title
        self.detail = detail
        self.extensions = dict(extensions or {})
        self.headers = dict(headers or {})


def problem_response(status: int, title: str, detail: str, **headers: str) -> JSONResponse:
    """A problem+json response."""
    return extended_problem_response(status, title, detail, headers=headers)


def extended_problem_response(
    status: int,
    title: str,
    detail: str,
    *,
    extensions: Mapping[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    """A problem+json response with extension members (RFC 9457 §3.2) and headers."""
    body: dict[str, Any] = {
        **(extensions or {}),
        "type": "about:blank",
        "title": title,
        "status": status,
        "detail": detail,
    }
    return JSONResponse(
        body, status_code=status, media_type=PROBLEM_JSON, headers=dict(headers or {}) or None
    )


def install(app: FastAPI) -> None:
    """Register the handlers that turn every error into a problem document."""

    @app.exception_handler(ProblemError)
    async def _problem(_: Request, exc: ProblemError) -> JSONResponse:
        return extended_problem_response(
            exc.status, exc.title, exc.detail, extensions=exc.extensions, headers=exc.headers
        )

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        parts = []
        for error in exc.errors():
            where = ".".join(str(p) for p in error.get("loc", ()) if p not in ("query", "path"))
            parts.append(f"{where}: {error.get('msg', 'invalid')}")
        return problem_response(400, "Bad request", "; ".join(parts) or "invalid request")

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        return problem_response(exc.status_code, _title(exc.status_code), str(exc.detail))

    @app.exception_handler(TreeError)
    async def _tree(_: Request, exc: TreeError) -> JSONResponse:
        return problem_response(400, "Out of range", str(exc))

    @app.exception_handler(StoreError)
    async def _store(_: Request, exc: StoreError) -> JSONResponse:
        return problem_response(503, "Log unavailable", str(exc), **{"Retry-After": "5"})

    @app.exception_handler(LedgerError)
    async def _ledger(_: Request, exc: LedgerError) -> JSONResponse:
        return problem_response(400, "Refused", str(exc))


def _title(status: int) -> str:
    return {
        400: "Bad request",
        404: "Not found",
        405: "Method not allowed",
        413: "Request too large",
        429: "Too many requests",
    }.get(status, "Error")
