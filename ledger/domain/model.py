"""The plan's records as the log describes them: members, claims, closed periods.

These are plain records; the rules that fill them in live in the modules of their
sections (members, claims, decisions, panel, closing), and :mod:`ledger.domain.state`
holds them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ledger.domain import sumtree
from ledger.domain.apportion import Apportionment

if TYPE_CHECKING:
    from ledger.domain.close_stream import SpooledClose


@dataclass(slots=True)
class Member:
    """A member as the log describes them, with the seqs of the entries that say so."""

    id: str
    age_band: str
    joined: str
    left: str | None = None
    juror_key: str | None = None
    joined_seq: int = -1
    left_seq: int = -1
    juror_seq: int = -1
    member_key: str | None = None
    """The member's own key (base64), named by a keyed join (§4.1); None: unkeyed."""
    last_request: int = -1
    """The highest request number the member has used (§4.5); -1: none."""
    request_seq: int = -1
    """The seq of the entry that used :attr:`last_request`."""
    recovery_key: str | None = None
    """A recovered key not yet in force (§4.6), or None."""
    recovery_effective: str | None = None
    """When :attr:`recovery_key` takes force."""
    recovery_seq: int = -1
    """The seq of the member's last ``member.key_recovery``."""

    def key_at(self, time: str) -> str | None:
        """The member's key in force at ``time`` (§4.6)."""
        if self.recovery_key is not None and time >= str(self.recovery_effective):
            return self.recovery_key
        return self.member_key

    def recovery_pending_at(self, time: str) -> bool:
        """Whether a recovery is written and not yet in force at ``time``."""
        return self.recovery_key is not None and time < str(self.recovery_effective)

    def settle(self, time: str) -> None:
        """Put a recovery whose time has come in force (changes nothing else)."""
        if self.recovery_key is not None and not self.recovery_pending_at(time):
            self.member_key = self.recovery_key
            self.recovery_key = self.recovery_effective = None

    def active_at(self, time: str) -> bool:
        """Joined at or before ``time`` and not left by then."""
        return self.joined <= time and (self.left is None or self.left > time)

    def counted_at(self, cutoff: str) -> bool:
        """Counted in a period with this cutoff: joined before it, not left before it."""
        return self.joined < cutoff and (self.left is None or self.left >= cutoff)


@dataclass
class Claim:
    """A claim and every step it has been through (specs/plan.md §5).

    ``kind`` and ``category`` are those its condition's code has (fixed across
    rules versions, §2); ``history`` lists (seq, type, time) of its entries.
    """

    id: str
    member: str
    condition: str
    kind: str
    category: str
    amount_fen: int
    diagnosed: str
    filed: str
    decision: str | None = None
    assessed_fen: int = 0
    disclosed: str | None = None
    objections_close: str | None = None
    objectors: list[str] = field(default_factory=list)
    appellant: str | None = None
    appealed: str | None = None
    secret_commitment: str | None = None
    pool: list[str] | None = None
    pool_signature: bytes | None = None
    jurors: list[str] | None = None
    voting_closes: str | None = None
    votes: dict[str, str] = field(default_factory=dict)
    outcome: str | None = None
    basis: str | None = None
    decided_fen: int = 0
    paid_fen: int | None = None
    paid_period: str | None = None
    recovered_fen: int | None = None
    recovered_period: str | None = None
    history: list[tuple[int, str, str]] = field(default_factory=list)

    @property
    def status(self) -> str:
        """The latest step the claim has reached: filed, assessed, ... paid, reversed."""
        steps = (
            (self.recovered_fen is not None, "reversed"),
            (self.paid_fen is not None, "paid"),
            (self.outcome is not None, "decided"),
            (self.jurors is not None, "voting"),
            (self.appellant is not None, "appealed"),
            (self.disclosed is not None, "disclosed"),
            (self.decision is not None, "assessed"),
        )
        return next((name for reached, name in steps if reached), "filed")

    @property
    def finished(self) -> bool:
        """Decided, and paid if approved: nothing more waits on anyone (§5.8-§5.9)."""
        return self.outcome is not None and not (
            self.outcome == "approved" and self.paid_fen is None
        )

    @property
    def blocks_refiling(self) -> bool:
        """Open, or decided approved: a second claim for the same diagnosis is refused."""
        return self.outcome != "denied"


@dataclass(frozen=True)
class WindDown:
    """The plan's ``plan.wound_down``: when, and until when claims may be filed."""

    seq: int
    at: str
    claims_until: str


@dataclass
class PeriodClose:
    """A closed period's figures, as derived."""

    period: str
    body: dict[str, Any]
    apportionment: Apportionment
    tree: sumtree.Tree
    members: list[str]
    seq: int = -1
    time: str = ""
    spool: SpooledClose | None = None
    """Where a close streamed over stored members keeps its rows (then ``tree`` and
    ``members`` are empty, and so are the apportionment's ``charges``)."""
