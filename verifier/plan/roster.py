"""Every member of the plan in fixed-size records: what a replay keeps per member.

A plan may have tens of millions of members (相互宝 had about a hundred million), so
the replay keeps none of them as a Python object. :class:`MemberTable` numbers the
members in join order (their *ordinal*) and keeps, in parallel arrays indexed by
ordinal:

- the id, as its 10 bytes (``m-`` + 20 hex digits, specs/plan.md §1);
- the join and leave seq and time, in seconds (a time is read back as the entry
  spelled it: entry times are canonical, so seconds give the same text);
- the age band, as a small number;
- the member's own key (specs/requests.md §1), its 32 bytes (zeros if none);
- the last request number the member used (requests.md §4), or :data:`NO_KEY` for
  a member who joined without a key (so even an all-zero key is told apart from
  none), or :data:`KEY_UNKNOWN` for a placeholder whose join a partial replay did
  not read (a statement bundle's objector);

about 85 bytes a member, with the id index below: 45 for the join, the leave and
the band, 40 for the key and the request number. Jurors, a few hundred at most,
keep their key and enrolment seq in a dictionary.

One key speaks for one person (requests.md §1): member keys and juror keys share
one namespace, :meth:`MemberTable.key_owner`. Juror keys are few and sit in a
dictionary by their 32 bytes; member keys are found through a second
open-addressing index of ordinals over the key bytes above (4 bytes a slot, at
most half full: 8 to 16 bytes a keyed member), not a dictionary, which would cost
some 150 bytes a member (a bytes object, an int and the table's own slots), 1.5 GB
at ten million members.

A member's key may change (specs/plan.md §4.6): a rotation puts a new key in force
at once, a recovery names a key that takes force at its ``effective`` time unless
the member refuses it first. The join key stays in its record (the index finds it
there); each later key is kept once more, 32 bytes and its owner's ordinal in two
further arrays the same index points into (a slot holds ``ordinal + 1`` for a join
key, ``-(n + 1)`` for the n-th later key), so no key a member ever held, or has
pending, is given to anyone again. The key in force, for the few members whose key
changed, is in a dictionary by ordinal, and so are the pending recoveries, which
are rarer still. :meth:`MemberTable.settle` puts in force every recovery whose
``effective`` time has come; the replay calls it at each entry's time (times never
decrease, log.md §3), so :meth:`MemberTable.member_key` is always the key in force.

Ids are found through an open-addressing index of ordinals (4 bytes a slot, at most
half full) probed from Python's own hash of the id bytes, which is salted per
process: an operator who picks member ids cannot make the lookups collide.

:meth:`MemberTable.in_id_order` gives the ordinals sorted by id (the order of a
period's contribution leaves, §9), sorting only the members who joined since the
last call and merging them in. Reading a member (``table[id]``) gives a
:class:`~verifier.plan.records.MemberRecord`: a snapshot, changed only through
:meth:`MemberTable.leave`, :meth:`MemberTable.enrol` and :meth:`MemberTable.use_request`.
"""

from __future__ import annotations

import bisect
from array import array
from collections.abc import Iterator, Mapping
from typing import NamedTuple

from verifier.b64 import encode
from verifier.plan.records import MemberRecord, format_time

ID_BYTES = 10
"""The bytes of a member id's 20 hex digits."""
KEY_BYTES = 32
"""The bytes of an Ed25519 public key (a member's or a juror's)."""
NO_KEY = -1
"""The request number of a member who joined without a key: they cannot sign."""
KEY_UNKNOWN = -2
"""The request number of a placeholder member whose join was not replayed."""
ACTIVE = 2**63 - 1
"""The leave time of a member who has not left: after every cutoff."""
_FIRST_SLOTS = 1 << 10


class Recovery(NamedTuple):
    """A pending recovery of a member's key (specs/plan.md §4.6)."""

    seq: int
    """The seq of its ``member.key_recovery`` entry."""
    key: bytes
    """The new key, 32 bytes."""
    effective_s: int
    """When it takes force, in seconds."""


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
        self._keys = bytearray()
        """Each ordinal's member key, :data:`KEY_BYTES` bytes (zeros if none)."""
        self._requests = array("q")
        """Each ordinal's last request number, or :data:`NO_KEY` / :data:`KEY_UNKNOWN`."""
        self._key_slots = array("i", bytes(4 * _FIRST_SLOTS))
        self._keyed = 0
        self._later_keys = bytearray()
        """Every member key named after a join (rotations, recoveries), 32 bytes each."""
        self._later_owner = array("i")
        """The ordinal each of :attr:`_later_keys` was named for."""
        self._in_force: dict[int, bytes] = {}
        """Ordinal -> the key in force, for members whose key changed since they joined."""
        self._first_by_recovery: set[int] = set()
        """Ordinals who joined without a key and were given one by a recovery."""
        self._recoveries: dict[int, Recovery] = {}
        """Ordinal -> the member's pending recovery."""
        self._next_effective = ACTIVE
        """The earliest ``effective`` time of a pending recovery."""
        self._juror_keys: dict[bytes, int] = {}
        """Juror key (32 bytes) -> the ordinal it was enrolled for."""
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

    def add(
        self,
        member: str,
        seq: int,
        t: int,
        band: str,
        joined_at: str | None = None,
        *,
        key: bytes | None = None,
        request: int = NO_KEY,
    ) -> int:
        """Record a join of ``member`` (a valid id not yet in the table) at ``t``; its ordinal.

        ``joined_at`` is the join time as text, if it may not be the spelling of ``t``.
        A keyed join gives the member's ``key`` (32 bytes, held by no one yet) and its
        ``request`` number; an unkeyed one neither (or ``request`` :data:`KEY_UNKNOWN`
        for a placeholder).
        """
        if (key is None) != (request < 0) or (key is not None and len(key) != KEY_BYTES):
            raise ValueError("a keyed join has a 32-byte key and a request number >= 0")
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
        self._requests.append(request)
        if key is None:
            self._keys += bytes(KEY_BYTES)
        else:
            self._keys += key
            self._index_key(o + 1, key)
        return o

    def use_request(self, o: int, number: int) -> None:
        """Record ``number`` as the last request of ordinal ``o`` (a keyed member)."""
        self._requests[o] = number

    def leave(self, member: str, seq: int, t: int) -> None:
        """Record that ``member``, who joined and has not left, left at seq ``seq``, time t."""
        o = self.ordinal(member)
        self.left_s[o], self._left_seq[o] = t, seq
        self.left_count += 1

    def enrol(self, member: str, key: str, seq: int, raw: bytes) -> None:
        """Record ``member``'s juror key (base64 ``key`` of the 32 bytes ``raw``), at ``seq``."""
        o = self.ordinal(member)
        self._jurors[o] = (key, seq)
        self._juror_keys[bytes(raw)] = o

    # -- keys ------------------------------------------------------------------------

    def _index_key(self, slot_value: int, key: bytes) -> None:
        # ``slot_value``: ordinal + 1 for a join key, -(n + 1) for the n-th later key.
        if 2 * (self._keyed + 1) > len(self._key_slots):
            slots = array("i", bytes(8 * len(self._key_slots)))
            mask = len(slots) - 1
            for value, held in self._held_keys():
                if value != slot_value:
                    i = hash(held) & mask
                    while slots[i]:
                        i = (i + 1) & mask
                    slots[i] = value
            self._key_slots = slots
        self._key_slots[self._find_key(key)[0]] = slot_value
        self._keyed += 1

    def _held_keys(self) -> Iterator[tuple[int, bytes]]:
        # (slot value, key) of every key in the index.
        keys, requests, joined_keyed = self._keys, self._requests, self._joined_keyed
        for o in range(len(requests)):
            if requests[o] >= 0 and joined_keyed(o):
                yield o + 1, bytes(keys[o * KEY_BYTES : (o + 1) * KEY_BYTES])
        later = self._later_keys
        for n in range(len(self._later_owner)):
            yield -(n + 1), bytes(later[n * KEY_BYTES : (n + 1) * KEY_BYTES])

    def _joined_keyed(self, o: int) -> bool:
        # Whether ordinal o's record holds a join key (a recovery may have given a
        # member who joined without one a key, and so request numbers).
        return o not in self._first_by_recovery

    def _stored(self, value: int) -> bytes:
        # The key a slot value points to.
        if value > 0:
            at = (value - 1) * KEY_BYTES
            return bytes(self._keys[at : at + KEY_BYTES])
        at = (-value - 1) * KEY_BYTES
        return bytes(self._later_keys[at : at + KEY_BYTES])

    def _find_key(self, key: bytes) -> tuple[int, int]:
        # (slot, slot value): the slot holding ``key``'s value, or the empty slot it
        # would take (value 0).
        slots = self._key_slots
        mask = len(slots) - 1
        i = hash(key) & mask
        while True:
            held = slots[i]
            if not held or self._stored(held) == key:
                return i, held
            i = (i + 1) & mask

    def key_owner(self, key: bytes) -> tuple[str, int] | None:
        """Who holds, held or has pending the 32-byte ``key``: ``("member", o)`` if
        ordinal ``o`` joined with it or was given it by a rotation or a recovery (in
        force, rotated away, pending or refused), ``("juror", o)`` if it is o's juror
        key, or ``None``."""
        key = bytes(key)
        juror = self._juror_keys.get(key)
        if juror is not None:
            return "juror", juror
        found = self._find_key(key)[1]
        if not found:
            return None
        return "member", found - 1 if found > 0 else self._later_owner[-found - 1]

    def member_key(self, o: int) -> bytes | None:
        """The member key in force of ordinal ``o`` (as of the last :meth:`settle`), or
        ``None`` if they have none: they joined without one and no recovery gave them
        one, or their join was not replayed (:meth:`last_request` tells which)."""
        changed = self._in_force.get(o)
        if changed is not None:
            return changed
        if self._requests[o] < 0:
            return None
        return bytes(self._keys[o * KEY_BYTES : (o + 1) * KEY_BYTES])

    def _name_key(self, o: int, key: bytes) -> None:
        # Index ``key``, named for ordinal o after their join: held from now on.
        if len(key) != KEY_BYTES or self.key_owner(key) is not None:
            raise ValueError("a new member key is 32 bytes held by no one")
        self._later_keys += key
        self._later_owner.append(o)
        self._index_key(-len(self._later_owner), key)

    def rotate(self, o: int, key: bytes) -> None:
        """Put ``key`` (32 bytes, held by no one yet) in force for ordinal ``o`` now; a
        pending recovery of o is void (specs/plan.md §4.6)."""
        self._name_key(o, key)
        self._in_force[o] = bytes(key)
        self.drop_recovery(o)

    def recover(self, o: int, seq: int, key: bytes, effective_s: int) -> None:
        """Record the recovery at ``seq`` of o's key: ``key`` (32 bytes, held by no one
        yet) takes force at ``effective_s`` unless refused or voided first (§4.6)."""
        if o in self._recoveries:
            raise ValueError("a member has at most one recovery pending")
        self._name_key(o, key)
        self._recoveries[o] = Recovery(seq, bytes(key), effective_s)
        self._next_effective = min(self._next_effective, effective_s)

    def pending_recovery(self, o: int) -> Recovery | None:
        """The recovery of ordinal o still pending (as of the last :meth:`settle`)."""
        return self._recoveries.get(o)

    def drop_recovery(self, o: int) -> None:
        """Forget o's pending recovery, if any: refused or voided, it never takes force."""
        if self._recoveries.pop(o, None) is not None:
            self._next_effective = min(
                (r.effective_s for r in self._recoveries.values()), default=ACTIVE
            )

    def settle(self, t: int) -> None:
        """Put in force every pending recovery whose ``effective`` time is ``t`` or
        earlier (§4.6): call it with each entry's time, in log order."""
        if t < self._next_effective:
            return
        due = [o for o, r in self._recoveries.items() if r.effective_s <= t]
        for o in due:
            recovery = self._recoveries.pop(o)
            if self.member_key(o) is None:
                self._first_by_recovery.add(o)
            self._in_force[o] = recovery.key
        self._next_effective = min(
            (r.effective_s for r in self._recoveries.values()), default=ACTIVE
        )

    def last_request(self, o: int) -> int:
        """The last request number of ordinal ``o``; :data:`NO_KEY` or :data:`KEY_UNKNOWN`."""
        return self._requests[o]

    # -- reading ---------------------------------------------------------------------

    def record(self, o: int) -> MemberRecord:
        """The member of ordinal ``o``, as a snapshot."""
        left_seq = self._left_seq[o]
        left_s = None if left_seq < 0 else self.left_s[o]
        juror = self._jurors.get(o)
        joined_s = self.joined_s[o]
        member_key = self.member_key(o)
        request = self._requests[o]
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
            member_key=None if member_key is None else encode(member_key),
            request=None if request < 0 else request,
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
