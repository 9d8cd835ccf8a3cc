"""Entries: the envelope, its RFC 8785 canonical bytes, and the rules that refuse bad ones.

specs/entries.md is the normative text; each rule below names its section there.
An entry's identity is its exact bytes: the chain hashes them and the tree's leaf
is ``SHA-256(0x00 || bytes)``, so a parser must refuse every byte string that is not
the one canonical serialisation of a valid envelope.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import rfc8785

from ledger.errors import EntryError

VERSION = 1
MAX_ENTRY_BYTES = 65_535
MAX_SAFE_INTEGER = 2**53 - 1
ZERO_HASH = "0" * 64
GENESIS_TYPE = "log.genesis"
RETIRED_TYPE = "log.retired"  # the last entry of a retired log (specs/log.md §7)

ENVELOPE_KEYS = frozenset({"version", "seq", "time", "type", "prev", "actor", "body"})
TIME_RE = re.compile(r"\A[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z\Z")
TYPE_RE = re.compile(r"\A[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+\Z")
ACTOR_RE = re.compile(r"\A[a-z][a-z0-9_]*(:[A-Za-z0-9._@-]{1,128})?\Z")
HASH_RE = re.compile(r"\A[0-9a-f]{64}\Z")
MAX_TYPE_LENGTH = 64


@dataclass(frozen=True, slots=True)
class Entry:
    """A parsed, valid entry; ``raw`` is the exact canonical bytes it came from."""

    version: int
    seq: int
    time: str
    type: str
    prev: str
    actor: str
    body: Mapping[str, Any]
    raw: bytes

    @property
    def hash(self) -> str:
        """The chain hash: lowercase hex SHA-256 of the bytes (specs/entries.md §4)."""
        return entry_hash(self.raw)


def entry_hash(raw: bytes) -> str:
    """Return the chain hash of entry bytes, as the next entry's ``prev`` carries it."""
    return hashlib.sha256(raw).hexdigest()


def format_time(moment: datetime) -> str:
    """Render a moment in the one time form entries allow: ``YYYY-MM-DDTHH:MM:SSZ`` in UTC."""
    if moment.tzinfo is None:
        raise EntryError("bad_envelope", "expected a timezone-aware time, found a naive one")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@lru_cache(maxsize=4096)
def parse_time(text: str) -> datetime:
    """Parse an entry time; refuse anything but a real UTC ``YYYY-MM-DDTHH:MM:SSZ``."""
    if not TIME_RE.match(text):
        raise EntryError("bad_envelope", f"expected time as YYYY-MM-DDTHH:MM:SSZ, found {text!r}")
    try:
        return datetime(
            int(text[0:4]),
            int(text[5:7]),
            int(text[8:10]),
            int(text[11:13]),
            int(text[14:16]),
            int(text[17:19]),
            tzinfo=UTC,
        )
    except ValueError:
        raise EntryError("bad_envelope", f"time {text!r} is not a real date and time") from None


# Canonical entries end with these envelope fields, in this key order (RFC 8785
# sorts keys), after the body; see :func:`read_envelope_tail`.
_TAIL_RE = re.compile(
    rb',"prev":"([0-9a-f]{64})","seq":(0|[1-9][0-9]{0,15}),'
    rb'"time":"([0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z)",'
    rb'"type":"([a-z0-9_.]{3,64})","version":1}'
)


def read_envelope_tail(raw: bytes) -> tuple[str, int, str, str] | None:
    """Read (prev, seq, time, type) from a canonical entry without parsing it.

    In canonical form these fields follow the body and hold no quotes or
    braces, so the last ``,"prev":"`` starts them. This is for re-reading entries
    that were fully validated when appended (``tally check``); it returns None
    when the bytes do not end in that shape, and callers then use
    :func:`parse_entry` to say why.
    """
    at = raw.rfind(b',"prev":"')
    if at < 0:
        return None
    match = _TAIL_RE.fullmatch(raw, at)
    if match is None:
        return None
    prev, seq, time, entry_type = match.groups()
    return prev.decode(), int(seq), time.decode(), entry_type.decode()


def encode_entry(
    *, seq: int, time: str, type: str, prev: str, actor: str, body: Mapping[str, Any]
) -> bytes:
    """Serialise an envelope to its canonical bytes, refusing anything a parser would refuse.

    The result always satisfies :func:`parse_entry`; the sequencer calls this with the
    seq, prev and time it assigns.
    """
    envelope = {
        "version": VERSION,
        "seq": seq,
        "time": time,
        "type": type,
        "prev": prev,
        "actor": actor,
        "body": dict(body),
    }
    _check_values(envelope)
    _check_envelope(envelope)
    raw = _canonical_bytes(envelope)
    if len(raw) > MAX_ENTRY_BYTES:
        raise EntryError("too_large", f"expected at most {MAX_ENTRY_BYTES} bytes, found {len(raw)}")
    return raw


def parse_entry(raw: bytes) -> Entry:
    """Parse and validate entry bytes (specs/entries.md §3), or raise :class:`EntryError`.

    The checks run cheapest first: size, UTF-8, JSON, number and key rules, then the
    byte-for-byte comparison with the canonical form, then the envelope fields.
    """
    if not raw:
        raise EntryError("empty", "expected an entry, found zero bytes")
    if len(raw) > MAX_ENTRY_BYTES:
        raise EntryError("too_large", f"expected at most {MAX_ENTRY_BYTES} bytes, found {len(raw)}")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise EntryError(
            "bad_utf8", f"entry is not UTF-8: {exc.reason} at byte {exc.start}"
        ) from None
    try:
        value = _DECODER.decode(text)
    except EntryError:
        raise
    except (ValueError, RecursionError) as exc:
        raise EntryError("malformed_json", f"entry is not JSON: {exc}") from None
    canonical = _canonical_bytes(value)
    if canonical != raw:
        raise EntryError(
            "not_canonical",
            "entry bytes are not the RFC 8785 canonical form of their JSON value "
            f"(first difference at byte {_first_difference(raw, canonical)})",
        )
    if not isinstance(value, dict):
        raise EntryError("bad_envelope", f"expected a JSON object, found {type(value).__name__}")
    _check_envelope(value)
    return Entry(
        version=value["version"],
        seq=value["seq"],
        time=value["time"],
        type=value["type"],
        prev=value["prev"],
        actor=value["actor"],
        body=value["body"],
        raw=raw,
    )


def _canonical_bytes(value: Any) -> bytes:
    """Return the RFC 8785 form of a value that holds no floats (specs/entries.md §2).

    For such values RFC 8785 differs from sorted, compact ``json.dumps`` only in key
    order: it sorts by UTF-16 code units, Python by code points, and the two can
    disagree only around characters beyond U+FFFF (four UTF-8 bytes, lead byte 0xF0
    or above). Output holding any such character takes the exact, slower path of
    the rfc8785 package; tests hold both paths to the package on random values.
    """
    try:
        fast = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode(
            "utf-8"
        )
    except UnicodeEncodeError:
        fast = b"\xf0"  # a lone surrogate: let the exact path refuse it
    if fast.isascii() or max(fast) < 0xF0:
        return fast
    try:
        canonical: bytes = rfc8785.dumps(value)
    except rfc8785.CanonicalizationError as exc:
        # Only an escaped lone surrogate (\ud800) gets here: valid JSON syntax whose
        # string has no Unicode form (RFC 8259 §8.2; refused as I-JSON, RFC 7493 §2.1).
        raise EntryError(
            "malformed_json", f"entry holds an escaped lone surrogate: {exc}"
        ) from None
    return canonical


def _safe_int(token: str) -> int:
    value = int(token)
    if not -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER:
        raise EntryError("integer_range", f"expected integers within ±(2^53-1), found {token}")
    return value


def _refuse_float(token: str) -> None:
    raise EntryError("float", f"expected integers only, found the number {token}")


def _refuse_constant(token: str) -> None:
    raise EntryError("malformed_json", f"expected JSON, found the non-JSON constant {token}")


def _unique_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise EntryError("duplicate_key", f"expected unique keys, found {key!r} twice")
            seen.add(key)
    return obj


def _check_values(value: Any) -> None:
    """Refuse floats, out-of-range integers, non-string keys and non-JSON types anywhere."""
    stack = [value]
    while stack:
        item = stack.pop()
        kind = type(item)
        if kind is str or kind is bool or item is None:
            continue
        if kind is int:
            if not -MAX_SAFE_INTEGER <= item <= MAX_SAFE_INTEGER:
                raise EntryError(
                    "integer_range", f"expected integers within ±(2^53-1), found {item}"
                )
        elif kind is dict:
            for key in item:
                if type(key) is not str:
                    raise EntryError("bad_envelope", f"expected string keys, found {key!r}")
            stack.extend(item.values())
        elif kind is list or kind is tuple:
            stack.extend(item)
        elif isinstance(item, float):
            raise EntryError("float", f"expected integers only, found the float {item!r}")
        else:
            raise EntryError("bad_envelope", f"expected a JSON value, found a {kind.__name__}")


def _check_envelope(value: Mapping[str, Any]) -> None:
    keys = set(value)
    if keys != ENVELOPE_KEYS:
        missing = sorted(ENVELOPE_KEYS - keys)
        extra = sorted(keys - ENVELOPE_KEYS)
        raise EntryError(
            "bad_envelope",
            f"expected exactly the keys {sorted(ENVELOPE_KEYS)}; missing {missing}, extra {extra}",
        )
    version = value["version"]
    if type(version) is not int or version != VERSION:
        raise EntryError("bad_envelope", f"expected version {VERSION}, found {version!r}")
    seq = value["seq"]
    if type(seq) is not int or seq < 0:
        raise EntryError("bad_envelope", f"expected seq a non-negative integer, found {seq!r}")
    time = value["time"]
    if not isinstance(time, str):
        raise EntryError("bad_envelope", f"expected time a string, found {time!r}")
    parse_time(time)
    entry_type = value["type"]
    if (
        not isinstance(entry_type, str)
        or len(entry_type) > MAX_TYPE_LENGTH
        or not TYPE_RE.match(entry_type)
    ):
        raise EntryError(
            "bad_envelope",
            f"expected type like 'claim.filed' (at most {MAX_TYPE_LENGTH} chars), "
            f"found {entry_type!r}",
        )
    prev = value["prev"]
    if not isinstance(prev, str) or not HASH_RE.match(prev):
        raise EntryError(
            "bad_envelope", f"expected prev as 64 lowercase hex digits, found {prev!r}"
        )
    actor = value["actor"]
    if not isinstance(actor, str) or not ACTOR_RE.match(actor):
        raise EntryError(
            "bad_envelope", f"expected actor like 'operator' or 'juror:J1', found {actor!r}"
        )
    if not isinstance(value["body"], dict):
        raise EntryError(
            "bad_envelope", f"expected body a JSON object, found {type(value['body']).__name__}"
        )


def _first_difference(a: bytes, b: bytes) -> int:
    for index, (x, y) in enumerate(zip(a, b, strict=False)):
        if x != y:
            return index
    return min(len(a), len(b))


_DECODER = json.JSONDecoder(
    parse_float=_refuse_float,
    parse_int=_safe_int,
    parse_constant=_refuse_constant,
    object_pairs_hook=_unique_object,
)
