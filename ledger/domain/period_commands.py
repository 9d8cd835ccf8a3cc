"""The operator's commands on periods (specs/plan.md §8-§9)."""

from __future__ import annotations

import base64
from typing import Any

from ledger.domain import sumtree
from ledger.domain.closing import close_period
from ledger.domain.errors import RuleError
from ledger.domain.periods import cutoff, parse_period
from ledger.domain.plan_core import OPERATOR, PlanCore
from ledger.domain.store import (
    stored_proof,
)


class PeriodCommands(PlanCore):
    """The operator's commands on periods (specs/plan.md §8-§9)."""

    # -- periods --------------------------------------------------------------------

    def next_close(self) -> tuple[str, str] | None:
        """The next period to close and its cutoff, or None before the first rules."""
        period = self.state.next_period_to_close()
        return None if period is None else (period, cutoff(period))

    def close_period(
        self, *, period: str | None = None, at: str | None = None, actor: str = OPERATOR
    ) -> dict[str, Any]:
        """Close the next period: apportion it and store its contribution tree, atomically.

        ``period``, when given, must name the next period to close: an operator names
        it, so that a command given twice cannot close two periods.
        """
        when = self.time(at)
        state = self.state
        following = self.next_close()
        if following is None:
            raise RuleError("rules.in_force", "no period to close before the first rules")
        expected, cut = following
        if period is not None and period != expected:
            parse_period(period)
            done = next((c for c in state.closed if c.period == period), None)
            why = f"it was closed at seq {done.seq}" if done is not None else "it is not next"
            raise RuleError(
                "period.order",
                f"expected the next period to close, {expected} (cutoff {cut}), found "
                f"{period}: {why}",
            )
        if when < cut:
            raise RuleError(
                "period.early",
                f"period {expected} can be closed from its cutoff {cut}, not at {when}",
            )
        close = close_period(state, expected, when)
        self._one("period.closed", close.body, when, actor)
        return close.body

    def contribution_proof(
        self, period: str, member: str
    ) -> tuple[int, sumtree.Node, list[sumtree.Node], sumtree.Node] | None:
        """A member's leaf index, leaf, sibling nodes and the period's root, from the store."""
        close = next((c for c in self.state.closed if c.period == period), None)
        if close is None:
            return None
        with self.ledger.store.reader() as conn:
            found = stored_proof(conn, period, member, int(close.body["members"]))
        if found is None:
            return None
        index, amount, siblings = found
        root = sumtree.Node(
            base64.b64decode(str(close.body["contribution_root"])),
            int(close.body["members"]),
            int(close.body["contribution_total_fen"]),
        )
        return index, sumtree.leaf(period, member, amount), siblings, root
