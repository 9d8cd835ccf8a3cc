"""The plan replay's building blocks: its error, strict body readers, times, and records.

- :class:`PlanRuleError` is what a replay raises when an entry breaks a plan rule:
  it names the entry's ``seq`` and type, the section of specs/plan.md, and a short
  rule name, and says what was expected and what was found.
- :class:`Body` reads an entry's body strictly: specs/plan.md says every body "is an
  object whose keys are exactly those listed (no others)", so a missing or extra key
  is refused (§3), and every value must have its type (integers are never ``true``).
- Times are entry times, ``YYYY-MM-DDTHH:MM:SSZ`` (specs/entries.md §1), turned into
  whole seconds since 1970 so that "t + n days" (a day is 86,400 seconds, plan.md
  conventions) is integer arithmetic.
- :class:`MemberRecord`, :class:`ClaimRecord` and :class:`PeriodRecord` are the
  readable projection of the plan the replay keeps: who joined when (read from the
  fixed-size records of :mod:`verifier.plan.roster`), each claim's history of
  seqs, each closed period's body.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import NoReturn

from verifier.entry import Entry, is_valid_time
from verifier.jcs import JSONValue
from verifier.note import decode_base64
from verifier.plan.errors import PlanError
from verifier.plan.ids import CLAIM_PATTERN, HEX64_PATTERN, MEMBER_PATTERN, show
from verifier.plan.rule_ids import SECTIONS

DAY = 86_400
"""Seconds in a day (specs/plan.md, conventions)."""
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()


class PlanRuleError(PlanError):
    """An entry breaks a rule of specs/plan.md, given the state the entries before it imply.

    ``seq`` and ``entry_type`` locate the entry; ``rule`` is the rule's id in the
    table of specs/plan.md §10 (``"claim.paid.twice"``) and ``section`` the section
    that states it; ``detail`` says what was expected and what was found.
    """

    def __init__(self, seq: int, entry_type: str, rule: str, detail: str) -> None:
        section = SECTIONS.get(rule)
        if section is None:
            raise ValueError(f"{rule!r} is not a rule id of specs/plan.md §10")
        super().__init__(f"seq {seq} ({entry_type}): {rule} (plan.md {section}): {detail}")
        self.seq = seq
        self.entry_type = entry_type
        self.section = section
        self.rule = rule
        self.detail = detail


def seconds(text: str) -> int:
    """Seconds since 1970-01-01T00:00:00Z of a valid entry time (checked by the caller)."""
    day = date(int(text[0:4]), int(text[5:7]), int(text[8:10])).toordinal() - _EPOCH_ORDINAL
    return day * DAY + int(text[11:13]) * 3600 + int(text[14:16]) * 60 + int(text[17:19])


def format_time(secs: int) -> str | None:
    """The entry-time spelling of ``secs``, or ``None`` outside years 0001-9999."""
    days, rest = divmod(secs, DAY)
    try:
        d = date.fromordinal(_EPOCH_ORDINAL + days)
    except (ValueError, OverflowError):
        return None
    hour, rest = divmod(rest, 3600)
    minute, second = divmod(rest, 60)
    return f"{d.year:04d}-{d.month:02d}-{d.day:02d}T{hour:02d}:{minute:02d}:{second:02d}Z"


def fail(entry: Entry, rule: str, detail: str) -> NoReturn:
    """Raise :class:`PlanRuleError` for ``entry``, naming ``rule`` by its id (§10)."""
    raise PlanRuleError(entry.seq, entry.type, rule, detail)


def show_time(secs: int) -> str:
    """``secs`` as an entry time for a message, or a note that it is past year 9999."""
    return format_time(secs) or f"a time past year 9999 ({secs} s after 1970)"


class Body:
    """Strict reader of one plan entry's body (the keys must be exactly ``keys``, §3)."""

    def __init__(self, entry: Entry, keys: tuple[str, ...]) -> None:
        self.entry = entry
        self.values = entry.body
        self._bytes: dict[str, bytes] = {}
        found = set(self.values)
        want = set(keys)
        if found != want:
            missing = ", ".join(sorted(want - found)) or "none"
            extra = ", ".join(sorted(found - want)) or "none"
            self.fail(
                "entry.keys",
                f"expected exactly the keys {', '.join(keys)}; missing {missing}, "
                f"unexpected {extra}",
            )

    def fail(self, rule: str, detail: str) -> NoReturn:
        """Raise :class:`PlanRuleError` for this entry."""
        fail(self.entry, rule, detail)

    def value(self, key: str) -> JSONValue:
        """The raw value of ``key``."""
        return self.values[key]

    def same(self, rule: str, key: str, expected: object) -> None:
        """Refuse by ``rule`` unless the body states ``expected`` for ``key`` (same JSON type)."""
        found = self.values[key]
        if found != expected or type(found) is not type(expected):
            self.fail(rule, f"expected {key} {expected!r}, found {found!r}")

    def integer(self, key: str, minimum: int | None = 0) -> int:
        """An integer (never ``true``/``false``), at least ``minimum`` unless that is None."""
        v = self.values[key]
        if isinstance(v, bool) or not isinstance(v, int):
            self.fail("entry.value", f"expected {key} to be an integer, found {show(v)}")
        if minimum is not None and v < minimum:
            self.fail("entry.value", f"expected {key} >= {minimum}, found {v}")
        return v

    def text(self, key: str) -> str:
        """A string, possibly empty."""
        v = self.values[key]
        if not isinstance(v, str):
            self.fail("entry.value", f"expected {key} to be a string, found {show(v)}")
        return v

    def choice(self, key: str, allowed: tuple[str, ...]) -> str:
        """A string among ``allowed``."""
        v = self.values[key]
        if not isinstance(v, str) or v not in allowed:
            self.fail(
                "entry.value",
                f"expected {key} to be one of {', '.join(allowed)}, found {show(v)}",
            )
        return v

    def hex64(self, key: str) -> str:
        """64 lower-case hex digits (commitments and hashes, §3)."""
        v = self.values[key]
        if not isinstance(v, str) or not HEX64_PATTERN.fullmatch(v):
            self.fail("entry.value", f"expected {key}: 64 lower-case hex digits, found {show(v)}")
        return v

    def time(self, key: str) -> tuple[str, int]:
        """A time ``YYYY-MM-DDTHH:MM:SSZ`` (entries.md §1), with its seconds."""
        v = self.values[key]
        if not isinstance(v, str) or not is_valid_time(v):
            self.fail(
                "entry.value", f"expected {key}: a time YYYY-MM-DDTHH:MM:SSZ, found {show(v)}"
            )
        return v, seconds(v)

    def b64(self, key: str, size: int) -> bytes:
        """Canonical standard base64 of exactly ``size`` bytes (keys, signatures, §3)."""
        raw: bytes | None = self._bytes.get(key)
        if raw is not None and len(raw) == size:
            return raw
        v = self.values[key]
        if isinstance(v, str):
            try:
                raw = decode_base64(v)
            except ValueError:
                raw = None
        if raw is None or len(raw) != size:
            self.fail("entry.value", f"expected {key}: base64 of {size} bytes, found {show(v)}")
        self._bytes[key] = raw
        return raw

    def member(self, key: str) -> str:
        """A member id, ``m-`` + 20 lower-case hex digits (§1)."""
        v = self.values[key]
        if not isinstance(v, str) or not MEMBER_PATTERN.fullmatch(v):
            self.fail(
                "entry.value", f"expected {key}: 'm-' + 20 lower-case hex digits, found {show(v)}"
            )
        return v

    def claim(self, key: str = "claim") -> str:
        """A claim id, ``c-`` + decimal seq (§1)."""
        v = self.values[key]
        if not isinstance(v, str) or not CLAIM_PATTERN.fullmatch(v):
            self.fail("entry.value", f"expected {key}: 'c-' + a decimal seq, found {show(v)}")
        return v


@dataclass(frozen=True)
class MemberRecord:
    """A member as the log shows them (§4): join, age band, leaving, juror key, own key.

    A snapshot of :class:`~verifier.plan.roster.MemberTable`'s fixed-size record;
    the identity commitment is checked when the member joins and stays in that entry.
    """

    member: str
    joined_seq: int
    joined_at: str
    joined_s: int
    age_band: str
    left_seq: int | None = None
    left_at: str | None = None
    left_s: int | None = None
    juror_key: str | None = None
    juror_seq: int | None = None
    member_key: str | None = None
    """The member's own key in force (base64): the one they joined with, or the one a
    rotation or recovery put in its place (specs/requests.md §1, plan.md §4.6)."""
    request: int | None = None
    """The last request number the member used (requests.md §4); ``None`` without a key."""

    @property
    def active(self) -> bool:
        """Joined and not (yet) left, in log order."""
        return self.left_seq is None

    def counted_at(self, cutoff_s: int) -> bool:
        """Counted in N at this cutoff: joined before it and not left before it (§8.2)."""
        return self.joined_s < cutoff_s and (self.left_s is None or self.left_s >= cutoff_s)


@dataclass
class ClaimRecord:
    """A claim and its lifecycle (§5-§7); ``history`` lists (seq, type) of its entries."""

    claim: str
    seq: int
    member: str
    condition: str
    kind: str
    category: str
    claimed_fen: int
    diagnosed: str
    filed_at: str
    filed_s: int
    history: list[tuple[int, str]] = field(default_factory=list)
    decision: str | None = None
    """``approve`` or ``deny``, once assessed."""
    assessed_fen: int | None = None
    disclosed_at: str | None = None
    objections_close: str | None = None
    objections_close_s: int | None = None
    objectors: list[str] = field(default_factory=list)
    appellant: str | None = None
    appealed_s: int | None = None
    appeal_due_s: int | None = None
    """The appeal time + ``reveal_days`` of the rules then: the panel's deadline (§5.6)."""
    panel_size: int | None = None
    """``panel_size`` of the rules at the appeal: the jurors the pool must hold."""
    quorum: int | None = None
    """``quorum`` of the rules at the decision, for a drawn panel."""
    secret_commitment: str | None = None
    pool: list[str] | None = None
    """The pool fixed at the appeal (§6): eligible jurors minus claimant and objectors."""
    pool_root: bytes | None = None
    """The pool's root, once ``panel.pooled`` stated it (§6)."""
    pool_signature: bytes | None = None
    """The log key's signature over the pool, from ``panel.pooled`` (§6)."""
    pooled_seq: int | None = None
    jurors: list[str] | None = None
    voting_closes: str | None = None
    voting_closes_s: int | None = None
    votes: dict[str, str] = field(default_factory=dict)
    """Juror id -> choice, in log order."""
    outcome: str | None = None
    basis: str | None = None
    decided_fen: int | None = None
    paid_fen: int | None = None
    paid_period: str | None = None
    recovered_fen: int | None = None
    recovered_period: str | None = None

    @property
    def status(self) -> str:
        """The furthest step reached: filed, assessed, disclosed, appealed, pooled, drawn,
        approved or denied, paid, reversed."""
        if self.recovered_fen is not None:
            return "reversed"
        if self.paid_fen is not None:
            return "paid"
        if self.outcome is not None:
            return self.outcome
        if self.jurors is not None:
            return "drawn"
        if self.pool_signature is not None:
            return "pooled"
        if self.appellant is not None:
            return "appealed"
        if self.disclosed_at is not None:
            return "disclosed"
        if self.decision is not None:
            return "assessed"
        return "filed"


@dataclass
class PeriodRecord:
    """A closed period (§8.3): its body as stated (and re-derived), and how charges were set.

    A member counted at the cutoff was charged min(``share_fen``, ``annual_cap_fen``
    less what they were charged earlier that year), so no charge is kept per member.
    """

    period: str
    seq: int
    closed_at: str
    cutoff_s: int
    body: dict[str, JSONValue]
    share_fen: int
    annual_cap_fen: int
    recovered_fen: int
    capped_of: Callable[[], dict[str, int]] = field(default=dict, repr=False, compare=False)
    """Computes :attr:`capped`; the replay that closed the period sets it."""

    @property
    def capped(self) -> dict[str, int]:
        """The members charged less than the share, with their charge, in id order.

        Computed when asked, with a pass over every member: the replay keeps no
        per-member charge of a period.
        """
        return self.capped_of()
