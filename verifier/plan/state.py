"""An independent replay of the plan's rules over the log (specs/plan.md §2-§9).

:class:`PlanReplay` takes the log's entries in seq order, genesis first, and checks
each plan entry (the types of §3) against the rules in force at its time and the
state the entries before it imply, re-deriving every field the entry states. It
raises :class:`~verifier.plan.records.PlanRuleError` (a
:class:`~verifier.plan.errors.PlanError`, so a
:class:`~verifier.errors.VerificationError`) naming the seq, the section of
specs/plan.md and the rule broken, with what was expected and what was found.

- The genesis entry (log.md §2) gives the origin and the log's verifier key, with
  which pool signatures are checked (§6). Every other type not in §3 is ignored.
- §2 is :mod:`verifier.plan.rules`; §5-§7 (claims, pools, draws, votes) are
  :mod:`verifier.plan.claims` and :mod:`verifier.plan.panel`; this module does the
  dispatch, §4 (members and jurors), ``plan.wound_down`` and §8-§9 (periods,
  shares, the contribution root).
- Every plan entry but a vote has an operator actor: ``operator``, or
  ``operator:<name>`` naming the operator's agent (§3, entries.md §1), matching
  :data:`OPERATOR_ACTOR`; a vote's actor is ``juror:<member>`` of its juror (§7).
  No entry but ``plan.rules`` is accepted before a version is in force (§2).

Periods (§8.1) are closed in order without skipping any; the first to close is the
period open when version 1 takes effect (specs/plan.md says only "after the first
rules version"). A replay has no shortcut: it starts at genesis every time.

Besides checking, the replay keeps a readable projection: :attr:`PlanReplay.members`,
:attr:`PlanReplay.claims` (each with the seqs of its entries), :attr:`PlanReplay.periods`
(each closed body), and :meth:`PlanReplay.charge_of` / :meth:`PlanReplay.contributions`
to tell a member what they were charged and what their share paid for.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from verifier.entry import GENESIS_TYPE, Entry
from verifier.errors import KeyFormatError
from verifier.note import Verifier, parse_verifier_key
from verifier.plan.apportion import apportion
from verifier.plan.claims import ClaimBook, WindDown
from verifier.plan.errors import PlanError
from verifier.plan.findings import Finding, appeal_findings
from verifier.plan.ids import show
from verifier.plan.periods import calendar_year, parse_period, period_open_at
from verifier.plan.records import (
    DAY,
    Body,
    ClaimRecord,
    MemberRecord,
    PeriodRecord,
    PlanRuleError,
    fail,
    seconds,
    show_time,
)
from verifier.plan.rules import Rules, RulesBook, check_rules_version
from verifier.plan.sumtree import tree_root
from verifier.plan.vote import decode_juror_key

JOINED_KEYS = ("member", "age_band", "identity_commitment")
LEFT_KEYS = ("member",)
ENROLLED_KEYS = ("member", "juror_key")
WOUND_DOWN_KEYS = ("claims_until", "rules_version")
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
PLAN_TYPES = frozenset(
    {
        "plan.rules",
        "plan.wound_down",
        "member.joined",
        "member.left",
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
"""The entry types of specs/plan.md §3; every other type but genesis is ignored."""
OPERATOR_ACTOR = re.compile(r"operator(:[A-Za-z0-9._@-]{1,128})?")
"""The actor of every plan entry but a vote (§3): ``operator`` or ``operator:<name>``."""


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
    findings: tuple[Finding, ...] = field(default=())
    """Appeals that ended, or stand, without their panel (:mod:`verifier.plan.findings`)."""

    def json(self) -> dict[str, Any]:
        """The summary as a JSON object."""
        doc = {k: getattr(self, k) for k in self.__dataclass_fields__}
        doc["findings"] = [f.json() for f in self.findings]
        return doc

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
            f"members, {self.claims:,} claims ({self.paid:,} paid, {self.denied:,} denied), "
            f"{self.periods_closed:,} closed periods."
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
        self.members: dict[str, MemberRecord] = {}
        self.jurors: set[str] = set()
        """Enrolled jurors still active: the candidates for a pool (§6)."""
        self.periods: dict[str, PeriodRecord] = {}
        """Closed periods, in order."""
        self.wind_down: WindDown | None = None
        self.plan_entries = 0
        self.last_s: int | None = None
        """The time of the last plan entry, in seconds: "now" for overdue appeals."""
        self._book: ClaimBook | None = None
        self._carry_out = 0
        self._year: int | None = None
        self._charged_this_year: dict[str, int] = {}
        self._handlers: dict[str, Callable[[Entry, int, Rules], object]] = {
            "plan.wound_down": self._wound_down,
            "member.joined": self._joined,
            "member.left": self._left,
            "juror.enrolled": self._enrolled,
            "period.closed": self._closed,
        }

    @property
    def claims(self) -> Mapping[str, ClaimRecord]:
        """Every claim filed, by id, with its history of (seq, type)."""
        return {} if self._book is None else self._book.claims

    # -- dispatch ------------------------------------------------------------------

    def apply(self, entry: Entry) -> None:
        """Check ``entry``, the next in seq order, and fold it into the state.

        Entry 0 must be the genesis entry (it gives the origin and the log's key);
        types outside §3 are only counted. Raises :class:`PlanRuleError` if the entry
        breaks a rule; the replay then stays at that seq (its state is that of the
        entries before), so feeding it the next one fails with ``replay.order``.
        """
        if entry.seq != self.next_seq:
            raise PlanRuleError(
                entry.seq,
                entry.type,
                "log.md §3",
                "replay.order",
                f"expected the entry at seq {self.next_seq} next, found seq {entry.seq}",
            )
        if entry.seq == 0:
            self._genesis(entry)
        elif entry.type in PLAN_TYPES:
            try:
                self._apply(entry)
            except PlanRuleError:
                raise
            except PlanError as exc:  # a malformed value found by the arithmetic modules
                fail(entry, "§3", "value", f"expected well-formed values: {exc}")
            self.plan_entries += 1
        self.next_seq += 1

    def _genesis(self, entry: Entry) -> None:
        if entry.type != GENESIS_TYPE or set(entry.body) != {"origin", "verifier_key"}:
            fail(
                entry,
                "log.md §2",
                "genesis",
                f"expected a {GENESIS_TYPE} entry with "
                f"{{origin, verifier_key}}, found {entry.type} with {sorted(entry.body)}",
            )
        origin, text = entry.body["origin"], entry.body["verifier_key"]
        try:
            if not isinstance(text, str):
                raise KeyFormatError(f"expected a verifier key string, found {show(text)}")
            key = parse_verifier_key(text)
        except KeyFormatError as exc:
            fail(entry, "log.md §2", "genesis.key", f"expected a verifier key: {exc}")
        if key.name != origin:
            fail(
                entry,
                "log.md §2",
                "genesis.origin",
                f"expected the origin to be the key's name {key.name!r}, found {show(origin)}",
            )
        self.origin, self.key = key.name, key
        book = ClaimBook(key.name, key, self.members, self.jurors)
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
                "claim.decided": book.decided,
                "claim.paid": book.paid,
                "claim.reversed": book.reversed,
            }
        )

    def _apply(self, entry: Entry) -> None:
        t = self.last_s = seconds(entry.time)
        if entry.type != "vote.cast" and not OPERATOR_ACTOR.fullmatch(entry.actor):
            fail(
                entry,
                "§3",
                "actor",
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
                "§2",
                "rules.none_in_force",
                "expected a rules version in force (no command but plan.rules is accepted "
                "before one is), found "
                + (f"version 1 taking effect only at {first.effective}" if first else "none"),
            )
        self._handlers[entry.type](entry, t, rules)

    # -- plan.wound_down -------------------------------------------------------------

    def _wound_down(self, entry: Entry, t: int, rules: Rules) -> None:
        """§3: no joins after it; claims diagnosed before it may be filed until claims_until."""
        body = Body(entry, WOUND_DOWN_KEYS)
        check_rules_version(body, rules)
        until, until_s = body.time("claims_until")
        if self.wind_down is not None:
            body.fail(
                "§3",
                "wound_down.twice",
                f"expected one wind-down, found a second after seq {self.wind_down.seq}",
            )
        if until_s < t:
            body.fail(
                "§3",
                "wound_down.claims_until",
                f"expected claims_until >= the entry's time {entry.time}, found {until}",
            )
        self.wind_down = WindDown(entry.seq, entry.time, t, until, until_s)
        if self._book is not None:
            self._book.wind_down = self.wind_down

    # -- §4 members and jurors -------------------------------------------------------

    def _joined(self, entry: Entry, t: int, rules: Rules) -> None:
        """§4.1: a new id, a band of the rules in force, a commitment; not after a wind-down."""
        body = Body(entry, JOINED_KEYS)
        member = body.member("member")
        if self.wind_down is not None:
            body.fail(
                "§4.1",
                "joined.wound_down",
                f"expected no joins after the wind-down at "
                f"seq {self.wind_down.seq}, found {member} joining",
            )
        if member in self.members:
            body.fail(
                "§4.1",
                "joined.new",
                f"expected a new member id, found {member}, who "
                f"joined at seq {self.members[member].joined_seq}",
            )
        band = body.text("age_band")
        if band not in rules.benefits:
            body.fail(
                "§4.1",
                "joined.age_band",
                f"expected an age band of rules version "
                f"{rules.version} ({', '.join(rules.benefits)}), found {band!r}",
            )
        commitment = body.hex64("identity_commitment")
        self.members[member] = MemberRecord(member, entry.seq, entry.time, t, band, commitment)

    def _left(self, entry: Entry, t: int, rules: Rules) -> None:
        """§4.2: the member is active."""
        del rules
        body = Body(entry, LEFT_KEYS)
        record = self._active(body, "§4.2", "left.active")
        record.left_seq, record.left_at, record.left_s = entry.seq, entry.time, t
        self.jurors.discard(record.member)

    def _enrolled(self, entry: Entry, t: int, rules: Rules) -> None:
        """§4.4: active, no juror key yet, joined at least juror_tenure_days before."""
        body = Body(entry, ENROLLED_KEYS)
        record = self._active(body, "§4.4", "enrolled.active")
        if record.juror_key is not None:
            body.fail(
                "§4.4",
                "enrolled.twice",
                f"expected a member without a juror key, found "
                f"{record.member} enrolled at seq {record.juror_seq}",
            )
        tenure_s = record.joined_s + rules.juror_tenure_days * DAY
        if t < tenure_s:
            body.fail(
                "§4.4",
                "enrolled.tenure",
                f"expected enrolment at or after join time "
                f"{record.joined_at} + juror_tenure_days {rules.juror_tenure_days} = "
                f"{show_time(tenure_s)}, found {entry.time}",
            )
        key = body.text("juror_key")
        try:
            decode_juror_key(key)
        except PlanError as exc:
            body.fail("§3", "juror_key.format", f"expected a 32-byte Ed25519 key: {exc}")
        record.juror_key, record.juror_seq = key, entry.seq
        self.jurors.add(record.member)

    def _active(self, body: Body, section: str, rule: str) -> MemberRecord:
        member = body.member("member")
        record = self.members.get(member)
        if record is None or not record.active:
            why = "who never joined" if record is None else f"who left at seq {record.left_seq}"
            body.fail(section, rule, f"expected an active member, found {member}, {why}")
        return record

    # -- §8 periods, §9 the contribution root -----------------------------------------

    def _closed(self, entry: Entry, t: int, rules: Rules) -> None:
        """§8: the next period in order, after its cutoff; every number re-derived."""
        body = Body(entry, CLOSED_KEYS)
        book = self._book
        first = self.rules.first
        if book is None or first is None:  # pragma: no cover - a version is in force
            raise AssertionError("closing a period before genesis or rules")
        check_rules_version(body, rules)
        stated = body.value("period")
        try:
            period = parse_period(stated).id
        except PlanError as exc:
            body.fail("§8.1", "closed.period", f"expected a period id: {exc}")
        expected = (
            parse_period(next(reversed(self.periods))).next().id
            if self.periods
            else period_open_at(first.effective)
        )
        if period != expected:
            body.fail(
                "§8.1",
                "closed.order",
                f"expected period {expected} next (periods close "
                f"in order, none skipped or closed twice), found {period}",
            )
        cutoff = parse_period(period).cutoff
        cutoff_s = seconds(cutoff)
        body.same("§8.3", "cutoff", cutoff)
        if t < cutoff_s:
            body.fail(
                "§8.1",
                "closed.early",
                f"expected a close at or after the cutoff {cutoff}, found {entry.time}",
            )
        payments = book.paid_in.get(period, [])
        body.same("§8.3", "claims", [c for c, _ in payments])
        recovered = book.recovered_in.get(period, 0)
        aid = sum(a for _, a in payments) - recovered
        year = calendar_year(period)
        if year != self._year:
            self._year, self._charged_this_year = year, {}
        counted = [
            (m.member, self._charged_this_year.get(m.member, 0))
            for m in self.members.values()
            if m.counted_at(cutoff_s)
        ]
        result = apportion(aid, rules.fee_bp, self._carry_out, counted, rules.annual_cap_fen)
        for key, value in (
            ("aid_fen", result.aid_fen),
            ("fee_fen", result.fee_fen),
            ("carry_in_fen", result.carry_in_fen),
            ("members", result.members),
            ("share_fen", result.share_fen),
            ("carry_out_fen", result.carry_out_fen),
            ("subsidy_fen", result.subsidy_fen),
            ("capped_members", result.capped_members),
        ):
            body.same("§8.2", key, value)
        node = tree_root(period, list(result.charges.items()))
        body.same("§9", "contribution_total_fen", node.total)
        body.same("§9", "contribution_root", base64.b64encode(node.hash).decode("ascii"))
        for member, charge in result.charges.items():
            self._charged_this_year[member] = self._charged_this_year.get(member, 0) + charge
        self._carry_out = result.carry_out_fen
        self.periods[period] = PeriodRecord(
            period=period,
            seq=entry.seq,
            closed_at=entry.time,
            cutoff_s=cutoff_s,
            body=dict(entry.body),
            share_fen=result.share_fen,
            capped={m: c for m, c in result.charges.items() if c < result.share_fen},
            recovered_fen=recovered,
        )

    # -- the projection ---------------------------------------------------------------

    def charge_of(self, member: str, period: str) -> int | None:
        """What ``member`` was charged in the closed ``period``; ``None`` if not counted."""
        record = self.members.get(member)
        closed = self.periods.get(period)
        if record is None or closed is None or not record.counted_at(closed.cutoff_s):
            return None
        return closed.capped.get(member, closed.share_fen)

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

    def summary(self) -> PlanSummary:
        """Counts of what was replayed."""
        claims = self.claims.values()
        latest = self.rules.latest
        return PlanSummary(
            entries=self.next_seq,
            plan_entries=self.plan_entries,
            rules_version=None if latest is None else latest.version,
            members=sum(1 for m in self.members.values() if m.active),
            members_joined=len(self.members),
            members_left=sum(1 for m in self.members.values() if not m.active),
            jurors=len(self.jurors),
            claims=len(self.claims),
            paid=sum(1 for c in claims if c.paid_fen is not None),
            denied=sum(1 for c in claims if c.outcome == "denied"),
            reversed=sum(1 for c in claims if c.recovered_fen is not None),
            undecided=sum(1 for c in claims if c.outcome is None),
            periods_closed=len(self.periods),
            last_period=next(reversed(self.periods), None),
            wound_down=self.wind_down is not None,
            findings=tuple(appeal_findings(claims, self.last_s)),
        )
