"""The admin API's lookups: read-only views for operators (GET, operator tokens only).

``GET /admin/v1/members/{member}`` a member with their status, join and leaving,
juror key, claims and charges; ``GET /admin/v1/members?name=…&phone=…`` (or
``record_hash``, or ``field=KEY=VALUE``) the members an identity record belongs to;
``GET /admin/v1/claims/queue`` what each open claim waits for, on whom, and until
when; ``GET /admin/v1/plan/status`` the plan now, with its next cutoff, the rules
announced and the open windows. None writes anything or needs the signing key.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from sqlalchemy.engine import Connection

from api.admin.routes import Operator, admin_service
from api.problems import PROBLEM_JSON, ProblemError
from ledger.domain.lookup import (
    LookupQueryError,
    UnknownMemberError,
    find_members,
    member_view,
    parse_fields,
)
from ledger.domain.queue import claim_queue, overview
from ledger.domain.state import PlanState

_problem: dict[str, Any] = {"content": {PROBLEM_JSON: {}}}
router = APIRouter(
    prefix="/admin/v1",
    tags=["admin"],
    responses={
        400: {"description": "Malformed request", **_problem},
        401: {"description": "No valid token", **_problem},
        403: {"description": "The token's role may not do this", **_problem},
        404: {"description": "No such member", **_problem},
        503: {"description": "The log's store is unavailable", **_problem},
    },
)
MemberPath = Annotated[str, Path(pattern=r"^m-[0-9a-f]{20}$", examples=["m-0123456789abcdef0123"])]
Text = Annotated[str | None, Query(max_length=512)]


@router.get("/members/{member}")
def show_member(request: Request, token: Operator, member: MemberPath) -> dict[str, Any]:
    """A member: status, join and leaving (with seqs), juror key, claims, charges."""
    del token

    def query(conn: Connection, state: PlanState, now: str) -> dict[str, Any]:
        try:
            return member_view(conn, state, member, now).json()
        except UnknownMemberError as exc:
            raise ProblemError(404, "No such member", str(exc)) from None

    return admin_service(request).read(query)


@router.get("/members")
def find(
    request: Request,
    token: Operator,
    name: Text = None,
    phone: Text = None,
    record_hash: Text = None,
    field: Annotated[list[str] | None, Query(max_length=20)] = None,
) -> dict[str, Any]:
    """The members whose identity record has every field given, or hashes to ``record_hash``."""
    del token
    try:
        wanted = parse_fields(field or [])
    except LookupQueryError as exc:
        raise ProblemError(400, "Malformed request", str(exc)) from None
    wanted.update({k: v for k, v in (("name", name), ("phone", phone)) if v is not None})

    def query(conn: Connection, state: PlanState, now: str) -> dict[str, Any]:
        try:
            found = find_members(conn, fields=wanted, record_hash=record_hash)
        except LookupQueryError as exc:
            raise ProblemError(400, "Malformed request", str(exc)) from None
        views = [member_view(conn, state, m, now).json() for m in found if state.member(m)]
        return {"members": views}

    return admin_service(request).read(query)


@router.get("/claims/queue")
def queue(request: Request, token: Operator) -> dict[str, Any]:
    """Every claim not yet finished: the step it waits for, who must act, until when."""
    del token

    def query(conn: Connection, state: PlanState, now: str) -> dict[str, Any]:
        del conn
        waiting = claim_queue(state, now)
        return {"now": now, "claims": [w.json() for w in waiting]}

    return admin_service(request).read(query)


@router.get("/plan/status")
def status(request: Request, token: Operator) -> dict[str, Any]:
    """The plan now: rules in force and announced, members, the next cutoff, open windows."""
    del token

    def query(conn: Connection, state: PlanState, now: str) -> dict[str, Any]:
        del conn
        return overview(state, now)

    return admin_service(request).read(query)
