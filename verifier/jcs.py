"""Strict JSON parsing and RFC 8785 (JCS) canonical serialisation for Tally entries.

Tally entries use a subset of JSON: null, true, false, integers in the I-JSON safe
range [-(2**53 - 1), 2**53 - 1], strings, arrays and objects. There are no floats.
For that subset, RFC 8785 section 3.2 reduces to:

- no whitespace between tokens;
- object members sorted by the UTF-16 code units of their keys (section 3.2.3);
- integers in plain decimal (ECMAScript ``Number.prototype.toString``);
- strings as ECMAScript ``JSON.stringify`` writes them (section 3.2.2.2): ``"`` and
  ``\\`` escaped, U+0008/9/A/C/D as ``\\b \\t \\n \\f \\r``, other characters below
  U+0020 as ``\\u00xx`` with lowercase hex, everything else literal in UTF-8
  (including non-ASCII, ``/`` and U+007F).

:func:`parse_strict` refuses what the subset excludes, each with its own
:class:`EntryError` kind; :func:`canonicalize` writes the canonical bytes.
"""

from __future__ import annotations

import json
import re
from typing import Any, TypeAlias

from verifier.errors import EntryError
from verifier.strict_json import (
    DUPLICATE_KEY,
    FLOAT,
    INTEGER_RANGE,
    SAFE_INTEGER,
    StrictJSONError,
    loads,
)

JSONValue: TypeAlias = bool | int | str | list["JSONValue"] | dict[str, "JSONValue"] | None

MAX_SAFE_INTEGER = SAFE_INTEGER.largest
_ENTRY_KINDS = {DUPLICATE_KEY: "duplicate_key", FLOAT: "float", INTEGER_RANGE: "integer_range"}
"""Entry error kinds (specs/entries.md) of strict-JSON refusals; the rest are malformed_json."""

_ESCAPES = {
    '"': '\\"',
    "\\": "\\\\",
    "\b": "\\b",
    "\t": "\\t",
    "\n": "\\n",
    "\f": "\\f",
    "\r": "\\r",
}
for _code in range(0x20):
    _ESCAPES.setdefault(chr(_code), f"\\u{_code:04x}")
_PLAIN = re.compile(r'[^"\\\x00-\x1f]*')
"""A string with no character :data:`_ESCAPES` changes."""


# An integer token of 16 or more digits (possibly beyond 2**53 - 1). In canonical
# text every value starts after ":", "," or "["; a string holding such a run after
# one of these only sends its entry down the strict path.
_LONG_INTEGER = re.compile(rb"[:,\[]-?[0-9]{16}")


def parse_canonical_fast(raw: bytes) -> JSONValue | None:
    """Return the value of ``raw`` if it is certainly canonical Tally JSON, else ``None``.

    A fast path for the common case, used before :func:`parse_strict` and
    :func:`canonicalize`, which decide (and explain) everything it declines. It
    parses with the standard library's C parser, re-encodes with its C encoder
    (sorted keys, compact, literal UTF-8) and accepts only if the bytes come back
    identical and nothing the two could disagree on is present:

    - a float, NaN or Infinity (refused while parsing) or an escaped lone surrogate
      (re-encoded literally, so not equal): declined, the strict path names them;
    - a duplicate key: the parser keeps one value, so the re-encoding is shorter;
    - an integer of 16 or more digits, which may be beyond the safe range: declined;
    - a character beyond U+FFFF (a 4-byte UTF-8 sequence, lead byte 0xF0 or more):
      Python sorts keys by code point, RFC 8785 §3.2.3 by UTF-16 code unit, and
      only such characters can make the two orders differ: declined;
    - anything but an object at the top: declined.

    For every other text, the standard encoder writes exactly RFC 8785 §3.2.2.2's
    strings (the same escapes, lowercase ``\\u00xx``) and integers, so equality
    means canonical. Tests compare the two paths on random and mutated texts.
    """
    if not raw.startswith(b"{") or not (raw.isascii() or max(raw) < 0xF0):
        return None
    if _LONG_INTEGER.search(raw) is not None:
        return None
    try:
        text = raw.decode("utf-8")
        value, end = _FAST_DECODER.raw_decode(text)
        if end != len(text) or _FAST_ENCODER.encode(value) != text:
            return None
    except (ValueError, RecursionError, _DeclinedError):  # UnicodeError is a ValueError
        return None
    return value  # type: ignore[no-any-return]


class _DeclinedError(Exception):
    pass


def _decline(text: str) -> None:
    raise _DeclinedError(text)


_FAST_DECODER = json.JSONDecoder(parse_float=_decline, parse_constant=_decline)
_FAST_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def sorted_compact(value: object) -> str:
    """The standard library's sorted, compact, literal-UTF-8 text of ``value``.

    RFC 8785 for values where the two cannot disagree (see
    :func:`parse_canonical_fast`); raises ``TypeError``/``ValueError`` for values
    JSON cannot hold.
    """
    return _FAST_ENCODER.encode(value)


def parse_strict(text: str) -> JSONValue:
    """Parse JSON text into the Tally value subset.

    Parses with :mod:`verifier.strict_json`, then refuses lone surrogates. Raises
    :class:`EntryError` with kind ``malformed_json`` (syntax, NaN or Infinity, a
    string with a lone surrogate, nesting too deep), ``duplicate_key`` (anywhere),
    ``float`` (a number with a fraction or exponent) or ``integer_range``. When a
    text breaks several of these rules, the first one met in document order is
    reported, except that lone surrogates are looked for only after the parse.
    """
    try:
        value = loads(text, limit=SAFE_INTEGER)
    except StrictJSONError as exc:
        raise EntryError(_ENTRY_KINDS.get(exc.kind, "malformed_json"), str(exc)) from None
    _refuse_lone_surrogates(value)
    return value  # type: ignore[no-any-return]


def canonicalize(value: object) -> bytes:
    """Return the RFC 8785 canonical UTF-8 bytes of ``value`` (subset above).

    Raises ``ValueError`` for values outside the subset (floats, integers out of the
    safe range, non-string keys, lone surrogates).
    """
    parts: list[str] = []
    _write(value, parts)
    return "".join(parts).encode("utf-8")


def _write(value: object, out: list[str]) -> None:
    if isinstance(value, list):
        out.append("[")
        for i, item in enumerate(value):
            if i:
                out.append(",")
            _write(item, out)
        out.append("]")
    elif isinstance(value, dict):
        _write_object(value, out)
    else:
        out.append(_scalar(value))


def _write_object(value: dict[object, object], out: list[str]) -> None:
    keys: list[str] = []
    for key in value:
        if not isinstance(key, str):
            raise ValueError(f"object keys must be strings, found {type(key).__name__}")
        keys.append(key)
    out.append("{")
    for i, key in enumerate(sorted(keys, key=_utf16_key)):
        if i:
            out.append(",")
        out.append(_quote(key))
        out.append(":")
        _write(value[key], out)
    out.append("}")


def _scalar(value: object) -> str:
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        if abs(value) > MAX_SAFE_INTEGER:
            raise ValueError(f"integer {value} is outside +-(2**53 - 1)")
        return str(value)
    if isinstance(value, str):
        return _quote(value)
    raise ValueError(f"{type(value).__name__} is not in the Tally JSON subset")


def _quote(s: str) -> str:
    if _PLAIN.fullmatch(s):  # nothing to escape: most strings
        return '"' + s + '"'
    return '"' + "".join(_ESCAPES.get(c, c) for c in s) + '"'


def _utf16_key(key: str) -> bytes:
    # Big-endian UTF-16 bytes compare exactly as the code-unit sequences do.
    return key.encode("utf-16-be", errors="surrogatepass")


def _short(s: str) -> str:
    text = repr(s)
    return text if len(text) <= 60 else f"{text[:60]}... ({len(s)} characters)"


def _refuse_lone_surrogates(value: Any) -> None:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            strings = [item]
        elif isinstance(item, list):
            stack.extend(item)
            continue
        elif isinstance(item, dict):
            strings = list(item)
            stack.extend(item.values())
        else:
            continue
        for s in strings:
            try:
                s.encode("utf-8")
            except UnicodeEncodeError:
                raise EntryError(
                    "malformed_json", f"string {_short(s)} contains a lone surrogate escape"
                ) from None
