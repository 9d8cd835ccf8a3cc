"""The plan's rules over the entries of a bundle: gaps allowed, periods checked apart."""

from __future__ import annotations

from typing import Any

from verifier.entry import Entry
from verifier.plan.claims import ClaimBook
from verifier.plan.closing import CLOSED_KEYS
from verifier.plan.errors import PlanError
from verifier.plan.ids import MEMBER_PATTERN
from verifier.plan.periods import parse_period
from verifier.plan.records import Body, seconds
from verifier.plan.roster import KEY_UNKNOWN
from verifier.plan.rules import check_rules_version
from verifier.plan.state import PlanReplay


class SparseReplay(PlanReplay):
    """:class:`~verifier.plan.state.PlanReplay` over the entries of a bundle.

    Entries may be missing between those present. A ``period.closed`` entry is only
    checked on its own (its figures are recomputed by the apportionment step), and
    recorded in :attr:`closed`. An objector whose ``member.joined`` a bundle does not
    carry (statement.md §2) gets a placeholder record, listed in :attr:`placeholders`.

    A bundle does not carry the entries that change a member's key (plan.md §4.6), so
    a signed request that does not verify with the key the bundle shows may have been
    signed with a later key: it is listed in :attr:`unchecked_requests`, not refused.
    """

    def __init__(self) -> None:
        super().__init__()
        self.closed: dict[str, Entry] = {}
        self.placeholders: list[str] = []
        self._handlers["period.closed"] = self._record_closed
        self.requests.every_key_change = False

    @property
    def unchecked_requests(self) -> list[tuple[int, str]]:
        """(seq, member) of the signed requests whose signature could not be checked."""
        return self.requests.unchecked

    @property
    def book(self) -> ClaimBook | None:
        """The claims replayed so far (``None`` before the first rules version)."""
        return self._book

    def apply(self, entry: Entry) -> None:
        """Apply ``entry``, the next one present (its seq may skip some)."""
        self.next_seq = entry.seq
        if entry.type == "claim.objected" and isinstance(entry.body.get("objector"), str):
            objector = str(entry.body["objector"])
            if MEMBER_PATTERN.fullmatch(objector) and objector not in self.members:
                # statement.md §2 does not include objectors' joins: not checkable here.
                # (An id of another form is refused by the objection's own check.)
                # Its key is unknown too: a signed objection's signature and request
                # number cannot be checked here either (KEY_UNKNOWN).
                self.members.add(objector, -1, 0, "", joined_at=entry.time, request=KEY_UNKNOWN)
                self.placeholders.append(objector)
        super().apply(entry)

    def _record_closed(self, entry: Entry, t: int, rules: Any) -> None:
        body = Body(entry, CLOSED_KEYS)
        check_rules_version(body, rules)
        for key in CLOSED_KEYS:
            if key.endswith("_fen") or key in ("members", "capped_members"):
                body.integer(key, None if key == "carry_out_fen" else 0)
        try:
            period = parse_period(body.value("period")).id
        except PlanError as exc:
            body.fail("entry.value", f"expected a period id: {exc}")
        cutoff = parse_period(period).cutoff
        body.same("period.cutoff", "cutoff", cutoff)
        if t < seconds(cutoff):
            body.fail("period.early", f"expected a close at or after {cutoff}")
        if period in self.closed:
            body.fail("period.order", f"period {period} closed twice")
        self.closed[period] = entry
