"""An independent replay of the plan's rules over the log (specs/plan.md §2-§9).

:class:`PlanReplay` takes the log's entries in seq order, genesis first, and checks
each entry against the rules in force at its time and the state the entries before
it imply, re-deriving every field the entry states. It raises
:class:`~verifier.plan.records.PlanRuleError` (a
:class:`~verifier.plan.errors.PlanError`, so a
:class:`~verifier.errors.VerificationError`) naming the seq and the rule broken by its
id (specs/plan.md §10), with what was expected and what was found.

- The genesis entry (log.md §2) gives the origin and the log's verifier key, with
  which pool signatures are checked (§6). Every later entry must be of a type of §3:
  any other type is a violation (``entry.type``), never skipped.
- The checks live in the modules of their sections: §2 :mod:`verifier.plan.rules`;
  §3-§4 :mod:`verifier.plan.members`; §4.6 :mod:`verifier.plan.keys`; §5.1-§5.5
  :mod:`verifier.plan.claims`; §6-§7 :mod:`verifier.plan.panel`; §5.8-§5.10
  :mod:`verifier.plan.decisions`; §8-§9 :mod:`verifier.plan.closing`; the member
  actions' signatures and request numbers (§4.5) :mod:`verifier.plan.actions`. This
  module dispatches, and checks what every entry shares: its type, its actor
  (``operator`` or ``operator:<name>``, matching :data:`OPERATOR_ACTOR`, for all but
  a vote, the member actions and the key changes of §4.6, whose actor is checked
  after their body's form) and a rules version in force. Before each entry, the
  recoveries of members' keys due by its time are put in force (§4.6).

Periods (§8.1) are closed in order without skipping any; the first to close is the
period open when version 1 takes effect (specs/plan.md says only "after the first
rules version"). A replay has no shortcut: it starts at genesis every time.

The replay also counts the member actions (§4.5) signed by the member and those
assisted by the operator (a rotation of a member's key and a refusal of a recovery,
§4.6, are signed), the joins with and without a member key, and the recoveries of a
member's key by the operator, in total and per period: the period open at the
entry's time (§8.1), closed or not.

Besides checking, the replay keeps a readable projection: :attr:`PlanReplay.members`,
:attr:`PlanReplay.claims` (each with the seqs of its entries), :attr:`PlanReplay.periods`
(each closed body), and :meth:`PlanReplay.charge_of` / :meth:`PlanReplay.contributions`
to tell a member what they were charged and what their share paid for.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from verifier.entry import GENESIS_TYPE, RETIRED_TYPE, Entry
from verifier.errors import KeyFormatError
from verifier.money import yuan
from verifier.note import Verifier, parse_verifier_key
from verifier.plan.actions import Requests
from verifier.plan.claims import ClaimBook, WindDown
from verifier.plan.closing import PeriodBook
from verifier.plan.decisions import decided, paid, reversed_
from verifier.plan.errors import PlanError, ReplayOrderError
from verifier.plan.findings import Finding, appeal_findings
from verifier.plan.ids import OPERATOR_ACTOR, show
from verifier.plan.keys import KeyChanges
from verifier.plan.members import MemberRoll
from verifier.plan.periods import Period, parse_period, period_open_at
from verifier.plan.records import ClaimRecord, PlanRuleError, fail, seconds
from verifier.plan.requests import MEMBER_ACTIONS, SIGNED_ONLY
from verifier.plan.roster import MemberTable
from verifier.plan.rules import Rules, RulesBook

PLAN_TYPES = frozenset(
    {
        "plan.rules",
        "plan.wound_down",
        "member.joined",
        "member.left",
        "member.key_rotated",
        "member.key_recovery",
        "member.key_recovery_refused",
        "juror.enrolled",
        "claim.filed",
        "claim.assessed",
        "claim.disclosed",
        "claim.objected",
        "claim.appealed",
        "panel.pooled",
        "panel.drawn",
        "vote.cast",
        "claim.decided",
        "claim.paid",
        "claim.reversed",
        "period.closed",
    }
)
"""The entry types of specs/plan.md §3; every other type after genesis is a violation."""
OWN_ACTOR_CHECK = MEMBER_ACTIONS | SIGNED_ONLY.keys() | {"vote.cast", "member.key_recovery"}
"""Types whose actor is checked by their own handler, after their body's form."""
__all__ = ["OPERATOR_ACTOR", "PLAN_TYPES", "ActionCounts", "PlanReplay", "PlanSummary"]


@dataclass(frozen=True)
class ActionCounts:
    """Member actions signed by the member or assisted by the operator, joins with or
    without a member key, and recoveries of a member's key by the operator
    (specs/plan.md §4.1, §4.5, §4.6). A rotation of a member's key and a refusal of a
    recovery are signed by the member and counted with the signed actions."""

    signed: int = 0
    assisted: int = 0
    keyed_joins: int = 0
    unkeyed_joins: int = 0
    key_recoveries: int = 0

    def json(self) -> dict[str, int]:
        """The counts as a JSON object."""
        return {k: getattr(self, k) for k in self.__dataclass_fields__}

    def __add__(self, other: ActionCounts) -> ActionCounts:
        return ActionCounts(
            self.signed + other.signed,
            self.assisted + other.assisted,
            self.keyed_joins + other.keyed_joins,
            self.unkeyed_joins + other.unkeyed_joins,
            self.key_recoveries + other.key_recoveries,
        )

    def words(self) -> str:
        """The counts in words: ``3 signed, 1 assisted; joins: 2 keyed, 0 without a key``
        (and ``; 1 key recovery`` when the operator recovered a member's key)."""
        text = (
            f"{self.signed:,} signed, {self.assisted:,} assisted; joins: "
            f"{self.keyed_joins:,} keyed, {self.unkeyed_joins:,} without a key"
        )
        if self.key_recoveries:
            plural = "y" if self.key_recoveries == 1 else "ies"
            text += f"; {self.key_recoveries:,} key recover{plural}"
        return text


@dataclass(frozen=True)
class PlanSummary:
    """Counts for a report: how much of the plan the replay checked."""

    entries: int
    plan_entries: int
    rules_version: int | None
    members: int
    members_joined: int
    members_left: int
    jurors: int
    claims: int
    paid: int
    denied: int
    reversed: int
    undecided: int
    periods_closed: int
    last_period: str | None
    wound_down: bool
    aid_fen: int = 0
    fee_fen: int = 0
    subsidy_fen: int = 0
    recovered_fen: int = 0
    """Totals over the closed periods (aid net of recoveries) and every reversal."""
    findings: tuple[Finding, ...] = field(default=())
    """Appeals that ended, or stand, without their panel (:mod:`verifier.plan.findings`)."""
    member_actions: ActionCounts = field(default=ActionCounts())
    """Member actions signed and assisted, and joins keyed and not, over the whole log."""
    member_actions_by_period: Mapping[str, ActionCounts] = field(default_factory=dict)
    """The same counts for each period (open at the entries' time, §8.1), in order."""

    def json(self) -> dict[str, Any]:
        """The summary as a JSON object."""
        doc = {k: getattr(self, k) for k in self.__dataclass_fields__}
        doc["findings"] = [f.json() for f in self.findings]
        doc["member_actions"] = self.member_actions.json()
        doc["member_actions_by_period"] = {
            p: c.json() for p, c in self.member_actions_by_period.items()
        }
        return doc

    def action_lines(self) -> list[str]:
        """Member-signed and assisted actions, in total and per period; none if none."""
        counts = self.member_actions
        if counts == ActionCounts():
            return []
        recoveries = (
            f" Recoveries of a member's key by the operator (§4.6): {counts.key_recoveries:,}."
            if counts.key_recoveries
            else ""
        )
        return [
            f"Member actions (specs/plan.md §4.5): {counts.signed:,} signed by the member, "
            f"{counts.assisted:,} assisted (written by the operator for the member); joins: "
            f"{counts.keyed_joins:,} with the member's own key, {counts.unkeyed_joins:,} "
            f"without one.{recoveries}",
            *(f"  {period}: {c.words()}" for period, c in self.member_actions_by_period.items()),
        ]

    def finding_lines(self) -> list[str]:
        """The findings in plain sentences, after a heading; none if there are none."""
        if not self.findings:
            return []
        return [
            f"{len(self.findings):,} appeal(s) did not get the panel they asked for "
            "(allowed by the rules, but worth knowing):",
            *(f"  seq {f.seq}: {f.message}" for f in self.findings),
        ]

    def sentence(self) -> str:
        """One plain sentence for the audit report."""
        if not self.plan_entries:
            return (
                f"The log holds no plan entries (specs/plan.md §3), so no plan rule applies "
                f"to its {self.entries:,} entries."
            )
        return (
            f"The plan's rules hold for all {self.entries:,} entries: {self.members:,} "
            f"members, {self.claims:,} claims ({self.paid:,} paid, {self.denied:,} denied, "
            f"{self.reversed:,} reversed for fraud with {yuan(self.recovered_fen)} recovered), "
            f"{self.periods_closed:,} closed periods: {yuan(self.aid_fen)} of aid, "
            f"{yuan(self.fee_fen)} of fees, {yuan(self.subsidy_fen)} of subsidies."
        )


@dataclass(frozen=True)
class Contribution:
    """What one member was charged in one closed period, and what the period paid for."""

    period: str
    charge_fen: int
    share_fen: int
    aid_fen: int
    claims: list[str]


class PlanReplay:
    """Replay the plan from genesis, one entry at a time (see the module doc)."""

    def __init__(self) -> None:
        self.next_seq = 0
        self.origin: str | None = None
        self.key: Verifier | None = None
        self.rules = RulesBook()
        self.requests = Requests(MemberTable())
        self.roll = MemberRoll(self.requests)
        self.keys = KeyChanges(self.requests)
        self.members = self.roll.members
        self.jurors = self.roll.jurors
        self.closing = PeriodBook()
        self.periods = self.closing.periods
        """Closed periods, in order."""
        self.plan_entries = 0
        self.last_s: int | None = None
        """The time of the last plan entry, in seconds: "now" for overdue appeals."""
        self._book: ClaimBook | None = None
        self._counts: dict[str, list[int]] = {}
        """Period -> [signed, assisted, keyed joins, unkeyed joins, key recoveries]."""
        self._period: tuple[str, int, int] | None = None
        """The period open at the last entry counted, with its start and cutoff seconds."""
        self._handlers: dict[str, Callable[[Entry, int, Rules], object]] = {
            "plan.wound_down": self._wound_down,
            "member.joined": self.roll.joined,
            "member.left": self.roll.left,
            "juror.enrolled": self.roll.enrolled,
            "member.key_rotated": self.keys.rotated,
            "member.key_recovery": self.keys.recovery,
            "member.key_recovery_refused": self.keys.refused,
            "period.closed": self._closed,
        }

    @property
    def claims(self) -> Mapping[str, ClaimRecord]:
        """Every claim filed, by id, with its history of (seq, type)."""
        return {} if self._book is None else self._book.claims

    @property
    def wind_down(self) -> WindDown | None:
        """The plan's wind-down, if any."""
        return self.roll.wind_down

    # -- dispatch ------------------------------------------------------------------

    def apply(self, entry: Entry) -> None:
        """Check ``entry``, the next in seq order, and fold it into the state.

        Entry 0 must be the genesis entry (it gives the origin and the log's key);
        every later entry must be of a type of §3. Raises :class:`PlanRuleError` if
        the entry breaks a rule; the replay then stays at that seq (its state is that
        of the entries before), so feeding it the next one fails with ``ReplayOrderError``.
        """
        if entry.seq != self.next_seq:
            raise ReplayOrderError(
                f"seq {entry.seq} ({entry.type}): expected the entry at seq "
                f"{self.next_seq} next (log.md §3)"
            )
        if entry.seq == 0:
            self._genesis(entry)
        elif entry.type == RETIRED_TYPE:
            pass  # the log's own last entry (log.md §7): the chain checks it, no plan rule
        else:
            try:
                self._apply(entry)
            except PlanRuleError:
                raise
            except PlanError as exc:  # a malformed value found by the arithmetic modules
                fail(entry, "entry.value", f"expected well-formed values: {exc}")
            self.plan_entries += 1
            self._count(entry)
        self.next_seq += 1

    def _genesis(self, entry: Entry) -> None:
        if entry.type != GENESIS_TYPE or set(entry.body) != {"origin", "verifier_key"}:
            raise ReplayOrderError(
                f"seq 0: expected a {GENESIS_TYPE} entry with {{origin, verifier_key}}, "
                f"found {entry.type} with {sorted(entry.body)} (log.md §2)"
            )
        origin, text = entry.body["origin"], entry.body["verifier_key"]
        try:
            if not isinstance(text, str):
                raise KeyFormatError(f"expected a verifier key string, found {show(text)}")
            key = parse_verifier_key(text)
        except KeyFormatError as exc:
            raise ReplayOrderError(f"seq 0: expected a verifier key (log.md §2): {exc}") from None
        if key.name != origin:
            raise ReplayOrderError(
                f"seq 0: expected the origin to be the key's name {key.name!r}, found "
                f"{show(origin)} (log.md §2)"
            )
        self.origin, self.key = key.name, key
        self.requests.origin = key.name
        book = ClaimBook(key.name, key, self.members, self.jurors, self.requests)
        self._book = book
        self._handlers.update(
            {
                "claim.filed": book.filed,
                "claim.assessed": book.assessed,
                "claim.disclosed": book.disclosed,
                "claim.objected": book.objected,
                "claim.appealed": book.appealed,
                "panel.pooled": book.pooled,
                "panel.drawn": book.drawn,
                "vote.cast": book.vote,
                "claim.decided": lambda e, t, r: decided(book, e, t, r),
                "claim.paid": lambda e, t, r: paid(book, e, t, r),
                "claim.reversed": lambda e, t, r: reversed_(book, e, t, r),
            }
        )

    def _apply(self, entry: Entry) -> None:
        if entry.type not in PLAN_TYPES:
            fail(
                entry,
                "entry.type",
                f"expected a type of specs/plan.md §3 after genesis, found {entry.type!r}",
            )
        t = self.last_s = seconds(entry.time)
        self.members.settle(t)  # recoveries due by t are in force (§4.6)
        if entry.type not in OWN_ACTOR_CHECK and not OPERATOR_ACTOR.fullmatch(entry.actor):
            fail(
                entry,
                "entry.actor",
                f"expected the actor 'operator' or 'operator:<name>', found {entry.actor!r}",
            )
        if entry.type == "plan.rules":
            self.rules.add(entry, t)
            return
        rules = self.rules.in_force(t)
        if rules is None:
            first = self.rules.first
            fail(
                entry,
                "rules.in_force",
                "expected a rules version in force (no command but plan.rules is accepted "
                "before one is), found "
                + (f"version 1 taking effect only at {first.effective}" if first else "none"),
            )
        self._handlers[entry.type](entry, t, rules)

    def _count(self, entry: Entry) -> None:
        """Count an accepted member action, join or key change in the period open at its
        time (§8.1)."""
        if entry.type == "member.joined":
            column = 2 if "member_key" in entry.body else 3
        elif entry.type in MEMBER_ACTIONS or entry.type in SIGNED_ONLY:
            column = 0 if "signature" in entry.body else 1
        elif entry.type == "member.key_recovery":
            column = 4
        else:
            return
        t = seconds(entry.time)
        open_ = self._period
        if open_ is None or not open_[1] <= t < open_[2]:
            try:
                period = parse_period(period_open_at(entry.time))
                open_ = (period.id, _previous_cutoff(period), seconds(period.cutoff))
            except PlanError:  # past 9999-12b's cutoff: no period is open
                open_ = ("after 9999-12b", seconds("9999-12-28T00:00:00Z"), 2**62)
            self._period = open_
        self._counts.setdefault(open_[0], [0, 0, 0, 0, 0])[column] += 1

    def _wound_down(self, entry: Entry, t: int, rules: Rules) -> None:
        wind = self.roll.wound_down(entry, t, rules)
        if self._book is not None:
            self._book.wind_down = wind

    def _closed(self, entry: Entry, t: int, rules: Rules) -> None:
        first = self.rules.first
        if self._book is None or first is None:  # pragma: no cover - a version is in force
            raise AssertionError("closing a period before genesis or rules")
        self.closing.closed(entry, t, rules, first, self._book, self.members)
        closed = next(reversed(self.periods.values()))
        closed.capped_of = functools.partial(self.capped_in, closed.period)

    # -- the projection ---------------------------------------------------------------

    def charge_of(self, member: str, period: str) -> int | None:
        """What ``member`` was charged in the closed ``period``; ``None`` if not counted.

        Re-derived as the close derived it (§8.2): min(share, annual cap less what the
        member was charged by the earlier closes of that calendar year, floored at 0).
        """
        record = self.members.get(member)
        closed = self.periods.get(period)
        if record is None or closed is None or not record.counted_at(closed.cutoff_s):
            return None
        year, before = None, 0
        for p in self.periods.values():
            if p.period[:4] != year:
                year, before = p.period[:4], 0
            if record.counted_at(p.cutoff_s):
                charge = min(p.share_fen, max(0, p.annual_cap_fen - before))
                if p is closed:
                    return charge
                before += charge
        raise AssertionError(f"{period} is closed but not among the periods")  # pragma: no cover

    def capped_in(self, period: str) -> dict[str, int]:
        """The members charged less than the share in the closed ``period``, with their
        charge, in id order (a pass over every member)."""
        closed = self.periods[period]
        members = self.members
        capped = {}
        for o in members.in_id_order():
            member = members.member_id(o)
            charge = self.charge_of(member, period)
            if charge is not None and charge < closed.share_fen:
                capped[member] = charge
        return capped

    def contributions(self, member: str) -> list[Contribution]:
        """Every closed period that counted ``member``: their charge, and the claims paid."""
        rows = []
        for period, closed in self.periods.items():
            charge = self.charge_of(member, period)
            if charge is not None:
                claims = closed.body["claims"]
                aid = closed.body["aid_fen"]
                rows.append(
                    Contribution(
                        period,
                        charge,
                        closed.share_fen,
                        aid if isinstance(aid, int) else 0,
                        [str(c) for c in claims] if isinstance(claims, list) else [],
                    )
                )
        return rows

    def _period_total(self, key: str) -> int:
        values = (p.body[key] for p in self.periods.values())
        return sum(v for v in values if isinstance(v, int) and not isinstance(v, bool))

    def summary(self) -> PlanSummary:
        """Counts of what was replayed."""
        claims = self.claims.values()
        latest = self.rules.latest
        by_period = {p: ActionCounts(*c) for p, c in sorted(self._counts.items())}
        return PlanSummary(
            entries=self.next_seq,
            plan_entries=self.plan_entries,
            rules_version=None if latest is None else latest.version,
            members=len(self.members) - self.members.left_count,
            members_joined=len(self.members),
            members_left=self.members.left_count,
            jurors=len(self.jurors),
            claims=len(self.claims),
            paid=sum(1 for c in claims if c.paid_fen is not None),
            denied=sum(1 for c in claims if c.outcome == "denied"),
            reversed=sum(1 for c in claims if c.recovered_fen is not None),
            undecided=sum(1 for c in claims if c.outcome is None),
            periods_closed=len(self.periods),
            last_period=next(reversed(self.periods), None),
            wound_down=self.wind_down is not None,
            aid_fen=self._period_total("aid_fen"),
            fee_fen=self._period_total("fee_fen"),
            subsidy_fen=self._period_total("subsidy_fen"),
            recovered_fen=sum(c.recovered_fen or 0 for c in claims),
            findings=tuple(appeal_findings(claims, self.last_s)),
            member_actions=sum(by_period.values(), ActionCounts()),
            member_actions_by_period=by_period,
        )


def _previous_cutoff(period: Period) -> int:
    """The seconds of the cutoff before ``period``'s, when it opened (§8.1)."""
    if period.half == "b":
        return seconds(Period(period.year, period.month, "a").cutoff)
    if period.month > 1:
        return seconds(Period(period.year, period.month - 1, "b").cutoff)
    if period.year > 1:
        return seconds(Period(period.year - 1, 12, "b").cutoff)
    return -(2**62)
