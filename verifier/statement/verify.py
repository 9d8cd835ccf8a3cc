"""Checking a statement bundle: the steps of specs/statement.md §3, in order.

:data:`STEPS` is the sequence. Each step reads what earlier steps established
from a :class:`Work` record, calls the function that checks its part (in
:mod:`~verifier.statement.log_steps` or :mod:`~verifier.statement.plan_steps`),
records what that returns for the steps after it and names the checks passed. The
first failure raises :class:`StatementError` naming its check. A new check slots
in as a step where its inputs are established.

:func:`verify_bundle` runs the steps over a bundle alone; :func:`verify_statement`
gives the whole verdict a member needs: that the bundle answers the question asked,
the steps, and the bundle's checkpoint compared with the one the member saved.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from verifier.checkpoint import Checkpoint
from verifier.entry import Entry
from verifier.note import Verifier
from verifier.plan.findings import Finding, appeal_findings
from verifier.statement.consistency import Comparison, ProofSource, compare_with_saved
from verifier.statement.log_steps import (
    Subject,
    check_checkpoint,
    check_complete,
    check_entries,
    check_format,
    check_genesis,
    check_key,
    check_request,
)
from verifier.statement.plan_steps import (
    PeriodCharge,
    PeriodFigures,
    apportion_period,
    check_contributions,
    claim_check,
    member_charges,
    replay_rules,
)
from verifier.statement.report import ClaimPart, RecoveryPart, StatementReport, split_signed
from verifier.statement.sparse import SparseReplay

T = TypeVar("T")

PLAN_CHECK = (
    "plan.claims (rules in force, waiting period, condition, benefit, disclosure, "
    "objection window, pool, pool signature, secret, seed, draw, votes, quorum, "
    "decision, payment)"
)


@dataclass
class Work:
    """What the steps have established so far about one bundle (``None``: not yet)."""

    doc: dict[str, Any]
    key: Verifier
    saved: Checkpoint | None = None
    """The member's saved checkpoint, verified, for the consistency step."""
    prove: ProofSource | None = None
    """The server's consistency proofs, for the consistency step; ``None`` offline."""
    checks: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    subject: Subject | None = None
    checkpoint: Checkpoint | None = None
    entries: list[Entry] = field(default_factory=list)
    replay: SparseReplay | None = None
    contributions: dict[str, int | None] = field(default_factory=dict)
    figures: PeriodFigures | None = None
    charges: list[PeriodCharge] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    comparison: Comparison | None = None

    def ok(self, check: str) -> None:
        """Record that ``check`` passed."""
        self.checks.append(check)


def _need(value: T | None) -> T:
    if value is None:  # pragma: no cover - STEPS runs each step after those it needs
        raise AssertionError("a statement step ran before a step it needs")
    return value


@dataclass(frozen=True)
class Step:
    """One step of statement.md §3: its name, and how it runs over a :class:`Work`."""

    name: str
    run: Callable[[Work], None]


def _format_and_key(w: Work) -> None:
    w.subject = check_format(w.doc)
    w.ok("bundle.format")
    check_key(w.doc, w.key)
    w.ok("bundle.key")


def _checkpoint(w: Work) -> None:
    w.checkpoint = check_checkpoint(w.doc, w.key)
    w.ok("checkpoint.signature")


def _entries(w: Work) -> None:
    w.entries = check_entries(w.doc, _need(w.checkpoint))
    w.ok(f"entry.inclusion ({len(w.entries)} entries)")
    w.ok("entry.parse")
    w.ok("entry.chain (adjacent seqs)")
    check_genesis(w.entries, w.key)
    w.ok("genesis")


def _completeness(w: Work) -> None:
    check_complete(w.entries, _need(w.subject).member)
    w.ok("bundle.complete")


def _plan_rules(w: Work) -> None:
    w.replay = replay_rules(w.entries)
    w.ok(PLAN_CHECK)
    w.notes.extend(
        f"The objector {m} is not in the bundle (statement.md §2 does not include it); "
        "their membership was not checked."
        for m in w.replay.placeholders
    )
    w.notes.extend(
        f"The signed request at seq {seq} does not verify with the key of {m} the bundle "
        "shows; a key change (plan.md §4.6), which a bundle does not include, may explain "
        "it: its signature was not checked."
        for seq, m in w.replay.unchecked_requests
    )


def _contributions(w: Work) -> None:
    w.contributions = check_contributions(w.doc, _need(w.subject).member, _need(w.replay).closed)
    absent = sum(1 for v in w.contributions.values() if v is None)
    w.ok(f"contribution.proof ({len(w.contributions)} periods, {absent} proved absent)")


def _apportionment(w: Work) -> None:
    w.figures = apportion_period(_need(w.subject).period, _need(w.replay))
    w.ok("apportion (aid, fee, carry_in, share, carry_out, conservation)")


def _charge(w: Work) -> None:
    subject, replay = _need(w.subject), _need(w.replay)
    w.charges = member_charges(subject.member, _need(w.figures), replay, w.contributions)
    w.ok(f"charge ({len(w.charges)} periods: counted or not, share, annual cap, earlier charges)")


def _claims(w: Work) -> None:
    claims = _need(w.figures).claims
    for record in claims:
        w.ok(claim_check(record))
    # A paid claim's appeal can only have ended before its payment: no "now" is needed.
    w.findings = appeal_findings(claims, None)
    w.notes.extend(f"Note on claim {finding.message}" for finding in w.findings)


def _consistency(w: Work) -> None:
    w.comparison = compare_with_saved(_need(w.checkpoint), w.saved, w.prove)
    w.ok("checkpoint.consistency")


STEPS: tuple[Step, ...] = (
    Step("format and key", _format_and_key),
    Step("checkpoint", _checkpoint),
    Step("entries: bytes, proofs, order, chain links, genesis", _entries),
    Step("completeness", _completeness),
    Step("the plan's rules over the entries present", _plan_rules),
    Step("contributions", _contributions),
    Step("the period's apportionment", _apportionment),
    Step("the member's charge", _charge),
    Step("the claims", _claims),
)
"""The checks of statement.md §3 over the bundle alone, in order."""
CONSISTENCY = Step("the checkpoint against the saved one", _consistency)
"""The last step of a member's verdict (:func:`verify_statement`)."""


def _run(work: Work, steps: tuple[Step, ...]) -> StatementReport:
    for step in steps:
        step.run(work)
    subject, figures = _need(work.subject), _need(work.figures)
    mine = work.charges[-1]
    recoveries = list(figures.recoveries)
    # statement.md §4: claims paid (+), the fee (+), recoveries (-), carry-in (-), carry-out (+).
    weights = (
        [a for _, a in figures.payments]
        + [figures.fee_fen]
        + [-r for _, r in recoveries]
        + [-figures.carry_in_fen, figures.carry_out_fen]
    )
    parts = split_signed(mine.charge_fen, weights)
    n = len(figures.payments)
    report = StatementReport(
        member=subject.member,
        period=subject.period,
        checkpoint_size=_need(work.checkpoint).size,
        counted=mine.counted,
        charge_fen=mine.charge_fen,
        share_fen=figures.share_fen,
        cap_fen=mine.cap_fen,
        fee_fen=figures.fee_fen,
        fee_part_fen=parts[n],
        carry_in_fen=figures.carry_in_fen,
        carry_in_part_fen=parts[-2],
        carry_out_fen=figures.carry_out_fen,
        carry_out_part_fen=parts[-1],
        claims=[
            ClaimPart(
                r.claim,
                r.category,
                r.condition,
                a,
                part,
                r.basis or "",
                r.recovered_fen,
                r.recovered_period,
            )
            for r, (_, a), part in zip(figures.claims, figures.payments, parts, strict=False)
        ],
        recoveries=[
            RecoveryPart(claim, amount, part)
            for (claim, amount), part in zip(recoveries, parts[n + 1 : -2], strict=True)
        ],
        year_charged_fen=sum(c.charge_fen for c in work.charges),
        year_subsidy_fen=sum(c.subsidy_fen for c in work.charges),
        checks=work.checks,
        notes=work.notes,
        findings=work.findings,
    )
    if work.comparison is not None:
        report.checkpoint_compared = work.comparison.text
    return report


def verify_bundle(doc: dict[str, Any], key: Verifier) -> tuple[StatementReport, Checkpoint]:
    """Check a statement bundle completely with the trusted ``key`` (statement.md §3).

    The bundle alone: its checkpoint is not compared with a saved one (see
    :func:`verify_statement`).
    """
    work = Work(doc, key)
    report = _run(work, STEPS)
    return report, _need(work.checkpoint)


@dataclass(frozen=True)
class StatementVerdict:
    """A member's statement, verified: the report, and how its checkpoint stands."""

    report: StatementReport
    checkpoint: Checkpoint
    note: str
    """The bundle's signed checkpoint note."""
    replaces_saved: bool
    """The checkpoint is larger than the saved one and proved consistent with it: save it."""


def verify_statement(
    doc: dict[str, Any],
    key: Verifier,
    *,
    saved: Checkpoint | None,
    prove: ProofSource | None = None,
    member: str | None = None,
    period: str | None = None,
) -> StatementVerdict:
    """The whole verdict on a statement bundle for a member (statement.md §3).

    With ``member`` (and ``period``), the bundle must be the one asked for. Then
    every step of :data:`STEPS`, and the checkpoint against ``saved``, the member's
    saved checkpoint (``None`` if there is none), with consistency proofs from
    ``prove`` when a server is at hand. Raises :class:`StatementError`.
    """
    if member is not None:
        check_request(doc, member, period)
    work = Work(doc, key, saved, prove)
    report = _run(work, (*STEPS, CONSISTENCY))
    comparison = _need(work.comparison)
    return StatementVerdict(
        report, _need(work.checkpoint), str(doc["checkpoint"]), comparison.replaces_saved
    )
