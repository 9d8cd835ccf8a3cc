"""Public, read-only plan endpoints: rules, periods, claims and statistics.

Everything here is derived from the log's entries (api.plan_view); entry seqs are
given so that anyone can fetch the entries themselves, with their proofs, and check.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from api.plan_view import PlanView, stats, summary, totals
from api.problems import PROBLEM_JSON, ProblemError
from api.statement import build_statement
from ledger.domain.periods import PeriodError, parse_period
from ledger.domain.state import PlanState

MAX_PAGE = 500
SHORT = "public, max-age=1"
IMMUTABLE = "public, max-age=31536000, immutable"

router = APIRouter(prefix="/v1", tags=["plan"])
_errors: dict[int | str, dict[str, Any]] = {
    400: {"description": "Malformed parameters", "content": {PROBLEM_JSON: {}}},
    404: {"description": "No such item on the log", "content": {PROBLEM_JSON: {}}},
    503: {"description": "The log's store is unavailable", "content": {PROBLEM_JSON: {}}},
}
Status = Literal[
    "filed", "assessed", "disclosed", "appealed", "voting", "decided", "paid", "reversed"
]


class RulesVersion(BaseModel):
    """One version of the rules, as its ``plan.rules`` entry states it."""

    version: int
    seq: int = Field(description="The plan.rules entry")
    effective: str
    body: dict[str, Any]


class RulesList(BaseModel):
    """Every rules version, oldest first."""

    rules: list[RulesVersion]


class PeriodOut(BaseModel):
    """A closed period: its ``period.closed`` entry's seq and body."""

    period: str
    seq: int
    closed_at: str
    body: dict[str, Any]


class PeriodList(BaseModel):
    """Every closed period, oldest first."""

    periods: list[PeriodOut]


class Disclosure(BaseModel):
    """The coarse public fields of a claim, as its ``claim.disclosed`` entry states them."""

    seq: int = Field(description="The claim.disclosed entry")
    age_band: str
    category: str
    amount_fen: int = Field(description="The assessed amount")
    days_since_joining: int
    objections_close: str


class ClaimOut(BaseModel):
    """A claim's public summary."""

    claim: str
    status: Status
    member: str = Field(description="The claimant's pseudonym, as on the log")
    condition: str
    category: str
    amount_fen: int = Field(description="The amount claimed")
    outcome: str | None
    paid_fen: int | None
    paid_period: str | None
    recovered_fen: int | None
    filed_seq: int
    disclosure: Disclosure | None = Field(
        description="The claim.disclosed entry: the coarse fields made public, and when "
        "objections close"
    )


class ClaimPage(BaseModel):
    """A page of claims in filing order; ``next`` is the ``start`` of the next page."""

    claims: list[ClaimOut]
    next: int | None


class Step(BaseModel):
    """One entry in a claim's history."""

    seq: int
    type: str
    time: str


class ClaimDetail(ClaimOut):
    """A claim with every entry of its history."""

    history: list[Step]


class PeriodStats(BaseModel):
    """One closed period in figures."""

    period: str
    seq: int
    members: int
    joins: int
    leaves: int
    share_fen: int
    aid_fen: int
    fee_fen: int
    subsidy_fen: int
    claims_paid: int
    reversals: int = Field(description="Claims reversed for fraud, credited to the period")
    recovered_fen: int = Field(description="What those reversals recovered")
    decisions: dict[str, int] = Field(
        description="Claims decided in the period, by category:outcome"
    )


class Totals(BaseModel):
    """The plan's totals over its closed periods; money in fen and in yuan (decimal strings)."""

    periods: int
    claims_paid: int
    reversals: int
    aid_fen: int
    fee_fen: int
    subsidy_fen: int
    recovered_fen: int
    aid_yuan: str
    fee_yuan: str
    subsidy_yuan: str
    recovered_yuan: str


class Stats(BaseModel):
    """Figures for every closed period, and the plan's totals."""

    periods: list[PeriodStats]
    totals: Totals


def _state(request: Request) -> PlanState:
    view: PlanView = request.app.state.plan_view
    return view.state()


@router.get("/rules", response_model=RulesList, responses=_errors)
def rules(request: Request, response: Response) -> RulesList:
    """Every version of the plan's rules, with the entry that announced it."""
    state = _state(request)
    response.headers["Cache-Control"] = SHORT
    return RulesList(
        rules=[
            RulesVersion(version=r.version, seq=seq, effective=r.effective, body=r.to_body())
            for r, seq in zip(state.rules, state.rules_seqs, strict=True)
        ]
    )


@router.get("/periods", response_model=PeriodList, responses=_errors)
def periods(request: Request, response: Response) -> PeriodList:
    """Every closed period."""
    state = _state(request)
    response.headers["Cache-Control"] = SHORT
    return PeriodList(
        periods=[
            PeriodOut(period=c.period, seq=c.seq, closed_at=c.time, body=c.body)
            for c in state.closed
        ]
    )


@router.get("/periods/{period}", response_model=PeriodOut, responses=_errors)
def period(
    request: Request,
    response: Response,
    period: Annotated[str, Path(max_length=8, examples=["2025-04b"])],
) -> PeriodOut:
    """One closed period (never changes once closed)."""
    try:
        parse_period(period)
    except PeriodError as exc:
        raise ProblemError(400, "Bad request", str(exc)) from None
    for close in _state(request).closed:
        if close.period == period:
            response.headers["Cache-Control"] = IMMUTABLE
            return PeriodOut(
                period=close.period, seq=close.seq, closed_at=close.time, body=close.body
            )
    raise ProblemError(404, "Not found", f"period {period} has not been closed")


@router.get("/claims", response_model=ClaimPage, responses=_errors)
def claims(
    request: Request,
    response: Response,
    status: Status | None = None,
    period: Annotated[str | None, Query(max_length=8, description="Paid in this period")] = None,
    category: Annotated[str | None, Query(max_length=64)] = None,
    start: Annotated[int, Query(ge=0, le=2**62)] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
) -> ClaimPage:
    """Claims in filing order, filtered by status, period paid or condition category."""
    if period is not None:
        try:
            parse_period(period)
        except PeriodError as exc:
            raise ProblemError(400, "Bad request", str(exc)) from None
    state = _state(request)
    chosen = []
    for claim in list(state.all_claims()):
        item = summary(state, claim)
        if status is not None and item.status != status:
            continue
        if period is not None and item.paid_period != period:
            continue
        if category is not None and item.category != category:
            continue
        chosen.append(item)
    page = chosen[start : start + limit]
    response.headers["Cache-Control"] = SHORT
    return ClaimPage(
        claims=[ClaimOut(**asdict(item)) for item in page],
        next=start + limit if start + limit < len(chosen) else None,
    )


@router.get("/claims/{claim}", response_model=ClaimDetail, responses=_errors)
def claim(
    request: Request,
    response: Response,
    claim: Annotated[str, Path(max_length=24, pattern=r"^c-[0-9]+$")],
) -> ClaimDetail:
    """A claim and every entry of its history, with their seqs."""
    state = _state(request)
    found = state.claims.get(claim)
    if found is None:
        raise ProblemError(404, "Not found", f"no claim {claim} has been filed")
    response.headers["Cache-Control"] = SHORT
    return ClaimDetail(
        **asdict(summary(state, found)),
        history=[Step(seq=seq, type=type_, time=time) for seq, type_, time in found.history],
    )


class Contribution(BaseModel):
    """A member's leaf in one period's contribution sum tree, with its proof."""

    period: str
    index: int
    amount_fen: int
    siblings: list[dict[str, Any]]


class Neighbour(BaseModel):
    """A leaf beside the place a member's leaf would be, with its proof."""

    member: str
    amount_fen: int
    siblings: list[dict[str, Any]]


class Absence(BaseModel):
    """The two leaves between which the member's id would be (statement.md §1)."""

    index: int
    left: Neighbour | None
    right: Neighbour | None


class NoContribution(BaseModel):
    """A period in which the member has no leaf, and the proof of it."""

    period: str
    absent: Absence


class EntryWithProof(BaseModel):
    """An entry's exact bytes and its inclusion proof against the bundle's checkpoint."""

    seq: int
    leaf: str
    proof: list[str]


class Statement(BaseModel):
    """specs/statement.md: everything a member needs to check their share offline."""

    format: Literal["tally-statement/v1"]
    origin: str
    verifier_key: str
    member: str
    period: str
    checkpoint: str
    entries: list[EntryWithProof]
    contributions: list[Contribution | NoContribution]


UNKNOWN_MEMBER = "tag:tally,2025:problem/unknown-member"
"""The problem type of a statement asked for a member the log does not have."""
UNKNOWN_PERIOD = "tag:tally,2025:problem/unknown-period"
"""The problem type of a statement asked for a period that is not closed (or none is)."""


def _not_found(problem_type: str, detail: str) -> JSONResponse:
    """A 404 problem document with its own stable ``type`` (RFC 9457 §3.1.1).

    A client tells by the type that it asked about something the log does not
    hold, not that the server failed; ``detail`` names the member or period.
    """
    body = {"type": problem_type, "title": "Not found", "status": 404, "detail": detail}
    return JSONResponse(body, status_code=404, media_type=PROBLEM_JSON)


@router.get("/members/{member}/statement", response_model=Statement, responses=_errors)
def statement(
    request: Request,
    response: Response,
    member: Annotated[str, Path(pattern=r"^m-[0-9a-f]{20}$")],
    period: Annotated[str | None, Query(max_length=8)] = None,
) -> Statement | JSONResponse:
    """How a member's share of a period was used, as a bundle to verify offline.

    A member the log does not have, or a period not closed, is a 404 whose ``type``
    is :data:`UNKNOWN_MEMBER` or :data:`UNKNOWN_PERIOD`.
    """
    if period is not None:
        try:
            parse_period(period)
        except PeriodError as exc:
            raise ProblemError(400, "Bad request", str(exc)) from None
    view: PlanView = request.app.state.plan_view
    state = view.state()
    if member not in state.members:
        return _not_found(UNKNOWN_MEMBER, f"no member {member} has joined")
    if not state.closed:
        return _not_found(UNKNOWN_PERIOD, "no period has been closed yet")
    if period is not None and all(c.period != period for c in state.closed):
        return _not_found(UNKNOWN_PERIOD, f"period {period} has not been closed")
    bundle = build_statement(request.app.state.log, state, member, period)
    response.headers["Cache-Control"] = SHORT
    return Statement(**bundle)


@router.get("/stats", response_model=Stats, responses=_errors)
def plan_stats(request: Request, response: Response) -> Stats:
    """Per closed period: members, joins, leaves, share, aid, fee, decisions."""
    response.headers["Cache-Control"] = SHORT
    periods = stats(_state(request))
    return Stats(periods=[PeriodStats(**p) for p in periods], totals=Totals(**totals(periods)))
