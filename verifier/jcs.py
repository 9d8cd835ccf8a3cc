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
from typing import Any, TypeAlias

from verifier.errors import EntryError

JSONValue: TypeAlias = bool | int | str | list["JSONValue"] | dict[str, "JSONValue"] | None

MAX_SAFE_INTEGER = 2**53 - 1
_SAFE_DIGITS = len(str(MAX_SAFE_INTEGER))

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


def parse_strict(text: str) -> JSONValue:
    """Parse JSON text into the Tally value subset.

    Raises :class:`EntryError` with kind ``malformed_json`` (syntax, NaN or Infinity,
    a string with a lone surrogate, nesting too deep), ``duplicate_key`` (anywhere),
    ``float`` (a number with a fraction or exponent) or ``integer_range``. When a
    text breaks several of these rules, the first one met in document order is
    reported, except that lone surrogates are looked for only after the parse.
    """
    try:
        value = json.loads(
            text,
            object_pairs_hook=_object_without_duplicates,
            parse_float=_refuse_float,
            parse_int=_safe_int,
            parse_constant=_refuse_constant,
        )
    except RecursionError:
        raise EntryError("malformed_json", "JSON nesting is too deep to check") from None
    except json.JSONDecodeError as exc:
        raise EntryError("malformed_json", f"{exc.msg} (character {exc.pos})") from None
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
    if value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, int):
        if abs(value) > MAX_SAFE_INTEGER:
            raise ValueError(f"integer {value} is outside +-(2**53 - 1)")
        out.append(str(value))
    elif isinstance(value, str):
        out.append(_quote(value))
    elif isinstance(value, list):
        out.append("[")
        for i, item in enumerate(value):
            if i:
                out.append(",")
            _write(item, out)
        out.append("]")
    elif isinstance(value, dict):
        for key in value:
            if not isinstance(key, str):
                raise ValueError(f"object keys must be strings, found {type(key).__name__}")
        out.append("{")
        for i, key in enumerate(sorted(value, key=_utf16_key)):
            if i:
                out.append(",")
            out.append(_quote(key))
            out.append(":")
            _write(value[key], out)
        out.append("}")
    else:
        raise ValueError(f"{type(value).__name__} is not in the Tally JSON subset")


def _quote(s: str) -> str:
    return '"' + "".join(_ESCAPES.get(c, c) for c in s) + '"'


def _utf16_key(key: str) -> bytes:
    # Big-endian UTF-16 bytes compare exactly as the code-unit sequences do.
    return key.encode("utf-16-be", errors="surrogatepass")


def _object_without_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj: dict[str, Any] = {}
    for key, value in pairs:
        if key in obj:
            raise EntryError("duplicate_key", f"object key {_short(key)} appears more than once")
        obj[key] = value
    return obj


def _refuse_float(text: str) -> None:
    raise EntryError("float", f"number {text} has a fraction or exponent; only integers allowed")


def _refuse_constant(text: str) -> None:
    raise EntryError("malformed_json", f"{text} is not JSON")


def _safe_int(text: str) -> int:
    # Check the digit count first: int() of a huge digit string is slow or refused.
    if len(text.lstrip("-")) > _SAFE_DIGITS or abs(value := int(text)) > MAX_SAFE_INTEGER:
        shown = text if len(text) <= 40 else text[:40] + "..."
        raise EntryError("integer_range", f"integer {shown} is outside +-(2**53 - 1)")
    return value


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
