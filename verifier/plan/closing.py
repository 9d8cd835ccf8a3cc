"""Period closes, replayed (specs/plan.md §8 apportionment, §9 the contribution root).

:class:`PeriodBook` checks each ``period.closed``: the next period in order, closed
at or after its cutoff, every figure re-derived from the payments, reversals,
members and annual cap, and the contribution root recomputed from every member's
charge. Each figure that differs is named by its rule id (specs/plan.md §10).

A close makes one pass over the members in id order (the leaf order, §9), straight
from :class:`~verifier.plan.roster.MemberTable`'s arrays: each counted member's
charge goes into the sum tree as it is computed, and what each member was charged
this year is an array indexed by ordinal, so a close of N members builds no list or
dictionary of N entries.
"""

from __future__ import annotations

import base64
from array import array
from collections.abc import Callable

from verifier.entry import Entry
from verifier.plan.apportion import check_conservation, fee_fen, share_fen
from verifier.plan.claims import ClaimBook
from verifier.plan.errors import PlanError
from verifier.plan.periods import calendar_year, parse_period, period_open_at
from verifier.plan.records import Body, PeriodRecord, seconds
from verifier.plan.roster import ID_BYTES, MemberTable
from verifier.plan.rules import Rules, check_rules_version
from verifier.plan.sumtree import EMPTY, SumTreeBuilder

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
        self._charged_this_year = array("q")
        """What each member (by ordinal) was charged this calendar year, before this period."""

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
        members: MemberTable,
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
        aid = sum(a for _, a in payments) - recovered
        share = self._apportion(body, period.id, cutoff_s, rules, aid, members)
        self.periods[period.id] = PeriodRecord(
            period=period.id,
            seq=entry.seq,
            closed_at=entry.time,
            cutoff_s=cutoff_s,
            body=dict(entry.body),
            share_fen=share,
            annual_cap_fen=rules.annual_cap_fen,
            recovered_fen=recovered,
        )

    def _apportion(
        self, body: Body, period: str, cutoff_s: int, rules: Rules, aid: int, members: MemberTable
    ) -> int:
        """§8.2 and §9: re-derive every figure and the root, one pass over the members in id
        order; on success, add each member's charge to their year's. Returns the share."""
        year = calendar_year(period)
        charged = array("q") if year != self._year else self._charged_this_year[:]
        charged.frombytes(bytes(8 * (len(members) - len(charged))))
        n = sum(
            1
            for j, left in zip(members.joined_s, members.left_s, strict=True)
            if j < cutoff_s <= left
        )
        try:
            fee = fee_fen(aid, rules.fee_bp)
            due = aid + fee - self.carry_out
            share = share_fen(due, n)
        except PlanError as exc:  # pragma: no cover - the inputs come from checked entries
            body.fail("period.aid", f"expected figures that can be apportioned: {exc}")
        carry_out = share * n - due
        tally = _Tally(share, rules.annual_cap_fen)
        tree = SumTreeBuilder(period)
        problem = tally.charge(members, cutoff_s, charged, tree)
        node = EMPTY
        if problem is None:
            try:
                node = tree.root()
            except PlanError as exc:  # a total past 2^64 - 1: said after the figures (§9 last)
                problem = exc
        try:
            check_conservation((tally.total,), aid, fee, self.carry_out, carry_out, tally.subsidy)
        except PlanError as exc:  # pragma: no cover - the charges follow the formula
            body.fail("period.aid", f"expected figures that can be apportioned: {exc}")
        for key, value, rule in (
            ("aid_fen", aid, "period.aid"),
            ("fee_fen", fee, "period.fee"),
            ("carry_in_fen", self.carry_out, "period.carry"),
            ("members", n, "period.members"),
            ("share_fen", share, "period.share"),
            ("carry_out_fen", carry_out, "period.carry"),
            ("subsidy_fen", tally.subsidy, "period.subsidy"),
            ("capped_members", tally.capped, "period.subsidy"),
        ):
            body.same(rule, key, value)
        if problem is not None:
            raise problem
        body.same(
            "period.contributions", "contribution_root", base64.b64encode(node.hash).decode("ascii")
        )
        body.same("period.contributions", "contribution_total_fen", node.total)
        self._year, self._charged_this_year = year, charged
        self.carry_out = carry_out
        return share


class _Tally:
    """The charges of one period as they stream into its sum tree, and their sums (§8.2)."""

    def __init__(self, share: int, cap: int) -> None:
        self.share, self.cap = share, cap
        self.total = self.subsidy = self.capped = 0

    def charge(
        self,
        members: MemberTable,
        cutoff_s: int,
        charged: array[int],
        tree: SumTreeBuilder,
    ) -> PlanError | None:
        """Charge every member counted at ``cutoff_s``, in id order, and add their leaf
        to ``tree``; adds each charge to ``charged``: charge = min(share, annual_cap -
        charged before, floored at 0). Returns the tree's error (a total past 2^64 - 1),
        if any: the figures still count every member, as §9 is checked last."""
        share, cap = self.share, self.cap
        joined, left, ids = members.joined_s, members.left_s, members.ids
        total = subsidy = capped = 0
        problem: PlanError | None = None
        add: Callable[[str, int], None] | None = tree.add
        for o in members.in_id_order():
            if joined[o] < cutoff_s <= left[o]:
                before = charged[o]
                charge = min(share, max(0, cap - before))
                if charge < share:
                    subsidy += share - charge
                    capped += 1
                total += charge
                charged[o] = before + charge
                if add is not None:
                    try:
                        add("m-" + ids[o * ID_BYTES : (o + 1) * ID_BYTES].hex(), charge)
                    except PlanError as exc:
                        problem, add = exc, None
        self.total, self.subsidy, self.capped = total, subsidy, capped
        return problem
