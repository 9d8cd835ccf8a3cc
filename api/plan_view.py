"""The API's view of the plan: the state the projection tables hold, per request.

Each request gets a :class:`ledger.domain.stored_state.StoredPlanState` of its own,
reading the rows it needs (ADR 0018): a worker answers as soon as it starts, whatever
the log's size. Only public data leaves: what the entries themselves say (never an
identity record, a salt or an off-log document).

Tables that lag the log (entries another tool appended, or the ``log.retired``
entry) are brought up to date in memory for the request, never written from one. A
ledger that has no tables yet gets them (empty, then caught up in memory) unless it
is opened read-only; then the view replays the log in memory, as versions before the
tables did.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from sqlalchemy import inspect

from ledger.domain.claims import disclosure_body
from ledger.domain.model import Claim
from ledger.domain.periods import period_open_at
from ledger.domain.projections import read_state
from ledger.domain.state import PlanState
from ledger.domain.store import create_plan_schema
from ledger.domain.stored_state import StoredPlanState
from ledger.log.log import Log
from ledger.money import yuan_decimal


@dataclass(frozen=True)
class ClaimSummary:
    """A claim's public fields."""

    claim: str
    status: str
    member: str
    condition: str
    category: str
    amount_fen: int
    outcome: str | None
    paid_fen: int | None
    paid_period: str | None
    recovered_fen: int | None
    filed_seq: int
    disclosure: dict[str, Any] | None
    """The ``claim.disclosed`` entry's body (the coarse public fields) and its seq."""


class PlanView:
    """The plan's state for each request, over the projection tables."""

    def __init__(self, log: Log) -> None:
        self._log = log
        self._tables = False

    def _make_tables(self) -> None:
        """Give a writable ledger that has none its tables (empty, caught up later)."""
        if self._tables:
            return
        store = self._log.store
        with store.reader() as conn:
            self._tables = inspect(conn).has_table("plan_schema")
        if not self._tables and not store.read_only:
            create_plan_schema(store)
            self._tables = True

    def state(self) -> PlanState:
        """The plan as of the log's current size: a new state, for one request.

        Loaded in one snapshot (:meth:`Store.snapshot`), with any entries the tables
        lack applied in memory in that same snapshot; rows read later come from
        short reads of their own.
        """
        self._make_tables()
        store = self._log.store
        with store.snapshot() as conn:
            state = read_state(store, conn)
        if isinstance(state, StoredPlanState):
            state.bind(None)
        return state


def summary(state: PlanState, claim: Claim) -> ClaimSummary:
    """A claim's public summary."""
    return ClaimSummary(
        claim=claim.id,
        status=claim.status,
        member=claim.member,
        condition=claim.condition,
        category=state.rules_at(claim.filed).conditions[claim.condition].category,
        amount_fen=claim.amount_fen,
        outcome=claim.outcome,
        paid_fen=claim.paid_fen,
        paid_period=claim.paid_period,
        recovered_fen=claim.recovered_fen,
        filed_seq=claim.history[0][0] if claim.history else -1,
        disclosure=_disclosure(state, claim),
    )


def _disclosure(state: PlanState, claim: Claim) -> dict[str, Any] | None:
    """What the claim's ``claim.disclosed`` entry states, with its seq; None before it."""
    if claim.disclosed is None:
        return None
    seq = next(s for s, type_, _ in claim.history if type_ == "claim.disclosed")
    body = disclosure_body(state, claim, claim.disclosed)
    del body["claim"]
    return {"seq": seq, **body}


def stats(state: PlanState) -> list[dict[str, Any]]:
    """Per closed period: members, joins, leaves, share, aid, fee, decisions by category."""
    joins, leaves = state.movements()
    decided: dict[str, Counter[str]] = {}
    for claim in state.all_claims():
        decision = next((h for h in claim.history if h[1] == "claim.decided"), None)
        if decision is None or claim.outcome is None:
            continue
        category = state.rules_at(claim.filed).conditions[claim.condition].category
        decided.setdefault(period_open_at(decision[2]), Counter())[
            f"{category}:{claim.outcome}"
        ] += 1
    out = []
    for close in state.closed:
        body = close.body
        period = str(body["period"])
        out.append(
            {
                "period": period,
                "seq": close.seq,
                "members": body["members"],
                "joins": joins.get(period, 0),
                "leaves": leaves.get(period, 0),
                "share_fen": body["share_fen"],
                "aid_fen": body["aid_fen"],
                "fee_fen": body["fee_fen"],
                "subsidy_fen": body["subsidy_fen"],
                "claims_paid": len(body["claims"]),
                "reversals": len(recovered := state.recovered_in_period(period)),
                "recovered_fen": sum(a for _, a in recovered),
                "decisions": dict(sorted(decided.get(period, Counter()).items())),
            }
        )
    return out


def totals(periods: list[dict[str, Any]]) -> dict[str, Any]:
    """The plan's totals over its closed periods, in fen and in yuan (decimal strings)."""
    sums = {
        key: sum(int(p[key]) for p in periods)
        for key in ("aid_fen", "fee_fen", "subsidy_fen", "recovered_fen")
    }
    return {
        "periods": len(periods),
        "claims_paid": sum(int(p["claims_paid"]) for p in periods),
        "reversals": sum(int(p["reversals"]) for p in periods),
        **sums,
        **{key.removesuffix("_fen") + "_yuan": yuan_decimal(value) for key, value in sums.items()},
    }
