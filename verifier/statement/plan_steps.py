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
ABSENCE_KEYS = frozenset({"period", "absent"})
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
) -> dict[str, int | None]:
    """§1, §3: each leaf and each absence verifies against its period's root.

    Returns, by period, the member's charge (a leaf) or None (proved absent).
    """
    contributions: dict[str, int | None] = {}
    for i, c in enumerate(doc["contributions"]):
        if not isinstance(c, dict) or set(c) not in (CONTRIBUTION_KEYS, ABSENCE_KEYS):
            raise StatementError("contribution.format", f"contributions[{i}]: bad shape")
        period = c["period"]
        if not isinstance(period, str) or period not in closed:
            raise StatementError("bundle.complete", f"period.closed of {period!r} is missing")
        if period in contributions:
            raise StatementError("contribution.format", f"two contributions for {period}")
        root = _contribution_root(closed[period].body)
        if "absent" in c:
            _check_absence(i, period, member, c["absent"], root)
            contributions[period] = None
            continue
        amount = integer(c["amount_fen"], f"contributions[{i}].amount_fen", "contribution.format")
        index = integer(c["index"], f"contributions[{i}].index", "contribution.format")
        _verify_leaf(period, member, amount, index, _siblings(i, c["siblings"]), root)
        contributions[period] = amount
    return contributions


def _verify_leaf(
    period: str, member: str, amount: int, index: int, siblings: list[Node], root: Node
) -> None:
    try:
        verify_proof(leaf(period, member, amount), index, root.count, siblings, root)
    except PlanError as exc:
        raise StatementError(
            "contribution.proof", f"the leaf of {member} in {period} does not verify: {exc}"
        ) from None


def _check_absence(i: int, period: str, member: str, absent: object, root: Node) -> None:
    """The leaves at index - 1 and index bracket ``member``: it has no leaf (§1)."""
    where = f"contributions[{i}].absent"
    if not isinstance(absent, dict) or set(absent) != {"index", "left", "right"}:
        raise StatementError("contribution.format", f"{where}: expected index, left and right")
    index = integer(absent["index"], f"{where}.index", "contribution.format")
    if index > root.count:
        raise StatementError(
            "contribution.absence", f"{where}: index {index} past the {root.count} leaves"
        )
    sides = (("left", index - 1, index > 0), ("right", index, index < root.count))
    for side, position, exists in sides:
        neighbour = absent[side]
        if not exists:
            if neighbour is not None:
                raise StatementError("contribution.absence", f"{where}.{side}: expected null")
            continue
        if not isinstance(neighbour, dict) or set(neighbour) != {
            "member",
            "amount_fen",
            "siblings",
        }:
            raise StatementError("contribution.format", f"{where}.{side}: bad shape")
        other = neighbour["member"]
        if not isinstance(other, str) or not (other < member if side == "left" else other > member):
            raise StatementError(
                "contribution.absence",
                f"in {period}, the {side} leaf {other!r} does not bracket {member}",
            )
        amount = integer(
            neighbour["amount_fen"], f"{where}.{side}.amount_fen", "contribution.format"
        )
        _verify_leaf(period, other, amount, position, _siblings(i, neighbour["siblings"]), root)


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
    carry_out_fen: int = 0
    recoveries: tuple[tuple[str, int], ...] = ()
    """The reversals credited to P: (claim, recovered_fen), in log order."""


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
    recoveries = () if book is None else tuple(book.reversals_in.get(period, []))
    return PeriodFigures(
        period,
        rules,
        first_period,
        payments,
        claims,
        aid,
        fee,
        carry_in,
        share,
        number(pe, "carry_out_fen"),
        recoveries,
    )


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


@dataclass(frozen=True)
class PeriodCharge:
    """The member's charge in one covered period, as the rules give it (plan.md §8.2)."""

    period: str
    counted: bool
    share_fen: int
    cap_fen: int
    charge_fen: int

    @property
    def subsidy_fen(self) -> int:
        """What the operator paid for the member in the period: share - charge if counted."""
        return self.share_fen - self.charge_fen if self.counted else 0


def member_charges(
    member: str,
    figures: PeriodFigures,
    replay: SparseReplay,
    contributions: dict[str, int | None],
) -> list[PeriodCharge]:
    """§3: the member's charge in every covered period, recomputed and compared.

    The covered periods are P and every earlier one of its calendar year (from the
    plan's first). In each, a member counted at the cutoff (joined before it, not
    left before it) must have a leaf of exactly min(share, cap - earlier charges);
    any other member must be proved absent.
    """
    period, closed = figures.period, replay.closed
    record = replay.members[member]
    year = calendar_year(period)
    first = parse_period(figures.first_period)
    p = first if calendar_year(first.id) == year else parse_period(f"{year:04d}-01a")
    before, charges = 0, []
    while True:
        if p.id not in contributions:
            raise StatementError("bundle.complete", f"the contribution for {p.id} is missing")
        counted = record.counted_at(seconds(p.cutoff))
        found = contributions[p.id]
        if counted != (found is not None):
            raise StatementError(
                "contribution.counted",
                f"in {p.id} you were {'counted' if counted else 'not counted'} (joined before its "
                f"cutoff and not left before it), but the bundle shows "
                f"{'no leaf' if found is None else 'a leaf of ' + str(found) + ' fen'}",
            )
        charge = _charge_in(p.id, closed[p.id], replay, figures.rules, before) if counted else None
        share, cap = number(closed[p.id], "share_fen"), _cap_at(closed[p.id], replay, figures.rules)
        if charge is not None and found != charge:
            raise StatementError(
                "charge",
                f"your charge in {p.id} is {found}, recomputed min(share {share}, cap {cap} - "
                f"{before} charged earlier) = {charge}",
            )
        charges.append(PeriodCharge(p.id, counted, share, cap, charge or 0))
        before += charge or 0
        if p.id == period:
            break
        p = p.next()
    if set(contributions) != {c.period for c in charges}:
        extra = sorted(set(contributions) - {c.period for c in charges})
        raise StatementError("contribution.format", f"contributions for other periods: {extra}")
    return charges


def _cap_at(closed: Entry, replay: SparseReplay, fallback: Rules) -> int:
    rules = replay.rules.in_force(seconds(closed.time))
    return (fallback if rules is None else rules).annual_cap_fen


def _charge_in(
    period: str, closed: Entry, replay: SparseReplay, fallback: Rules, before: int
) -> int:
    del period
    return charge_fen(number(closed, "share_fen"), _cap_at(closed, replay, fallback), before)


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
