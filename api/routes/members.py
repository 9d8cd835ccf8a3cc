"""A member as the log shows them: the seqs of their join, leaving and juror enrolment.

With these a client fetches the entries themselves (``/v1/entries``) and their proofs,
for example the ``juror.enrolled`` entry holding the key a juror's vote is checked with.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, Response
from pydantic import BaseModel, Field

from api.plan_view import PlanView
from api.problems import PROBLEM_JSON, ProblemError

SHORT = "public, max-age=1"

router = APIRouter(prefix="/v1", tags=["plan"])
_errors: dict[int | str, dict[str, Any]] = {
    400: {"description": "Malformed member id", "content": {PROBLEM_JSON: {}}},
    404: {"description": "No such member on the log", "content": {PROBLEM_JSON: {}}},
    503: {"description": "The log's store is unavailable", "content": {PROBLEM_JSON: {}}},
}


class MemberOut(BaseModel):
    """A member's entries on the log (never an identity record: those stay off the log)."""

    member: str
    age_band: str
    joined: str = Field(description="The member.joined entry's time")
    joined_seq: int
    left_seq: int | None = Field(description="The member.left entry, if the member left")
    juror_seq: int | None = Field(description="The juror.enrolled entry, if enrolled")


@router.get("/members/{member}", response_model=MemberOut, responses=_errors)
def member(
    request: Request,
    response: Response,
    member: Annotated[str, Path(pattern=r"^m-[0-9a-f]{20}$")],
) -> MemberOut:
    """The seqs of a member's own entries."""
    view: PlanView = request.app.state.plan_view
    found = view.state().members.get(member)
    if found is None:
        raise ProblemError(404, "Not found", f"no member {member} has joined")
    response.headers["Cache-Control"] = SHORT
    return MemberOut(
        member=found.id,
        age_band=found.age_band,
        joined=found.joined,
        joined_seq=found.joined_seq,
        left_seq=found.left_seq if found.left is not None else None,
        juror_seq=found.juror_seq if found.juror_key is not None else None,
    )
