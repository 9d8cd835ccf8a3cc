"""The operator's commands on the plan (specs/plan.md), each checked before it is appended.

:class:`Plan` gathers them: rules and members (:mod:`ledger.domain.member_commands`),
claims, panels and votes (:mod:`ledger.domain.claim_commands`), periods
(:mod:`ledger.domain.period_commands`), over the state and the append of
:mod:`ledger.domain.plan_core`.
"""

from __future__ import annotations

from ledger.domain.claim_commands import ClaimCommands
from ledger.domain.member_commands import MemberCommands
from ledger.domain.period_commands import PeriodCommands
from ledger.domain.plan_core import OPERATOR, OPERATOR_ACTOR_RE

__all__ = ["OPERATOR", "OPERATOR_ACTOR_RE", "Plan"]


class Plan(MemberCommands, ClaimCommands, PeriodCommands):
    """The plan kept in one ledger: its state, and every command an operator may give."""
