"""The admin API: one POST per plan command (ledger.domain.plan.Plan), each answered with receipts.

Operators may give every command but a vote; a juror may only cast their own vote.
Every entry written carries its actor (``operator:<token name or id>``, or
``juror:<member>`` for a vote) and is answered with the log's signed receipt
(specs/receipt.md). Refusals are problem documents: 400 a malformed request, 401
no valid token, 403 the wrong role, 409 a plan rule (``rule`` names it) or an entry
time before the log's last, 413 a body over 1 MiB, 422 an entry the log refuses
or an ``at`` in the future, 503 the store is unavailable.
"""

from __future__ import annotations

import base64
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Path, Request

from api.admin import models
from api.admin.auth import juror, operator
from api.admin.idempotency import IdempotentRoute, idempotency_key
from api.admin.service import AdminService, Written
from api.problems import PROBLEM_JSON, ProblemError
from ledger.domain.errors import RuleError
from ledger.domain.requests import RequestDocument, parse_request_document
from ledger.domain.rules import parse_rules
from ledger.errors import LedgerError
from ledger.tokens import TokenInfo

_problem: dict[str, Any] = {"content": {PROBLEM_JSON: {}}}
_errors: dict[int | str, dict[str, Any]] = {
    400: {"description": "Malformed request", **_problem},
    401: {"description": "No valid token", **_problem},
    403: {"description": "The token's role may not do this", **_problem},
    409: {
        "description": "Refused by a plan rule (named in 'rule') or the log, or a request "
        "with this Idempotency-Key is still being answered",
        **_problem,
    },
    413: {"description": "Request body over 1 MiB", **_problem},
    422: {
        "description": "The log refuses the entry, 'at' is in the future, or the "
        "Idempotency-Key was used for another request",
        **_problem,
    },
    503: {"description": "The log's store is unavailable", **_problem},
}
router = APIRouter(
    prefix="/admin/v1",
    tags=["admin"],
    responses=_errors,
    route_class=IdempotentRoute,
    dependencies=[Depends(idempotency_key)],
)

Operator = Annotated[TokenInfo, Depends(operator)]
Juror = Annotated[TokenInfo, Depends(juror)]
ClaimId = Annotated[str, Path(pattern=r"^c-[0-9]{1,16}$", examples=["c-42"])]
MemberPath = Annotated[str, Path(pattern=r"^m-[0-9a-f]{20}$")]
NoBody = Annotated[models.Command | None, Body()]


def admin_service(request: Request) -> AdminService:
    """The admin service of the app serving ``request`` (404 on a read-only server)."""
    service: AdminService | None = request.app.state.admin
    if service is None:  # not mounted then; kept for a direct call
        raise ProblemError(404, "Not found", "this server is read-only: it has no admin API")
    return service


def _join_request(value: dict[str, Any] | None) -> RequestDocument | None:
    """A person's join request, as the model checked its form."""
    return None if value is None else parse_request_document(value)


def _out(written: Written) -> dict[str, Any]:
    return {
        "seq": written.seq,
        "entry_hash": written.entry_hash,
        "covered_by": written.covered_by,
        "receipt": written.receipt,
    }


def _one(written: list[Written]) -> Written:
    assert len(written) == 1, written
    return written[0]


def _simple(
    request: Request, token: TokenInfo, body: models.Command | None, method: str, claim: str
) -> models.WrittenOut:
    service = admin_service(request)
    at = service.check_at(body.at if body is not None else None)
    _, written = service.run(lambda plan: getattr(plan, method)(claim, at=at, actor=token.actor))
    return models.WrittenOut(**_out(_one(written)))


# -- rules, members, jurors ----------------------------------------------------------


@router.post("/rules", status_code=201, response_model=models.RulesOut)
def announce_rules(request: Request, token: Operator, body: models.RulesIn) -> models.RulesOut:
    """Announce a rules version (``plan.rules``); it takes force at its ``effective`` time."""
    service = admin_service(request)
    at = service.check_at(body.at)
    try:
        rules = parse_rules(body.rules)
    except LedgerError as exc:
        extensions = {"rule": exc.rule} if isinstance(exc, RuleError) else None
        raise ProblemError(422, "Malformed rules", str(exc), extensions=extensions) from None
    _, written = service.run(lambda plan: plan.set_rules(rules, at=at, actor=token.actor))
    return models.RulesOut(**_out(_one(written)), version=rules.version, effective=rules.effective)


@router.post("/members", status_code=201, response_model=models.MemberOut)
def join(request: Request, token: Operator, body: models.JoinIn) -> models.MemberOut:
    """A member joins (``member.joined``); the identity record stays off the log."""
    service = admin_service(request)
    at = service.check_at(body.at)
    person = [(body.age_band, body.identity)]
    requests = [_join_request(body.request)]
    ((member, _),), written = service.run(
        lambda plan: plan.join_many(person, at=at, actor=token.actor, requests=requests)
    )
    return models.MemberOut(**_out(_one(written)), member=member)


@router.post("/members/bulk", status_code=201, response_model=models.MembersOut)
def join_many(request: Request, token: Operator, body: models.BulkJoinIn) -> models.MembersOut:
    """Many members join in one batch, all or none, each with a receipt."""
    service = admin_service(request)
    at = service.check_at(body.at)
    people = [(p.age_band, p.identity) for p in body.members]
    requests = [_join_request(p.request) for p in body.members]
    joined, written = service.run(
        lambda plan: plan.join_many(people, at=at, actor=token.actor, requests=requests)
    )
    return models.MembersOut(
        members=[
            models.MemberOut(**_out(w), member=member)
            for (member, _), w in zip(joined, written, strict=True)
        ]
    )


@router.post("/members/{member}/leave", status_code=201, response_model=models.WrittenOut)
def leave(
    request: Request, token: Operator, member: MemberPath, body: NoBody = None
) -> models.WrittenOut:
    """A member leaves the plan (``member.left``)."""
    return _simple(request, token, body, "leave", member)


@router.post("/jurors", status_code=201, response_model=models.WrittenOut)
def enrol(request: Request, token: Operator, body: models.EnrolIn) -> models.WrittenOut:
    """A member enrols as a juror with their own public key (``juror.enrolled``)."""
    service = admin_service(request)
    at = service.check_at(body.at)
    key = base64.b64decode(body.juror_key)
    _, written = service.run(
        lambda plan: plan.enrol_juror(body.member, key, at=at, actor=token.actor)
    )
    return models.WrittenOut(**_out(_one(written)))


# -- claims --------------------------------------------------------------------------


@router.post("/claims", status_code=201, response_model=models.ClaimOut)
def file_claim(request: Request, token: Operator, body: models.FileIn) -> models.ClaimOut:
    """File a claim (``claim.filed``); the evidence stays off the log, its hash goes on."""
    service = admin_service(request)
    at = service.check_at(body.at)
    evidence = base64.b64decode(body.evidence)
    claim, written = service.run(
        lambda plan: plan.file_claim(
            body.member,
            body.condition,
            body.amount,
            body.diagnosed,
            evidence,
            at=at,
            actor=token.actor,
        )
    )
    return models.ClaimOut(**_out(_one(written)), claim=claim)


@router.post("/claims/{claim}/assess", status_code=201, response_model=models.WrittenOut)
def assess(
    request: Request, token: Operator, claim: ClaimId, body: models.AssessIn
) -> models.WrittenOut:
    """The operator's assessment (``claim.assessed``); the report stays off the log."""
    service = admin_service(request)
    at = service.check_at(body.at)
    report = base64.b64decode(body.report)
    _, written = service.run(
        lambda plan: plan.assess(
            claim, body.decision, body.amount, body.reason, report, at=at, actor=token.actor
        )
    )
    return models.WrittenOut(**_out(_one(written)))


@router.post("/claims/{claim}/disclose", status_code=201, response_model=models.WrittenOut)
def disclose(
    request: Request, token: Operator, claim: ClaimId, body: NoBody = None
) -> models.WrittenOut:
    """Disclose a claim's coarse fields (``claim.disclosed``); objections open."""
    return _simple(request, token, body, "disclose", claim)


@router.post("/claims/{claim}/object", status_code=201, response_model=models.WrittenOut)
def object_to(
    request: Request, token: Operator, claim: ClaimId, body: models.ObjectIn
) -> models.WrittenOut:
    """A member objects to a disclosed claim (``claim.objected``)."""
    service = admin_service(request)
    at = service.check_at(body.at)
    _, written = service.run(
        lambda plan: plan.object(claim, body.objector, body.reason, at=at, actor=token.actor)
    )
    return models.WrittenOut(**_out(_one(written)))


@router.post("/claims/{claim}/appeal", status_code=201, response_model=models.WrittenOut)
def appeal(
    request: Request, token: Operator, claim: ClaimId, body: models.AppealIn
) -> models.WrittenOut:
    """An appeal (``claim.appealed``); the juror pool is fixed now."""
    service = admin_service(request)
    at = service.check_at(body.at)
    _, written = service.run(
        lambda plan: plan.appeal(
            claim, body.appellant, body.secret_commitment, at=at, actor=token.actor
        )
    )
    return models.WrittenOut(**_out(_one(written)))


@router.post("/claims/{claim}/pool", status_code=201, response_model=models.WrittenOut)
def sign_pool(
    request: Request, token: Operator, claim: ClaimId, body: NoBody = None
) -> models.WrittenOut:
    """Sign the pool fixed at the appeal (``panel.pooled``); the appellant reveals after it."""
    return _simple(request, token, body, "sign_pool", claim)


@router.post("/claims/{claim}/draw", status_code=201, response_model=models.DrawOut)
def draw(request: Request, token: Operator, claim: ClaimId, body: models.DrawIn) -> models.DrawOut:
    """Draw the panel with the appellant's revealed secret (``panel.drawn``)."""
    service = admin_service(request)
    at = service.check_at(body.at)
    secret = bytes.fromhex(body.secret)
    jurors, written = service.run(
        lambda plan: plan.draw_panel(claim, secret, at=at, actor=token.actor)
    )
    return models.DrawOut(**_out(_one(written)), jurors=jurors)


@router.post("/claims/{claim}/votes", status_code=201, response_model=models.WrittenOut)
def vote(
    request: Request,
    token: Juror,
    claim: ClaimId,
    body: models.VoteIn,
) -> models.WrittenOut:
    """A juror's own signed vote (``vote.cast``, actor ``juror:<member>``), timed now."""
    if body.juror != token.juror:
        raise ProblemError(
            403,
            "Forbidden",
            f"expected a vote by this token's juror {token.juror}, found one by {body.juror}",
        )
    service = admin_service(request)
    _, written = service.run(
        lambda plan: plan.cast_vote(
            claim, body.juror, body.choice, body.rationale_hash, body.signature
        )
    )
    return models.WrittenOut(**_out(_one(written)))


@router.post("/claims/{claim}/decide", status_code=201, response_model=models.WrittenOut)
def decide(
    request: Request, token: Operator, claim: ClaimId, body: NoBody = None
) -> models.WrittenOut:
    """Record the decision the assessment, the votes and the rules give (``claim.decided``)."""
    return _simple(request, token, body, "decide", claim)


@router.post("/claims/{claim}/pay", status_code=201, response_model=models.WrittenOut)
def pay(
    request: Request, token: Operator, claim: ClaimId, body: NoBody = None
) -> models.WrittenOut:
    """Pay a claim decided approved, in the period open now (``claim.paid``)."""
    return _simple(request, token, body, "pay", claim)


@router.post("/claims/{claim}/reverse", status_code=201, response_model=models.WrittenOut)
def reverse(
    request: Request, token: Operator, claim: ClaimId, body: models.ReverseIn
) -> models.WrittenOut:
    """Fraud found after payment (``claim.reversed``): a compensating entry, never an edit."""
    service = admin_service(request)
    at = service.check_at(body.at)
    _, written = service.run(
        lambda plan: plan.reverse(claim, body.recovered, body.reason, at=at, actor=token.actor)
    )
    return models.WrittenOut(**_out(_one(written)))


# -- periods and the plan ------------------------------------------------------------


@router.post("/periods/close", status_code=201, response_model=models.PeriodOut)
def close_period(
    request: Request, token: Operator, body: Annotated[models.CloseIn | None, Body()] = None
) -> models.PeriodOut:
    """Close the next period (``period.closed``), named in ``period``: apportion it, store
    its contribution tree. Naming it means a request sent twice cannot close two periods."""
    service = admin_service(request)
    period = body.period if body is not None else None
    if period is None:
        following = service.next_close()
        hint = (
            f"the next is {following[0]} (cutoff {following[1]})"
            if following is not None
            else "there is none before the first rules version"
        )
        raise ProblemError(400, "Bad request", f"expected the period to close in 'period': {hint}")
    at = service.check_at(body.at if body is not None else None)
    closed, written = service.run(
        lambda plan: plan.close_period(period=period, at=at, actor=token.actor)
    )
    return models.PeriodOut(**_out(_one(written)), period=str(closed["period"]), body=closed)


@router.post("/plan/wind-down", status_code=201, response_model=models.WrittenOut)
def wind_down(request: Request, token: Operator, body: models.WindDownIn) -> models.WrittenOut:
    """Close the plan to new members (``plan.wound_down``)."""
    service = admin_service(request)
    at = service.check_at(body.at)
    _, written = service.run(
        lambda plan: plan.wind_down(body.claims_until, at=at, actor=token.actor)
    )
    return models.WrittenOut(**_out(_one(written)))
