"""Closing a period: apportionment and the contribution sum tree (specs/plan.md §8, §9).

:func:`close_period` computes what a ``period.closed`` must state;
:func:`closed` checks an entry against it field by field, naming the rule of the
first field that differs. The computed tree is kept in the state's
``close_cache`` for the caller that stores it with the entry (the sequencer's guard
in :mod:`ledger.domain.plan`), so a large period is computed once.
"""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING

from ledger.domain import sumtree
from ledger.domain.apportion import apportion
from ledger.domain.errors import RuleError
from ledger.domain.fields import Body
from ledger.domain.model import PeriodClose
from ledger.domain.periods import cutoff
from ledger.domain.rules import Rules, check_applied
from ledger.log.entry import Entry, parse_time

if TYPE_CHECKING:
    from ledger.domain.state import PlanState

CLOSED_KEYS = (
    "period",
    "cutoff",
    "rules_version",
    "claims",
    "aid_fen",
    "fee_fen",
    "carry_in_fen",
    "members",
    "share_fen",
    "carry_out_fen",
    "subsidy_fen",
    "capped_members",
    "contribution_root",
    "contribution_total_fen",
)
# Each stated field, in the order checked, with the rule that fixes it (§10).
FIELD_RULES = (
    ("cutoff", "period.cutoff"),
    ("claims", "period.claims"),
    ("aid_fen", "period.aid"),
    ("fee_fen", "period.fee"),
    ("carry_in_fen", "period.carry"),
    ("members", "period.members"),
    ("share_fen", "period.share"),
    ("carry_out_fen", "period.carry"),
    ("subsidy_fen", "period.subsidy"),
    ("capped_members", "period.subsidy"),
    ("contribution_root", "period.contributions"),
    ("contribution_total_fen", "period.contributions"),
)


def close_period(state: PlanState, period: str, time: str) -> PeriodClose:
    """Compute what closing ``period`` at ``time`` must state (specs/plan.md §8).

    The result is remembered for this state (at its current size), so that checking
    the ``period.closed`` entry the operator builds from it does not compute a large
    period twice.
    """
    key = (period, time, state.size)
    if state.close_cache is not None and state.close_cache[0] == key:
        return state.close_cache[1]
    close = _compute(state, period, time)
    state.close_cache = (key, close)
    return close


def _compute(state: PlanState, period: str, time: str) -> PeriodClose:
    expected_period = state.next_period_to_close()
    if period != expected_period:
        raise RuleError(
            "period.order", f"the next period to close is {expected_period}, not {period}"
        )
    cut = cutoff(period)
    if time < cut:
        raise RuleError("period.early", f"period {period} can be closed from {cut}, not {time}")
    rules = state.rules_at(time)
    paid = state.paid_in_period(period)
    recovered = state.recovered_in_period(period)
    aid = sum(a for _, a in paid) - sum(a for _, a in recovered)
    year = parse_time(cut).year
    spool = state.spool_close(
        period,
        cut,
        year,
        aid_fen=aid,
        fee_bp=rules.fee_bp,
        carry_in_fen=state.last_carry_out(),
        annual_cap_fen=rules.annual_cap_fen,
    )
    tree: sumtree.Tree = []
    counted: list[str] = []
    if spool is not None:  # a large plan's stored members, streamed in bounded memory
        result, root = spool.apportionment, spool.root
    else:
        before = state.year_charges(year)
        counted = state.counted_ids(cut)
        result = apportion(
            aid_fen=aid,
            fee_bp=rules.fee_bp,
            carry_in_fen=state.last_carry_out(),
            annual_cap_fen=rules.annual_cap_fen,
            members=[(m, before.get(m, 0)) for m in counted],
        )
        charges = result.charges
        tree = sumtree.levels([sumtree.leaf_packed(period, m, charges[m]) for m in counted])
        root = sumtree.root(tree)
    body = {
        "period": period,
        "cutoff": cut,
        "rules_version": rules.version,
        "claims": [c for c, _ in paid],
        "aid_fen": aid,
        "fee_fen": result.fee_fen,
        "carry_in_fen": result.carry_in_fen,
        "members": result.members,
        "share_fen": result.share_fen,
        "carry_out_fen": result.carry_out_fen,
        "subsidy_fen": result.subsidy_fen,
        "capped_members": result.capped_members,
        "contribution_root": base64.b64encode(root.hash).decode(),
        "contribution_total_fen": root.total,
    }
    return PeriodClose(period, body, result, tree, counted, spool=spool)


def closed(state: PlanState, entry: Entry, rules: Rules) -> None:
    """§8 ``period.closed``: the next period, after its cutoff, every figure re-derived."""
    body = Body(entry, CLOSED_KEYS)
    period = body.text("period")
    check_applied(body, rules)
    close = close_period(state, period, entry.time)
    for key, rule in FIELD_RULES:
        expected, found = close.body[key], entry.body[key]
        if found != expected or type(found) is not type(expected):
            raise RuleError(rule, f"period {period}: expected {key} {expected!r}, found {found!r}")
    year = parse_time(close.body["cutoff"]).year
    state.add_close_charges(year, close)
    state.add_closed(close)
