"""Independent checks of Tally entry bytes and of the hash chain they form.

An entry is the exact RFC 8785 (JCS) serialisation of a JSON object, 1 to 65,535
bytes of UTF-8, with exactly these members (the envelope):

- ``version``: the integer 1;
- ``seq``: an integer >= 0, the entry's position in the log;
- ``time``: ``YYYY-MM-DDTHH:MM:SSZ``, a real UTC date-time (no fraction, no offset,
  no leap second);
- ``type``: dotted lowercase words, ``^[a-z][a-z0-9_]*(\\.[a-z][a-z0-9_]*)+$``,
  at most 64 characters;
- ``prev``: 64 lowercase hex digits, the SHA-256 of the previous entry's bytes;
- ``actor``: ``^[a-z][a-z0-9_]*(:[A-Za-z0-9._@-]{1,128})?$``;
- ``body``: an object.

A refused entry raises :class:`EntryError` whose ``kind`` is one of ``empty``,
``too_large``, ``bad_utf8``, ``malformed_json``, ``duplicate_key``, ``float``,
``integer_range``, ``not_canonical`` or ``bad_envelope``, checked in that order.

The chain rules (:class:`ChainVerifier`): entry n has seq n; its prev is the SHA-256
of entry n-1's bytes, 64 zeros for seq 0; times never decrease; seq 0, and only
seq 0, has type ``log.genesis``.
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from verifier.errors import ChainError, EntryError, KeyFormatError
from verifier.jcs import JSONValue, canonicalize, parse_canonical_fast, parse_strict
from verifier.note import parse_verifier_key

MAX_ENTRY_SIZE = 65_535
ENVELOPE_KEYS = frozenset({"version", "seq", "time", "type", "prev", "actor", "body"})
ENTRY_VERSION = 1
ZERO_PREV = "0" * 64
_ORIGIN = re.compile(r"[^\s+]+")
GENESIS_TYPE = "log.genesis"
RETIRED_TYPE = "log.retired"
"""The last entry of a retired log, naming its successor (specs/log.md §7)."""
MAX_TYPE_LENGTH = 64

# fullmatch throughout: with re.match, "$" would also accept a trailing newline.
_TIME = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})Z")
_TYPE = re.compile(r"[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+")
_PREV = re.compile(r"[0-9a-f]{64}")
_ACTOR = re.compile(r"[a-z][a-z0-9_]*(:[A-Za-z0-9._@-]{1,128})?")


@dataclass(frozen=True)
class Entry:
    """A checked entry: its envelope fields and its exact bytes."""

    version: int
    seq: int
    time: str
    type: str
    prev: str
    actor: str
    body: dict[str, JSONValue]
    raw: bytes

    @property
    def hash_hex(self) -> str:
        """Lowercase hex SHA-256 of the entry bytes: the next entry's ``prev``."""
        return entry_hash_hex(self.raw)


def entry_hash_hex(raw: bytes) -> str:
    """Return the lowercase hex SHA-256 of ``raw``, as a successor's ``prev`` holds it."""
    return hashlib.sha256(raw).hexdigest()


def parse_entry(raw: bytes) -> Entry:
    """Check entry bytes against every entry rule and return the parsed entry.

    Raises :class:`EntryError` naming the first rule broken (see the module doc).
    """
    raw = bytes(raw)
    if len(raw) <= MAX_ENTRY_SIZE:
        fast = parse_canonical_fast(raw)
        if fast is not None:
            return _check_envelope(fast, raw)
    if not raw:
        raise EntryError("empty", "entry has 0 bytes, expected 1 to 65535")
    if len(raw) > MAX_ENTRY_SIZE:
        raise EntryError("too_large", f"entry has {len(raw)} bytes, at most 65535 allowed")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise EntryError("bad_utf8", f"invalid UTF-8 at byte {exc.start}") from None
    value = parse_strict(text)
    try:
        canonical = canonicalize(value)
    except RecursionError:
        raise EntryError("malformed_json", "JSON nesting is too deep to check") from None
    if canonical != raw:
        raise EntryError("not_canonical", _first_difference(raw, canonical))
    return _check_envelope(value, raw)


def _first_difference(raw: bytes, canonical: bytes) -> str:
    at = next(
        (i for i, (a, b) in enumerate(zip(raw, canonical, strict=False)) if a != b),
        min(len(raw), len(canonical)),
    )
    return (
        f"entry is not RFC 8785 canonical JSON: first difference at byte {at}, "
        f"expected {canonical[at : at + 20]!r}, found {raw[at : at + 20]!r}"
    )


def _check_envelope(value: JSONValue, raw: bytes) -> Entry:
    if not isinstance(value, dict):
        raise EntryError("bad_envelope", f"entry must be a JSON object, found {_kind(value)}")
    keys = set(value)
    if keys != ENVELOPE_KEYS:
        missing = ", ".join(sorted(ENVELOPE_KEYS - keys)) or "none"
        extra = ", ".join(sorted(keys - ENVELOPE_KEYS)) or "none"
        raise EntryError("bad_envelope", f"envelope keys: missing {missing}; unexpected {extra}")

    version, seq, time = value["version"], value["seq"], value["time"]
    type_, prev, actor, body = value["type"], value["prev"], value["actor"], value["body"]
    # bool is a subclass of int in Python, but JSON true is not the number 1.
    if type(version) is not int or version != ENTRY_VERSION:
        raise EntryError("bad_envelope", f"version must be {ENTRY_VERSION}, found {_show(version)}")
    if type(seq) is not int or seq < 0:
        raise EntryError("bad_envelope", f"seq must be an integer >= 0, found {_show(seq)}")
    if not isinstance(time, str) or not is_valid_time(time):
        raise EntryError(
            "bad_envelope", f"time must be a real UTC YYYY-MM-DDTHH:MM:SSZ, found {_show(time)}"
        )
    if not isinstance(type_, str) or len(type_) > MAX_TYPE_LENGTH or not _TYPE.fullmatch(type_):
        raise EntryError(
            "bad_envelope",
            f"type must be dotted lowercase words of at most {MAX_TYPE_LENGTH} characters, "
            f"found {_show(type_)}",
        )
    if not isinstance(prev, str) or not _PREV.fullmatch(prev):
        raise EntryError(
            "bad_envelope", f"prev must be 64 lowercase hex digits, found {_show(prev)}"
        )
    if not isinstance(actor, str) or not _ACTOR.fullmatch(actor):
        raise EntryError("bad_envelope", f"actor must be <role>[:<id>], found {_show(actor)}")
    if not isinstance(body, dict):
        raise EntryError("bad_envelope", f"body must be a JSON object, found {_kind(body)}")
    return Entry(version, seq, time, type_, prev, actor, body, raw)


@functools.lru_cache(maxsize=4096)  # consecutive entries often share their second
def is_valid_time(text: str) -> bool:
    """Tell whether ``text`` is ``YYYY-MM-DDTHH:MM:SSZ`` naming a real UTC date-time."""
    m = _TIME.fullmatch(text)
    if m is None:
        return False
    try:
        year, month, day, hour, minute, second = (int(g) for g in m.groups())
        datetime(year, month, day, hour, minute, second)
    except ValueError:  # day 30 of February, hour 24, second 60, year 0, ...
        return False
    return True


def _show(value: JSONValue) -> str:
    text = repr(value)
    return text if len(text) <= 80 else f"{text[:80]}... ({len(text)} characters)"


def _kind(value: JSONValue) -> str:
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return "null" if value is None else f"{type(value).__name__} {_show(value)}"


MAX_AHEAD_SECONDS = 600
"""How far an entry's time may run ahead of a checkpoint covering it (log.md §3)."""


@dataclass(frozen=True)
class TimeBounds:
    """When this verifier received checkpoints of the log: how late each entry may be dated.

    ``received`` holds (tree size, time received) pairs in increasing size. An
    entry's time is at most :data:`MAX_AHEAD_SECONDS` after the time the verifier
    received the first checkpoint covering it (specs/log.md §3, ``log.time.ahead``);
    checkpoints carry no time of their own, so the verifier's clock is the measure.
    """

    received: tuple[tuple[int, str], ...] = ()

    def latest(self, seq: int) -> str | None:
        """The latest time entry ``seq`` may carry, or None if no checkpoint here covers it."""
        for size, at in self.received:
            if seq < size:
                moment = datetime.strptime(at, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
                later = moment + timedelta(seconds=MAX_AHEAD_SECONDS)
                return later.strftime("%Y-%m-%dT%H:%M:%SZ")
        return None

    def window(self, seq: int) -> tuple[int, bytes | None]:
        """(the first seq past the bound of ``seq``, that bound as ASCII bytes or None)."""
        for size, _ in self.received:
            if seq < size:
                latest = self.latest(seq)
                return size, None if latest is None else latest.encode("ascii")
        return 2**63, None


class ChainVerifier:
    """Check entries one by one against the entry rules and the chain rules.

    Start at seq 0 (the genesis entry), or resume at ``start_seq`` given the hash
    of entry ``start_seq - 1`` and, optionally, its time. ``bounds`` says when
    checkpoints covering the entries were received, for ``log.time.ahead``.
    """

    def __init__(
        self,
        start_seq: int = 0,
        start_prev: str | None = None,
        start_time: str | None = None,
        bounds: TimeBounds | None = None,
    ) -> None:
        if start_seq < 0:
            raise ValueError(f"start_seq must be >= 0, found {start_seq}")
        if start_seq == 0 and start_prev not in (None, ZERO_PREV):
            raise ValueError("the chain starts at seq 0 with prev = 64 zeros")
        if start_seq > 0 and start_prev is None:
            raise ValueError(f"resuming at seq {start_seq} needs the hash of entry {start_seq - 1}")
        if start_prev is not None and not _PREV.fullmatch(start_prev):
            raise ValueError(f"start_prev must be 64 lowercase hex digits, found {start_prev!r}")
        if start_time is not None and not is_valid_time(start_time):
            raise ValueError(f"start_time must be YYYY-MM-DDTHH:MM:SSZ, found {start_time!r}")
        self.next_seq = start_seq
        self.prev = start_prev if start_prev is not None else ZERO_PREV
        self.last_time = start_time
        self.bounds = bounds or TimeBounds()
        self.retired: int | None = None
        """The seq of the log's ``log.retired`` entry, once seen: nothing may follow it."""
        self.log_key: str | None = None
        """The log's verifier key string, from its genesis (for a retirement's successor)."""

    def _check_retirement(self, n: int, entry: Entry) -> None:
        if self.retired is not None:
            raise ChainError(
                n,
                f"expected nothing after the log's retirement at seq {self.retired}, "
                f"found {entry.type}",
                "log.retired",
            )
        if entry.type == RETIRED_TYPE:
            problem = check_successor(entry.body, self.log_key)
            if problem is not None:
                raise ChainError(n, problem, "log.retired")
            self.retired = n

    def add(self, raw: bytes) -> Entry:
        """Check the entry at position ``next_seq``; return it parsed.

        Raises :class:`EntryError` (with ``seq`` set to the position) if the
        bytes break an entry rule, :class:`ChainError` naming the position's seq if
        they break a chain rule.
        """
        n = self.next_seq
        try:
            entry = parse_entry(raw)
        except EntryError as exc:
            raise EntryError(exc.kind, exc.detail, seq=n) from None
        if entry.seq != n:
            raise ChainError(n, f"expected seq {n} next, found seq {entry.seq}", "log.seq")
        if entry.prev != self.prev:
            what = "64 zeros for the first entry" if n == 0 else f"SHA-256 of entry {n - 1}"
            raise ChainError(
                n, f"prev must be {self.prev} ({what}), found {entry.prev}", "log.prev"
            )
        if self.last_time is not None and entry.time < self.last_time:
            raise ChainError(
                n, f"time {entry.time} is before the previous {self.last_time}", "log.time.order"
            )
        if (n == 0) != (entry.type == GENESIS_TYPE):
            want = f"type {GENESIS_TYPE}" if n == 0 else f"any type but {GENESIS_TYPE}"
            raise ChainError(n, f"expected {want}, found {entry.type}", "log.genesis")
        if n == 0:
            key = entry.body.get("verifier_key")
            self.log_key = key if isinstance(key, str) else None
        self._check_retirement(n, entry)
        latest = self.bounds.latest(n)
        if latest is not None and entry.time > latest:
            raise ChainError(
                n,
                f"expected a time no later than {latest} ({MAX_AHEAD_SECONDS} s after this "
                f"verifier received a checkpoint covering it), found {entry.time}",
                "log.time.ahead",
            )
        self.next_seq = n + 1
        self.prev = entry.hash_hex
        self.last_time = entry.time
        return entry


def check_successor(body: dict[str, JSONValue], log_key: str | None) -> str | None:
    """What is wrong with a ``log.retired`` body (specs/log.md §7), or None.

    ``log_key`` is the retiring log's verifier key string (``name+hex8+base64``), if
    known; the successor must have an origin and a key of its own.
    """
    if set(body) != {"successor_origin", "successor_verifier_key"}:
        return f"expected exactly successor_origin and successor_verifier_key, found {sorted(body)}"
    origin, key = body["successor_origin"], body["successor_verifier_key"]
    if not isinstance(origin, str) or not _ORIGIN.fullmatch(origin):
        return f"expected the successor's origin (no spaces or '+'), found {_show(origin)}"
    if not isinstance(key, str):
        return f"expected the successor's verifier key, found {_show(key)}"
    try:
        successor = parse_verifier_key(key)
    except KeyFormatError as exc:
        return f"expected the successor's verifier key: {exc}"
    if successor.name != origin:
        return f"expected the successor's key named {origin!r}, found {successor.name!r}"
    if log_key is not None:
        if origin == log_key.split("+", 1)[0]:
            return f"expected a successor with an origin of its own, found this log's {origin!r}"
        if key == log_key:
            return "expected a successor with a key of its own, found this log's key"
    return None


def verify_chain(
    entries: Iterable[bytes],
    start_prev: str | None = None,
    start_seq: int = 0,
    bounds: TimeBounds | None = None,
) -> str:
    """Check a run of entry bytes from ``start_seq``; return the hex hash of the last.

    With no entries, returns ``start_prev`` (64 zeros from seq 0). Raises
    :class:`EntryError` or :class:`ChainError` as :meth:`ChainVerifier.add` does.
    """
    chain = ChainVerifier(start_seq, start_prev, bounds=bounds)
    for raw in entries:
        chain.add(raw)
    return chain.prev
