"""Period closes, replayed (specs/plan.md §8 apportionment, §9 the contribution root).

:class:`PeriodBook` checks each ``period.closed``: the next period in order, closed
at or after its cutoff, every figure re-derived from the payments, reversals,
members and annual cap, and the contribution root recomputed from every member's
charge. Each figure that differs is named by its rule id (specs/plan.md §10).
"""

from __future__ import annotations

import base64
from collections.abc import Mapping

from verifier.entry import Entry
from verifier.plan.apportion import Apportionment, apportion
from verifier.plan.claims import ClaimBook
from verifier.plan.errors import PlanError
from verifier.plan.periods import calendar_year, parse_period, period_open_at
from verifier.plan.records import Body, MemberRecord, PeriodRecord, seconds
from verifier.plan.rules import Rules, check_rules_version
from verifier.plan.sumtree import tree_root

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


class PeriodBook:
    """Every closed period, in order, with what each member was charged this year."""

    def __init__(self) -> None:
        self.periods: dict[str, PeriodRecord] = {}
        """Closed periods, in order."""
        self.carry_out = 0
        self._year: int | None = None
        self._charged_this_year: dict[str, int] = {}

    def next_period(self, first: Rules) -> str:
        """The period the next ``period.closed`` must name (§8.1)."""
        if self.periods:
            return parse_period(next(reversed(self.periods))).next().id
        return period_open_at(first.effective)

    def closed(
        self,
        entry: Entry,
        t: int,
        rules: Rules,
        first: Rules,
        book: ClaimBook,
        members: Mapping[str, MemberRecord],
    ) -> None:
        """§8: the next period in order, after its cutoff; every number re-derived."""
        body = Body(entry, CLOSED_KEYS)
        stated = body.text("period")
        check_rules_version(body, rules)
        expected = self.next_period(first)
        if stated != expected:
            body.fail(
                "period.order",
                f"expected period {expected} next (periods close in order, none skipped or "
                f"closed twice), found {stated!r}",
            )
        period = parse_period(stated)
        cutoff_s = seconds(period.cutoff)
        if t < cutoff_s:
            body.fail(
                "period.early",
                f"expected a close at or after the cutoff {period.cutoff}, found {entry.time}",
            )
        body.same("period.cutoff", "cutoff", period.cutoff)
        payments = book.paid_in.get(period.id, [])
        body.same("period.claims", "claims", [c for c, _ in payments])
        recovered = book.recovered_in.get(period.id, 0)
        result = self._apportion(body, period.id, cutoff_s, rules, payments, recovered, members)
        self.periods[period.id] = PeriodRecord(
            period=period.id,
            seq=entry.seq,
            closed_at=entry.time,
            cutoff_s=cutoff_s,
            body=dict(entry.body),
            share_fen=result.share_fen,
            capped={m: c for m, c in result.charges.items() if c < result.share_fen},
            recovered_fen=recovered,
        )

    def _apportion(
        self,
        body: Body,
        period: str,
        cutoff_s: int,
        rules: Rules,
        payments: list[tuple[str, int]],
        recovered: int,
        members: Mapping[str, MemberRecord],
    ) -> Apportionment:
        """§8.2 and §9: re-derive every figure and the root; return each member's charge."""
        year = calendar_year(period)
        if year != self._year:
            self._year, self._charged_this_year = year, {}
        counted = [
            (m.member, self._charged_this_year.get(m.member, 0))
            for m in members.values()
            if m.counted_at(cutoff_s)
        ]
        aid = sum(a for _, a in payments) - recovered
        try:
            result = apportion(aid, rules.fee_bp, self.carry_out, counted, rules.annual_cap_fen)
        except PlanError as exc:  # pragma: no cover - the inputs come from checked entries
            body.fail("period.aid", f"expected figures that can be apportioned: {exc}")
        for key, value, rule in (
            ("aid_fen", result.aid_fen, "period.aid"),
            ("fee_fen", result.fee_fen, "period.fee"),
            ("carry_in_fen", result.carry_in_fen, "period.carry"),
            ("members", result.members, "period.members"),
            ("share_fen", result.share_fen, "period.share"),
            ("carry_out_fen", result.carry_out_fen, "period.carry"),
            ("subsidy_fen", result.subsidy_fen, "period.subsidy"),
            ("capped_members", result.capped_members, "period.subsidy"),
        ):
            body.same(rule, key, value)
        node = tree_root(period, list(result.charges.items()))
        body.same(
            "period.contributions", "contribution_root", base64.b64encode(node.hash).decode("ascii")
        )
        body.same("period.contributions", "contribution_total_fen", node.total)
        for member, charge in result.charges.items():
            self._charged_this_year[member] = self._charged_this_year.get(member, 0) + charge
        self.carry_out = result.carry_out_fen
        return result
