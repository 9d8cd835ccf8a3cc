"""The steps of specs/statement.md §3 about the plan: its rules, contributions, money, claims.

Each step is a function of what the steps before it established; it returns what
the next ones need, or raises :class:`StatementError` naming the check that failed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from verifier.entry import Entry
from verifier.plan.apportion import charge_fen, fee_fen, share_fen
from verifier.plan.errors import PlanError
from verifier.plan.periods import calendar_year, parse_period, period_open_at
from verifier.plan.records import ClaimRecord, seconds
from verifier.plan.rules import Rules
from verifier.plan.sumtree import Node, leaf, verify_proof
from verifier.statement.document import hash_bytes, integer
from verifier.statement.errors import StatementError
from verifier.statement.sparse import SparseReplay

CONTRIBUTION_KEYS = frozenset({"period", "index", "amount_fen", "siblings"})
SIBLING_KEYS = frozenset({"hash", "count", "total"})


def replay_rules(entries: list[Entry]) -> SparseReplay:
    """§3: the plan's rules (plan.md) over the entries present, in seq order."""
    replay = SparseReplay()
    try:
        for e in entries:
            replay.apply(e)
    except PlanError as exc:
        raise StatementError("plan.rules", str(exc)) from None
    return replay


def check_contributions(
    doc: dict[str, Any], member: str, closed: dict[str, Entry]
) -> dict[str, int]:
    """§1, §3: each of the member's contribution leaves verifies against its period's root.

    Returns the member's charge by period.
    """
    contributions: dict[str, int] = {}
    for i, c in enumerate(doc["contributions"]):
        if not isinstance(c, dict) or set(c) != CONTRIBUTION_KEYS:
            raise StatementError("contribution.format", f"contributions[{i}]: bad shape")
        period = c["period"]
        if period not in closed:
            raise StatementError("bundle.complete", f"period.closed of {period!r} is missing")
        amount = integer(c["amount_fen"], f"contributions[{i}].amount_fen", "contribution.format")
        index = integer(c["index"], f"contributions[{i}].index", "contribution.format")
        siblings = _siblings(i, c["siblings"])
        root = _contribution_root(closed[period].body)
        try:
            verify_proof(leaf(period, member, amount), index, root.count, siblings, root)
        except PlanError as exc:
            raise StatementError(
                "contribution.proof", f"your contribution in {period} does not verify: {exc}"
            ) from None
        if period in contributions:
            raise StatementError("contribution.format", f"two contributions for {period}")
        contributions[period] = amount
    return contributions


def _siblings(i: int, items: object) -> list[Node]:
    if not isinstance(items, list):
        raise StatementError("contribution.format", f"contributions[{i}].siblings: expected a list")
    nodes = []
    for s in items:
        if not isinstance(s, dict) or set(s) != SIBLING_KEYS:
            raise StatementError("contribution.format", f"contributions[{i}]: bad sibling")
        nodes.append(
            Node(
                hash_bytes(s["hash"], "sibling hash", "contribution.format"),
                integer(s["count"], "sibling count", "contribution.format"),
                integer(s["total"], "sibling total", "contribution.format"),
            )
        )
    return nodes


def _contribution_root(body: dict[str, Any]) -> Node:
    return Node(
        hash_bytes(body["contribution_root"], "contribution_root", "contribution.proof"),
        integer(body["members"], "members", "contribution.proof"),
        integer(body["contribution_total_fen"], "contribution_total_fen", "contribution.proof"),
    )


@dataclass(frozen=True)
class PeriodFigures:
    """P's apportionment (plan.md §8.2), recomputed from the entries of the bundle."""

    period: str
    rules: Rules
    first_period: str
    """The first period of the plan: the one open when version 1 took effect."""
    payments: list[tuple[str, int]]
    """The claims paid in P, with their amounts, in payment order."""
    claims: list[ClaimRecord]
    aid_fen: int
    fee_fen: int
    carry_in_fen: int
    share_fen: int


def apportion_period(period: str, replay: SparseReplay) -> PeriodFigures:
    """§3: P's aid, fee, carry in, share and carry out recomputed, and conservation."""
    closed = replay.closed
    if period not in closed:
        raise StatementError("bundle.complete", f"period.closed of {period} is missing")
    pe = closed[period]
    rules = replay.rules.in_force(seconds(pe.time))
    first = replay.rules.first
    if rules is None or first is None:  # pragma: no cover - checked by the replay
        raise StatementError("plan.rules", "no rules in force at the close")
    first_period = period_open_at(first.effective)
    carry_in = _carry_in(period, first_period, closed)
    book = replay.book
    payments = [] if book is None else book.paid_in.get(period, [])
    recovered = 0 if book is None else book.recovered_in.get(period, 0)
    if pe.body["claims"] != [c for c, _ in payments]:
        raise StatementError(
            "apportion.claims",
            f"period.closed lists claims {pe.body['claims']}, "
            f"the bundle pays {[c for c, _ in payments]}",
        )
    aid = sum(a for _, a in payments) - recovered
    fee = fee_fen(aid, rules.fee_bp)
    share = _check_figures(pe, aid, fee, carry_in)
    claims = [] if book is None else [book.claims[c] for c, _ in payments]
    return PeriodFigures(period, rules, first_period, payments, claims, aid, fee, carry_in, share)


def _carry_in(period: str, first_period: str, closed: dict[str, Entry]) -> int:
    """P's carry in: the carry out of the period before, which the bundle must hold."""
    prev = next((p for p in closed if parse_period(p).next().id == period), None)
    if prev is None and period != first_period:
        raise StatementError("bundle.complete", f"the period.closed before {period} is missing")
    return 0 if prev is None else number(closed[prev], "carry_out_fen")


def _check_figures(pe: Entry, aid: int, fee: int, carry_in: int) -> int:
    """Compare P's stated figures with the recomputed ones; return the share."""
    period, body = pe.body["period"], pe.body
    n = integer(body["members"], "members", "apportion")
    due = aid + fee - carry_in
    share = share_fen(due, n)
    expected = {
        "aid_fen": aid,
        "fee_fen": fee,
        "carry_in_fen": carry_in,
        "share_fen": share,
        "carry_out_fen": share * n - due,
    }
    for k, v in expected.items():
        if number(pe, k) != v:
            raise StatementError(
                f"apportion.{k.removesuffix('_fen')}",
                f"period {period} states {k} {body[k]}, recomputed {v}",
            )
    subsidy = number(pe, "subsidy_fen")
    total = due + expected["carry_out_fen"] - subsidy
    if number(pe, "contribution_total_fen") != total:
        raise StatementError(
            "apportion.conservation",
            f"the contributions add up to {body['contribution_total_fen']}, expected "
            f"aid + fee - carry_in + carry_out - subsidy = {total}",
        )
    return share


def member_charge(
    member: str, figures: PeriodFigures, replay: SparseReplay, contributions: dict[str, int]
) -> int:
    """§3: the member's charge in P, from the share, the annual cap and earlier charges.

    Every period of P's calendar year up to P in which the member was counted must
    have the member's contribution, each recomputed in turn.
    """
    period, closed = figures.period, replay.closed
    record = replay.members[member]
    year = calendar_year(period)
    p = parse_period(figures.first_period)
    before = 0
    charge = 0
    while True:
        pid = p.id
        if calendar_year(pid) == year and record.counted_at(seconds(p.cutoff)):
            if pid not in contributions:
                raise StatementError("bundle.complete", f"your contribution for {pid} is missing")
            cap_rules = replay.rules.in_force(seconds(closed[pid].time))
            cap = (figures.rules if cap_rules is None else cap_rules).annual_cap_fen
            s = number(closed[pid], "share_fen")
            charge = charge_fen(s, cap, before)
            if contributions[pid] != charge:
                raise StatementError(
                    "charge",
                    f"your charge in {pid} is {contributions[pid]}, recomputed min(share {s}, "
                    f"cap {cap} - {before} charged earlier) = {charge}",
                )
            before += charge
        if pid == period:
            break
        p = p.next()
    if period not in contributions:
        raise StatementError("bundle.complete", f"you were not counted in {period}")
    return charge


def claim_check(record: ClaimRecord) -> str:
    """§3: what was checked of a claim paid in P (the replay checked it: this names it)."""
    steps = "rules in force, waiting period, condition, benefit, disclosure, objection window"
    if record.jurors is not None:
        steps += (
            f", pool of {len(record.pool or [])} recomputed and signed, secret, seed, draw of "
            f"{len(record.jurors)}, {len(record.votes)} vote signatures, quorum and threshold"
        )
    return f"claim {record.claim} ({steps}, decision {record.basis}, payment)"


def number(entry: Entry, key: str) -> int:
    """An integer of a period.closed body (its type was checked by the replay)."""
    value = entry.body[key]
    if not isinstance(value, int) or isinstance(value, bool):
        raise StatementError("plan.rules", f"seq {entry.seq}: {key} is not an integer")
    return value
