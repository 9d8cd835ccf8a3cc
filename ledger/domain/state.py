"""The plan's state, derived from entries alone, and the dispatch of each entry to its rules.

:meth:`PlanState.apply` checks an entry against specs/plan.md and folds it in. The
checks of each section live in the module of that section, each raising
:class:`~ledger.domain.errors.RuleError` with the rule's id (§10):

- §2 rules versions: :mod:`ledger.domain.rules`;
- §3 wind-down, §4 members and jurors: :mod:`ledger.domain.members`;
- §5.1-§5.5 filing to appeal: :mod:`ledger.domain.claims`;
- §5.6, §6 and §7 the panel and its votes: :mod:`ledger.domain.panel`;
- §5.8-§5.10 decision, payment, reversal: :mod:`ledger.domain.decisions`;
- §8-§9 period closes: :mod:`ledger.domain.closing`.

This module checks what every entry shares: its place in the log, its type (the
types of §3 and ``log.genesis`` only), its actor, and that a rules version is in
force. The operator's commands go through :meth:`PlanState.apply` before anything
is appended (inside the sequencer's lock), and ``tally check`` replays every entry
through it.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, MutableMapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from ledger.domain import claims, closing, decisions, key_changes, members, panel
from ledger.domain.errors import RuleError
from ledger.domain.model import Claim, Member, PeriodClose, WindDown
from ledger.domain.periods import next_period, period_open_at
from ledger.domain.projection_rows import PAID, RECOVERED
from ledger.domain.requests import ACTING_FIELD, ALWAYS_SIGNED, acting_field, is_signed
from ledger.domain.rules import Rules, admit, in_force, parse_rules
from ledger.errors import ChainError
from ledger.log.entry import GENESIS_TYPE, RETIRED_TYPE, Entry
from ledger.publish.note import Verifier, parse_verifier_key

if TYPE_CHECKING:
    from ledger.domain.close_stream import SpooledClose

OPERATOR_ACTOR_RE = re.compile(r"\Aoperator(:[A-Za-z0-9._@-]{1,128})?\Z")

Handler = Callable[["PlanState", Entry, Rules], None]


@dataclass
class PlanState:
    """Everything the entries so far imply about the plan.

    The rule modules read and change it through its methods only, so that the same
    checks run over the projection tables (:class:`ledger.domain.stored_state.StoredPlanState`)
    as over this in-memory replay (``tally check``, the rebuild).
    """

    origin: str = ""
    log_key: Verifier | None = None
    size: int = 0
    rules: list[Rules] = field(default_factory=list)
    rules_seqs: list[int] = field(default_factory=list)
    members: MutableMapping[str, Member] = field(default_factory=dict)
    claims: MutableMapping[str, Claim] = field(default_factory=dict)
    juror_keys: dict[str, str] = field(default_factory=dict)
    member_keys: MutableMapping[str, tuple[str, int]] = field(default_factory=dict)
    """Every member key ever named (base64) -> (its member, the seq naming it) (§4.1, §4.6)."""
    diagnoses: dict[tuple[str, str, str], list[str]] = field(default_factory=dict)
    wound_down: WindDown | None = None
    first_period: str | None = None
    closed: list[PeriodClose] = field(default_factory=list)
    paid_in: dict[str, list[tuple[str, int]]] = field(default_factory=dict)
    recovered_in: dict[str, list[tuple[str, int]]] = field(default_factory=dict)
    charged: dict[int, dict[str, int]] = field(default_factory=dict)
    money: list[tuple[str, int, str, str, int]] = field(default_factory=list)
    """(period, seq, "paid" or "recovered", claim, fen) of every payment and recovery."""
    keep_trees: bool = False
    close_cache: tuple[tuple[str, str, int], PeriodClose] | None = None

    # -- reading ------------------------------------------------------------------

    def rules_at(self, time: str) -> Rules:
        """The rules version in force at ``time``."""
        rules = in_force(self.rules, time)
        if rules is None:
            raise RuleError("rules.in_force", f"no rules version is in force at {time}")
        return rules

    def last_carry_out(self) -> int:
        """What the last closed period carried out (0 before the first)."""
        return int(self.closed[-1].body["carry_out_fen"]) if self.closed else 0

    def next_period_to_close(self) -> str | None:
        """The period the next ``period.closed`` must name."""
        if self.closed:
            return next_period(self.closed[-1].period)
        return self.first_period

    def read_members(self, members: Iterable[str]) -> None:
        """Read these members at once, where reading each costs (the stored state)."""

    def member(self, member: str) -> Member | None:
        """The member with this id, if they joined."""
        return self.members.get(member)

    def active_member(self, member: str, time: str, rule: str) -> Member:
        """The member with this id, active at ``time``; else a refusal by ``rule``."""
        found = self.members.get(member)
        if found is None:
            raise RuleError(rule, f"expected an active member, found {member}, who never joined")
        if not found.active_at(time):
            raise RuleError(
                rule, f"expected an active member, found {member}, who left {found.left}"
            )
        return found

    def claim(self, claim: str) -> Claim:
        """The claim with this id; else a refusal (``claim.known``)."""
        found = self.claims.get(claim)
        if found is None:
            raise RuleError("claim.known", f"no claim {claim!r} has been filed")
        return found

    def claims_for_diagnosis(self, member: str, condition: str, diagnosed: str) -> list[Claim]:
        """Every claim of ``member`` for this condition and diagnosis date, in filing order."""
        ids = self.diagnoses.get((member, condition, diagnosed), [])
        return [self.claims[c] for c in ids]

    def key_holder(self, key: str) -> str | None:
        """The member who holds ``key`` as their member key or juror key, if any (§4.1, §4.4)."""
        named = self.member_keys.get(key)
        return named[0] if named is not None else self.juror_keys.get(key)

    def jurors_active_at(self, time: str) -> Iterator[Member]:
        """Enrolled jurors who are active members at ``time``."""
        return (m for m in self.members.values() if m.juror_key is not None and m.active_at(time))

    def counted_ids(self, cutoff: str) -> list[str]:
        """The ids of the members a period with this cutoff counts (§8.2), in id order."""
        return sorted(m.id for m in self.members.values() if m.counted_at(cutoff))

    def all_members(self) -> Iterator[Member]:
        """Every member who ever joined (in no particular order)."""
        return iter(self.members.values())

    def all_claims(self) -> Iterator[Claim]:
        """Every claim filed, in filing order."""
        return iter(sorted(self.claims.values(), key=lambda c: c.history[0][0]))

    def open_claims(self) -> list[Claim]:
        """Every claim not finished (:attr:`Claim.finished`), in filing order."""
        return [c for c in self.all_claims() if not c.finished]

    def claims_of(self, member: str) -> list[Claim]:
        """Every claim ``member`` filed, in filing order."""
        return [c for c in self.all_claims() if c.member == member]

    def member_counts(self, time: str) -> tuple[int, int, int]:
        """(members active at ``time``, members ever, enrolled jurors)."""
        members = list(self.members.values())
        return (
            sum(1 for m in members if m.active_at(time)),
            len(members),
            sum(1 for m in members if m.juror_key is not None),
        )

    def movements(self) -> tuple[Counter[str], Counter[str]]:
        """How many members joined, and how many left, in each period (by its id)."""
        joins = Counter(period_open_at(m.joined) for m in self.members.values())
        leaves = Counter(period_open_at(m.left) for m in self.members.values() if m.left)
        return joins, leaves

    def paid_in_period(self, period: str) -> list[tuple[str, int]]:
        """(claim, fen) of each payment counted in ``period``, in log order."""
        return list(self.paid_in.get(period, []))

    def recovered_in_period(self, period: str) -> list[tuple[str, int]]:
        """(claim, fen) of each recovery credited to ``period``, in log order."""
        return list(self.recovered_in.get(period, []))

    def year_charges(self, year: int) -> Mapping[str, int]:
        """What each member was charged in the periods closed so far with cutoffs in ``year``."""
        return self.charged.get(year, {})

    # -- changing -----------------------------------------------------------------

    def add_member(self, member: Member) -> None:
        """Record a new member."""
        self.members[member.id] = member
        if member.member_key is not None:
            self.name_key(member, member.member_key, member.joined_seq)

    def name_key(self, member: Member, key: str, seq: int) -> None:
        """Record that entry ``seq`` named ``key`` as ``member``'s (it is never anyone else's)."""
        self.member_keys[key] = (member.id, seq)

    def leave(self, member: Member, time: str, seq: int) -> None:
        """Record that ``member`` left at ``time`` (entry ``seq``)."""
        member.left = time
        member.left_seq = seq

    def note_request(self, member: Member, number: int, seq: int) -> None:
        """Record the request number ``member`` used in entry ``seq`` (§4.5)."""
        member.last_request = number
        member.request_seq = seq

    def enrol_juror(self, member: Member, key: str, seq: int) -> None:
        """Record ``member``'s juror key."""
        member.juror_key = key
        member.juror_seq = seq
        self.juror_keys[key] = member.id

    def add_claim(self, claim: Claim) -> None:
        """Record a newly filed claim."""
        self.claims[claim.id] = claim
        self.diagnoses.setdefault((claim.member, claim.condition, claim.diagnosed), []).append(
            claim.id
        )

    def add_paid(self, period: str, claim: str, amount: int, seq: int) -> None:
        """Count a payment (entry ``seq``) in ``period``."""
        self.paid_in.setdefault(period, []).append((claim, amount))
        self.money.append((period, seq, PAID, claim, amount))

    def add_recovered(self, period: str, claim: str, amount: int, seq: int) -> None:
        """Credit a recovery (entry ``seq``) to ``period``."""
        self.recovered_in.setdefault(period, []).append((claim, amount))
        self.money.append((period, seq, RECOVERED, claim, amount))

    def spool_close(
        self, period: str, cutoff: str, year: int, **figures: int
    ) -> SpooledClose | None:
        """A close streamed over stored members (the stored state's); None: in memory."""
        return None

    def add_close_charges(self, year: int, close: PeriodClose) -> None:
        """Add a closed period's charges to each member's total for ``year``."""
        self.add_charges(year, close.apportionment.charges)

    def add_charges(self, year: int, charges: Mapping[str, int]) -> None:
        """Add a closed period's charges to each member's total for ``year``."""
        charged = self.charged.setdefault(year, {})
        for member, charge in charges.items():
            charged[member] = charged.get(member, 0) + charge

    def add_closed(self, close: PeriodClose) -> None:
        """Record a closed period (its tree only when asked: trees are large)."""
        self.closed.append(close if self.keep_trees else replace(close, tree=[]))

    def add_rules(self, rules: Rules, seq: int) -> None:
        """Record a new rules version."""
        self.rules.append(rules)
        self.rules_seqs.append(seq)
        if self.first_period is None:
            self.first_period = period_open_at(rules.effective)

    # -- applying -----------------------------------------------------------------

    def apply(self, entry: Entry) -> None:
        """Check ``entry`` against the rules and the state, then fold it in."""
        if entry.seq != self.size:
            raise ChainError(entry.seq, f"expected entry {self.size} next")
        if entry.seq == 0 and entry.type == GENESIS_TYPE:
            self.origin = str(entry.body["origin"])
            self.log_key = parse_verifier_key(str(entry.body["verifier_key"]))
        elif entry.type != RETIRED_TYPE:  # the log's own last entry (log.md §7), no plan rule
            self._apply_plan(entry)
        self.size += 1

    def _apply_plan(self, entry: Entry) -> None:
        handler = HANDLERS.get(entry.type)
        if handler is None:
            raise RuleError(
                "entry.type",
                f"expected log.genesis first, then types of specs/plan.md §3 (and log.retired "
                f"last), found "
                f"{entry.type!r} at seq {entry.seq}",
            )
        _check_actor(entry)
        if entry.type == "plan.rules":
            announced = parse_rules(entry.body)
            admit(self.rules, announced, entry.time)
            self.add_rules(announced, entry.seq)
            return
        rules = in_force(self.rules, entry.time)
        if rules is None:
            raise RuleError(
                "rules.in_force",
                f"expected a rules version in force before {entry.type}, found "
                + (
                    f"version 1 taking effect at {self.rules[0].effective}"
                    if self.rules
                    else "none"
                ),
            )
        handler(self, entry, rules)
        self._record(entry)

    def _record(self, entry: Entry) -> None:
        """Remember where each claim's steps and each period are."""
        if entry.type == "period.closed":
            self.closed[-1] = replace(self.closed[-1], seq=entry.seq, time=entry.time)
        claim = f"c-{entry.seq}" if entry.type == "claim.filed" else entry.body.get("claim")
        if isinstance(claim, str) and claim in self.claims:
            self.claims[claim].history.append((entry.seq, entry.type, entry.time))


def _check_actor(entry: Entry) -> None:
    """§3, §4.5: a signed member action by its member, a vote by its juror (§7, checked
    with the vote), every other entry by the operator."""
    if entry.type == "vote.cast":  # its actor is its juror's (§7, vote.actor)
        return
    if entry.type in ALWAYS_SIGNED or (entry.type in ACTING_FIELD and is_signed(entry.body)):
        acting = entry.body.get(acting_field(entry.type))
        if entry.actor != f"member:{acting}":
            raise RuleError(
                "entry.actor",
                f"expected the signed {entry.type} by member:{acting}, found {entry.actor!r}",
            )
    elif not OPERATOR_ACTOR_RE.match(entry.actor):
        raise RuleError(
            "entry.actor",
            f"expected {entry.type} by 'operator' or 'operator:<name>', found {entry.actor!r}",
        )


def _rules_entry(state: PlanState, entry: Entry, rules: Rules) -> None:  # pragma: no cover
    raise AssertionError("plan.rules is applied by PlanState itself")


HANDLERS: Mapping[str, Handler] = {
    "plan.rules": _rules_entry,
    "plan.wound_down": members.wound_down,
    "member.joined": members.joined,
    "member.left": members.left,
    "member.key_rotated": key_changes.key_rotated,
    "member.key_recovery": key_changes.key_recovery,
    "member.key_recovery_refused": key_changes.key_recovery_refused,
    "juror.enrolled": members.juror_enrolled,
    "claim.filed": claims.filed,
    "claim.assessed": claims.assessed,
    "claim.disclosed": claims.disclosed,
    "claim.objected": claims.objected,
    "claim.appealed": claims.appealed,
    "panel.pooled": panel.pooled,
    "panel.drawn": panel.drawn,
    "vote.cast": panel.vote,
    "claim.decided": decisions.decided,
    "claim.paid": decisions.paid,
    "claim.reversed": decisions.reversed_,
    "period.closed": closing.closed,
}
PLAN_TYPES = frozenset(HANDLERS)
