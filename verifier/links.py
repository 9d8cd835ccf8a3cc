"""The hash chain and the tree alone, at speed: a monitor's replay (specs/log.md §3).

A full audit (:mod:`verifier.audit`) parses every entry and checks every entry rule.
A monitor that only needs to know that the log is one unbroken chain hashing to the
signed root can read the chain fields from each entry's tail instead. In RFC 8785
form (specs/entries.md §2) the envelope members after ``body`` come last, in the
fixed order ``prev``, ``seq``, ``time``, ``type``, ``version``, and hold no quote
or brace, so the last ``,"prev":"`` of the bytes starts them. For an entry that
passes the entry rules this reads exactly the fields a parser would; for one that
does not, it checks the chain the tail states, and only the full audit says the
entry itself is malformed. An entry whose bytes do not end in that shape is a
break: its chain fields cannot be read.

The chain rules checked are those of log.md §3 and the genesis rule of §2: seq n at
position n, ``prev`` the hex SHA-256 of the previous entry's bytes (64 zeros first),
``time`` never decreasing, type ``log.genesis`` at seq 0 and nowhere else.

A run of consecutive entries is scanned on its own (:func:`scan`) into a
:class:`Segment`: its first entry's ``prev`` and time, its last entry's hash and
time, the breaks inside it, and the roots of the aligned perfect subtrees that its
leaves make up (RFC 9162 §2.1.1 leaf hashes). :class:`LinkReplay` joins segments in
order, checking each seam and folding the subtree roots into a
:class:`~verifier.compact.CompactTree`, so that segments can be scanned in parallel
(:mod:`verifier.dump` does so for an offline dump) and still give exactly the root a
signed checkpoint must carry.
"""

from __future__ import annotations

import binascii
import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from verifier.compact import CompactTree
from verifier.entry import GENESIS_TYPE, RETIRED_TYPE, ZERO_PREV, TimeBounds
from verifier.merkle import node_hash

MAX_BREAKS = 100
"""Breaks kept per segment and per replay; the rest are only counted."""

_TAIL = re.compile(
    rb',"prev":"([0-9a-f]{64})","seq":(0|[1-9][0-9]{0,15}),'
    rb'"time":"([0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z)",'
    rb'"type":"([a-z0-9_.]{1,64})","version":1}'
)
_REST = re.compile(
    rb'[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z","type":"[a-z0-9_.]{1,64}","version":1}'
)
_GENESIS = GENESIS_TYPE.encode("ascii")
_RETIRED = RETIRED_TYPE.encode("ascii")
_GENESIS_TAIL = b'","type":"log.genesis","version":1}'
_RETIRED_TAIL = b'","type":"log.retired","version":1}'


@dataclass(frozen=True)
class Break:
    """A chain rule broken at ``seq``."""

    seq: int
    message: str


@dataclass
class Segment:
    """What a run of ``count`` consecutive entries from ``start`` says (see the module doc).

    ``first_prev`` and ``first_time`` are what the first entry states (``None`` if
    its tail is unreadable), for the seam with the run before; ``last_hash`` (hex)
    and ``last_time`` are the last entry's, for the seam after. ``blocks`` are
    ``(height, root)`` of the aligned perfect subtrees covering the run's leaves, in
    order.
    """

    start: int
    count: int = 0
    first_prev: bytes | None = None
    first_time: bytes | None = None
    last_hash: bytes = b""
    last_time: bytes | None = None
    blocks: list[tuple[int, bytes]] = field(default_factory=list)
    breaks: list[Break] = field(default_factory=list)
    break_count: int = 0
    retired: int | None = None
    """The position of a ``log.retired`` entry in the run (log.md §7): nothing may follow."""


def scan(raws: Iterable[bytes], start: int, bounds: TimeBounds | None = None) -> Segment:
    """Scan entries at positions ``start``, ``start + 1``, ... (see the module doc).

    With ``bounds``, the first entry of the run dated later than its bound (when this
    verifier received a checkpoint covering it, plus the skew of specs/log.md §3) is
    noted as a ``log.time.ahead`` break; times never decrease along an unbroken
    chain, so the entries after it are no news.
    """
    raws = list(raws)
    segment = Segment(start, len(raws))
    sha256, hexlify = hashlib.sha256, binascii.b2a_hex
    rest = _REST.fullmatch
    position = start
    prev = b""  # hex of the previous entry in this run
    last_time = b""
    ahead, limit_end, limit = False, -1, None
    for raw in raws:
        # The whole expected tail, from prev on, at fixed offsets; anything else (and
        # the run's first entry, whose prev is checked at the seam) is read by the
        # regular expression, to say what is wrong.
        at = raw.rfind(b',"prev":"')
        head = b'%s","seq":%d,"time":"' % (prev, position)
        t = at + 9 + len(head)
        if (
            position != start
            and at >= 0
            and raw.startswith(head, at + 9)
            and rest(raw, t) is not None
            and raw[t : t + 20] >= last_time
            and raw.endswith(_GENESIS_TAIL) == (position == 0)
            and not raw.endswith(_RETIRED_TAIL)
            and segment.retired is None
        ):
            last_time = raw[t : t + 20]
        else:
            last_time = _scan_slowly(segment, raw, position, prev, last_time)
        if bounds is not None and not ahead:
            if position >= limit_end:
                limit_end, limit = bounds.window(position)
            if limit is not None and last_time > limit:
                ahead = True
                _note(
                    segment,
                    position,
                    f"log.time.ahead: expected a time no later than {_text(limit)}, found "
                    f"{_text(last_time)}",
                )
        prev = hexlify(sha256(raw).digest())
        position += 1
    segment.last_hash = prev
    segment.last_time = last_time or None
    segment.blocks = _blocks([sha256(b"\x00" + raw).digest() for raw in raws], start)
    return segment


def _blocks(nodes: list[bytes], start: int) -> list[tuple[int, bytes]]:
    """The ``(height, root)`` of the aligned perfect subtrees over leaves ``start``, ... in order.

    Level by level: a node at an odd position whose left sibling lies before the
    run, or the last node when its right sibling lies after it, is the root of a
    maximal block; the others pair up into the next level (RFC 9162 §2.1.1 nodes).
    """
    sha256 = hashlib.sha256
    left: list[tuple[int, bytes]] = []
    right: list[tuple[int, bytes]] = []
    height, offset = 0, start
    while nodes:
        if offset & 1:
            left.append((height, nodes[0]))
            nodes = nodes[1:]
            offset += 1
        if len(nodes) & 1:
            right.append((height, nodes[-1]))
            nodes = nodes[:-1]
        nodes = [
            sha256(b"\x01" + a + b).digest() for a, b in zip(nodes[::2], nodes[1::2], strict=True)
        ]
        height, offset = height + 1, offset >> 1
    return left + right[::-1]


def _scan_slowly(segment: Segment, raw: bytes, position: int, prev: bytes, last: bytes) -> bytes:
    """Check one entry's tail with the regular expression; return the time to carry on with."""
    tail = _TAIL.fullmatch(raw, max(0, raw.rfind(b',"prev":"')))
    if tail is None:
        _note(
            segment,
            position,
            "the entry does not end in the canonical envelope tail "
            '(,"prev":"<hex>","seq":n,"time":"...","type":"...","version":1}), '
            "so its chain fields cannot be read",
        )
        return last
    stated_prev, seq, time, entry_type = tail.groups()
    if position == segment.start:
        segment.first_prev, segment.first_time = stated_prev, time
    elif stated_prev != prev:
        _note(
            segment,
            position,
            f"log.prev: prev must be {_text(prev)} (SHA-256 of entry "
            f"{position - 1}), found {_text(stated_prev)}",
        )
    if int(seq) != position:
        _note(segment, position, f"log.seq: expected seq {position} here, found {int(seq)}")
    if time < last:
        _note(segment, position, f"log.time.order: {_text(time)} is before {_text(last)}")
    if (position == 0) != (entry_type == _GENESIS):
        _type_break(segment, position, entry_type)
    if segment.retired is not None and position == segment.retired + 1:
        _note(segment, position, f"log.retired: an entry after the retirement at {segment.retired}")
    if entry_type == _RETIRED:
        segment.retired = position
    return time


def _type_break(segment: Segment, position: int, entry_type: bytes) -> None:
    want = f"type {GENESIS_TYPE}" if position == 0 else f"any type but {GENESIS_TYPE}"
    _note(segment, position, f"log.genesis: expected {want}, found {_text(entry_type)}")


def _note(segment: Segment, seq: int, message: str) -> None:
    segment.break_count += 1
    if len(segment.breaks) < MAX_BREAKS:
        segment.breaks.append(Break(seq, f"seq {seq}: {message}"))


def _text(value: bytes | None) -> str:
    return "(unreadable)" if value is None else value.decode("ascii", "replace")


class LinkReplay:
    """Join scanned segments in order into the chain's end and the tree's frontier.

    Starts at genesis or at a known entry: ``start_seq`` with the hex hash and time
    of entry ``start_seq - 1`` and the tree's frontier at that size.
    """

    def __init__(
        self,
        start_seq: int = 0,
        prev: str = ZERO_PREV,
        last_time: str | None = None,
        frontier: Iterable[bytes] = (),
    ) -> None:
        self.tree = CompactTree(start_seq, list(frontier))
        self.prev = prev.encode("ascii")
        self.last_time = last_time.encode("ascii") if last_time is not None else None
        self.breaks: list[Break] = []
        self.break_count = 0
        self.retired: int | None = None
        """A retirement that ended the segments so far (log.md §7)."""

    @property
    def next_seq(self) -> int:
        """The position of the next entry expected."""
        return self.tree.size

    def join(self, segment: Segment) -> None:
        """Append the next segment; it must start at :attr:`next_seq`."""
        if segment.start != self.next_seq:
            raise ValueError(f"expected a segment from {self.next_seq}, found {segment.start}")
        if segment.count == 0:
            return
        first = segment.start
        if segment.first_prev is not None and segment.first_prev != self.prev:
            what = "64 zeros for the first entry" if first == 0 else f"SHA-256 of entry {first - 1}"
            self._add(
                Break(
                    first,
                    f"seq {first}: log.prev: prev must be {_text(self.prev)} ({what}), "
                    f"found {_text(segment.first_prev)}",
                )
            )
        if (
            segment.first_time is not None
            and self.last_time is not None
            and segment.first_time < self.last_time
        ):
            self._add(
                Break(
                    first,
                    f"seq {first}: log.time.order: {_text(segment.first_time)} is before "
                    f"{_text(self.last_time)}",
                )
            )
        if self.retired is not None:
            self._add(
                Break(
                    first,
                    f"seq {first}: log.retired: an entry after the retirement at {self.retired}",
                )
            )
            self.retired = None  # said once
        for item in segment.breaks:
            self._add(item)
        if segment.retired is not None and segment.retired == first + segment.count - 1:
            self.retired = segment.retired
        self.break_count += segment.break_count - len(segment.breaks)
        for height, root in segment.blocks:
            self._append_block(height, root)
        self.prev = segment.last_hash
        if segment.last_time is not None:
            self.last_time = segment.last_time

    def _append_block(self, height: int, root: bytes) -> None:
        # A perfect subtree of 2**height leaves starting at a multiple of its size:
        # the low bits of the size are clear, so it carries as a single leaf would
        # one level up.
        tree = self.tree
        if tree.size & ((1 << height) - 1):
            raise ValueError(f"a block of height {height} cannot start at {tree.size}")
        node, carry = root, tree.size >> height
        while carry & 1:
            node = node_hash(tree.frontier.pop(), node)
            carry >>= 1
        tree.frontier.append(node)
        tree.size += 1 << height

    def _add(self, item: Break) -> None:
        self.break_count += 1
        if len(self.breaks) < MAX_BREAKS:
            self.breaks.append(item)

    @property
    def last_hash(self) -> str:
        """The hex hash of the last entry joined (64 zeros before genesis)."""
        return self.prev.decode("ascii")
