"""Rebuild the plan from its entries and compare with what is stored (``tally check``).

Every entry is replayed through :meth:`PlanState.apply`, so every plan rule is
checked again from the log alone; each closed period's stored contribution tree
must have the root its ``period.closed`` entry commits to, and the rows the charges
the rules give.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import select

from ledger.check import Mismatch
from ledger.domain import sumtree
from ledger.domain.errors import RuleError
from ledger.domain.projections import MovedOnError, compare
from ledger.domain.state import PlanState
from ledger.domain.store import contribution_table, create_plan_schema, load_tree
from ledger.domain.stored_state import read_core
from ledger.errors import ChainError, EntryError
from ledger.log.entry import parse_entry
from ledger.log.store import Store

CHUNK = 10_000


@dataclass
class PlanReport:
    """What replaying the plan found."""

    entries: int = 0
    periods: int = 0
    members: int = 0
    claims: int = 0
    projections_compared: int | None = None
    """The size at which the projection tables were compared (None: not built yet)."""
    mismatches: list[Mismatch] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when every entry keeps the rules and every stored tree matches."""
        return not self.mismatches


def replay_plan(
    store: Store, *, progress: Callable[[int, int], None] | None = None
) -> tuple[PlanReport, PlanState]:
    """Replay every entry through the plan's rules; compare stored contribution trees."""
    create_plan_schema(store)
    report = PlanReport()
    state = PlanState()
    with store.reader() as conn:
        size = store.size(conn)
        core = read_core(conn)
    # The tables are compared when the replay reaches the entries they have applied.
    target = None if core is None or core.size > size else core.size
    if core is not None and core.size > size:
        report.mismatches.append(
            Mismatch(
                None,
                f"projection plan_core: expected at most the log's {size:,} entries applied, "
                f"found {core.size:,}",
            )
        )
    if target == 0:
        _compare_projections(report, store, state)
    for start in range(0, size, CHUNK):
        with store.reader() as conn:
            rows = store.entry_bytes(conn, start, min(start + CHUNK, size))
        for seq, raw in rows:
            try:
                state.apply(parse_entry(raw))
            except (RuleError, EntryError, ChainError) as exc:
                report.mismatches.append(Mismatch(seq, f"breaks a plan rule: {exc}"))
                return report, state
            if state.size == target:
                _compare_projections(report, store, state)
        report.entries = state.size
        if progress is not None:
            progress(report.entries, size)
    for close in state.closed:
        problem = _compare_tree(store, close.period, close.body, close.apportionment.charges)
        if problem is not None:
            report.mismatches.append(Mismatch(None, f"period {close.period}: {problem}"))
    report.periods = len(state.closed)
    report.members = len(state.members)
    report.claims = len(state.claims)
    return report, state


def _compare_projections(report: PlanReport, store: Store, state: PlanState) -> None:
    """Compare the projection tables with the replay at the size they were built to."""
    try:
        difference = compare(store, state)
    except MovedOnError:  # appended meanwhile: the next check compares them
        return
    report.projections_compared = state.size
    if difference is not None:
        report.mismatches.append(Mismatch(difference.seq, str(difference)))


def _compare_tree(
    store: Store, period: str, body: dict[str, object], charges: dict[str, int]
) -> str | None:
    with store.reader() as conn:
        tree = load_tree(conn, period)
        rows = conn.execute(
            select(contribution_table.c.member, contribution_table.c.amount_fen)
            .where(contribution_table.c.period == period)
            .order_by(contribution_table.c.position)
        ).all()
    root = sumtree.root(tree)
    if base64.b64encode(root.hash).decode() != body["contribution_root"]:
        return "the stored contribution tree does not have the root the period entry commits to"
    if root.total != body["contribution_total_fen"] or root.count != body["members"]:
        return "the stored contribution tree's count or total differs from the period entry"
    stored = {str(member): int(amount) for member, amount in rows}
    if stored != charges or [str(m) for m, _ in rows] != sorted(charges):  # position order
        return "the stored contribution rows differ from the charges the rules give"
    for position, (member, amount) in enumerate(rows):
        if tree[0][position] != sumtree.leaf_packed(period, str(member), int(amount)):
            return f"stored leaf {position} does not hash its row"
    return None
