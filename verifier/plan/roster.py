"""Every member of the plan in fixed-size records: what a replay keeps per member.

A plan may have tens of millions of members (相互宝 had about a hundred million), so
the replay keeps none of them as a Python object. :class:`MemberTable` numbers the
members in join order (their *ordinal*) and keeps, in parallel arrays indexed by
ordinal:

- the id, as its 10 bytes (``m-`` + 20 hex digits, specs/plan.md §1);
- the join and leave seq and time, in seconds (a time is read back as the entry
  spelled it: entry times are canonical, so seconds give the same text);
- the age band, as a small number;

about 45 bytes a member, with the id index below. Jurors, a few hundred at most,
keep their key and enrolment seq in a dictionary.

Ids are found through an open-addressing index of ordinals (4 bytes a slot, at most
half full) probed from Python's own hash of the id bytes, which is salted per
process: an operator who picks member ids cannot make the lookups collide.

:meth:`MemberTable.in_id_order` gives the ordinals sorted by id (the order of a
period's contribution leaves, §9), sorting only the members who joined since the
last call and merging them in. Reading a member (``table[id]``) gives a
:class:`~verifier.plan.records.MemberRecord`: a snapshot, changed only through
:meth:`MemberTable.leave` and :meth:`MemberTable.enrol`.
"""

from __future__ import annotations

import bisect
from array import array
from collections.abc import Iterator, Mapping

from verifier.plan.records import MemberRecord, format_time

ID_BYTES = 10
"""The bytes of a member id's 20 hex digits."""
ACTIVE = 2**63 - 1
"""The leave time of a member who has not left: after every cutoff."""
_FIRST_SLOTS = 1 << 10


class MemberTable(Mapping[str, MemberRecord]):
    """The members, in fixed-size records indexed by join order (see the module doc)."""

    def __init__(self) -> None:
        self._ids = bytearray()
        self.joined_s = array("q")
        """Join time of each ordinal, in seconds."""
        self.left_s = array("q")
        """Leave time of each ordinal, in seconds; :data:`ACTIVE` if still a member."""
        self._joined_seq = array("q")
        self._left_seq = array("q")
        self._band = array("B")
        self._band_names: list[str] = []
        self._band_codes: dict[str, int] = {}
        self._jurors: dict[int, tuple[str, int]] = {}
        self._joined_at: dict[int, str] = {}
        """Join times not spelled as their seconds (placeholders of a statement replay)."""
        self._slots = array("i", bytes(4 * _FIRST_SLOTS))
        self._order = array("i")
        self.left_count = 0
        """How many members have left."""

    # -- the index -------------------------------------------------------------------

    def ordinal(self, member: str) -> int:
        """The ordinal of ``member`` (a valid id), or -1 if they never joined."""
        try:
            raw = bytes.fromhex(member[2:])
        except ValueError:
            return -1
        if len(raw) != ID_BYTES or member[:2] != "m-":
            return -1
        return self._find(raw)[1]

    def _find(self, raw: bytes) -> tuple[int, int]:
        # (slot, ordinal): the slot holding ``raw``'s ordinal, or the empty slot it would take.
        slots, ids = self._slots, self._ids
        mask = len(slots) - 1
        i = hash(raw) & mask
        while True:
            held = slots[i]
            if not held:
                return i, -1
            o = (held - 1) * ID_BYTES
            if ids[o : o + ID_BYTES] == raw:
                return i, held - 1
            i = (i + 1) & mask

    def _grow(self) -> None:
        slots = array("i", bytes(8 * len(self._slots)))
        mask, ids = len(slots) - 1, self._ids
        for o in range(len(self.joined_s)):
            i = hash(bytes(ids[o * ID_BYTES : (o + 1) * ID_BYTES])) & mask
            while slots[i]:
                i = (i + 1) & mask
            slots[i] = o + 1
        self._slots = slots

    # -- changes ---------------------------------------------------------------------

    def add(self, member: str, seq: int, t: int, band: str, joined_at: str | None = None) -> int:
        """Record a join of ``member`` (a valid id not yet in the table) at ``t``; its ordinal.

        ``joined_at`` is the join time as text, if it may not be the spelling of ``t``.
        """
        raw = bytes.fromhex(member[2:])
        if 2 * (len(self.joined_s) + 1) > len(self._slots):
            self._grow()
        slot, found = self._find(raw)
        if found >= 0:
            raise ValueError(f"{member} is already in the table")
        o = len(self.joined_s)
        self._slots[slot] = o + 1
        self._ids += raw
        self.joined_s.append(t)
        self.left_s.append(ACTIVE)
        self._joined_seq.append(seq)
        self._left_seq.append(-1)
        code = self._band_codes.get(band)
        if code is None:
            code = self._band_codes[band] = len(self._band_names)
            self._band_names.append(band)
        self._band.append(code)
        if joined_at is not None and format_time(t) != joined_at:
            self._joined_at[o] = joined_at
        return o

    def leave(self, member: str, seq: int, t: int) -> None:
        """Record that ``member``, who joined and has not left, left at seq ``seq``, time t."""
        o = self.ordinal(member)
        self.left_s[o], self._left_seq[o] = t, seq
        self.left_count += 1

    def enrol(self, member: str, key: str, seq: int) -> None:
        """Record ``member``'s juror key (base64), enrolled at seq ``seq``."""
        self._jurors[self.ordinal(member)] = (key, seq)

    # -- reading ---------------------------------------------------------------------

    def record(self, o: int) -> MemberRecord:
        """The member of ordinal ``o``, as a snapshot."""
        left_seq = self._left_seq[o]
        left_s = None if left_seq < 0 else self.left_s[o]
        juror = self._jurors.get(o)
        joined_s = self.joined_s[o]
        return MemberRecord(
            member=self.member_id(o),
            joined_seq=self._joined_seq[o],
            joined_at=self._joined_at.get(o) or str(format_time(joined_s)),
            joined_s=joined_s,
            age_band=self._band_names[self._band[o]],
            left_seq=None if left_seq < 0 else left_seq,
            left_at=None if left_s is None else format_time(left_s),
            left_s=left_s,
            juror_key=None if juror is None else juror[0],
            juror_seq=None if juror is None else juror[1],
        )

    @property
    def ids(self) -> bytearray:
        """The ids' bytes, :data:`ID_BYTES` per ordinal (do not change them)."""
        return self._ids

    def member_id(self, o: int) -> str:
        """The id of ordinal ``o``."""
        return "m-" + self._ids[o * ID_BYTES : (o + 1) * ID_BYTES].hex()

    def __getitem__(self, member: str) -> MemberRecord:
        o = self.ordinal(member) if isinstance(member, str) else -1
        if o < 0:
            raise KeyError(member)
        return self.record(o)

    def __contains__(self, member: object) -> bool:
        return isinstance(member, str) and self.ordinal(member) >= 0

    def __iter__(self) -> Iterator[str]:
        """The ids, in join order."""
        return (self.member_id(o) for o in range(len(self.joined_s)))

    def __len__(self) -> int:
        return len(self.joined_s)

    def in_id_order(self) -> array[int]:
        """Every ordinal, sorted by member id (do not change the array)."""
        order, n = self._order, len(self.joined_s)
        if len(order) == n:
            return order
        ids = self._ids

        def key(o: int) -> bytearray:
            return ids[o * ID_BYTES : (o + 1) * ID_BYTES]

        new = sorted(range(len(order), n), key=key)
        merged, start = array("i"), 0
        for o in new:
            at = bisect.bisect_left(order, key(o), start, key=key)
            merged.extend(order[start:at])
            merged.append(o)
            start = at
        merged.extend(order[start:])
        self._order = merged
        return merged
