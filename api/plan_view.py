"""The API's view of the plan: the state rebuilt from the log, kept up to date per request.

The view replays new entries through :class:`ledger.domain.state.PlanState` under a
lock, so every answer reflects the log as it is, and only public data leaves: what
the entries themselves say (never an identity record, a salt or an off-log document).
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from dataclasses import dataclass
from typing import Any

from ledger.domain.claims import disclosure_body
from ledger.domain.model import Claim
from ledger.domain.periods import period_open_at
from ledger.domain.state import PlanState
from ledger.log.entry import parse_entry
from ledger.log.log import Log
from ledger.money import yuan_decimal

READ_CHUNK = 10_000
_LOG = logging.getLogger("tally.api")


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
    """A thread-safe, incrementally rebuilt plan state for the API."""

    def __init__(self, log: Log) -> None:
        self._log = log
        self._state = PlanState()
        self._lock = threading.Lock()

    def warm_in_background(self) -> threading.Thread:
        """Replay the log now, in a thread, so that the first plan request need not.

        On a large log the first replay takes a while (about 30 s per million
        entries); a server starts it as it starts, and requests that come before it
        ends wait for it. A failure is logged, and the next request tries again.
        """

        def warm() -> None:
            try:
                self.state()
            except Exception as exc:  # the store is down, say: requests will retry
                _LOG.warning("could not replay the plan ahead of requests: %s", exc)

        thread = threading.Thread(target=warm, name="tally-plan-view", daemon=True)
        thread.start()
        return thread

    def state(self) -> PlanState:
        """The plan as of the log's current size."""
        with self._lock:
            size = self._log.size()
            for start in range(self._state.size, size, READ_CHUNK):
                for _, raw in self._log.entries(start, min(start + READ_CHUNK, size)):
                    self._state.apply(parse_entry(raw))
            return self._state


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
    joins = Counter(period_open_at(m.joined) for m in state.members.values())
    leaves = Counter(period_open_at(m.left) for m in state.members.values() if m.left)
    decided: dict[str, Counter[str]] = {}
    for claim in state.claims.values():
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
                "reversals": len(state.recovered_in.get(period, [])),
                "recovered_fen": sum(a for _, a in state.recovered_in.get(period, [])),
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
