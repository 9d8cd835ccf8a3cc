"""Strict JSON: the one parser for every JSON text the verifier reads.

A server's answer, a statement bundle, a dump line, an evidence or receipt file,
the saved state and an entry's bytes are all read here, and all strictly: a key
twice in one object, a number with a fraction or exponent, ``NaN`` or
``Infinity``, an integer beyond the reader's limit, bad UTF-8 and nesting too deep
to read are each refused with a :class:`StrictJSONError` whose ``kind`` names the
rule and whose message says what was expected and what was found. Callers that
have their own error types (entries: :class:`~verifier.errors.EntryError`, answers:
:class:`~verifier.errors.ServerError`) wrap it.

Whatever the text, nothing but a :class:`StrictJSONError` comes out: Python's
parser's ``ValueError`` and ``RecursionError`` are translated.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

ENCODING = "encoding"
SYNTAX = "syntax"
DEPTH = "depth"
DUPLICATE_KEY = "duplicate_key"
FLOAT = "float"
CONSTANT = "constant"
INTEGER_RANGE = "integer_range"
NOT_OBJECT = "not_object"


class StrictJSONError(ValueError):
    """JSON text outside the strict subset; ``kind`` names the rule that refused it."""

    def __init__(self, kind: str, expected: str, found: str) -> None:
        super().__init__(f"expected {expected}, found {found}")
        self.kind = kind
        self.expected = expected
        self.found = found


@dataclass(frozen=True)
class IntegerLimit:
    """The largest magnitude an integer may have, and how to say that one is beyond it."""

    largest: int
    beyond: str

    def check(self, text: str) -> int:
        """The integer ``text``, or :class:`StrictJSONError` if it is beyond the limit."""
        # Counting digits first avoids int()'s cost and digit limit on a long string.
        if len(text.lstrip("-")) > len(str(self.largest)) or abs(value := int(text)) > self.largest:
            shown = text if len(text) <= 40 else text[:40] + "..."
            raise StrictJSONError(
                INTEGER_RANGE, "strict JSON", f"the number {shown}, {self.beyond}"
            )
        return value


SAFE_INTEGER = IntegerLimit(2**53 - 1, "outside +-(2**53 - 1)")
"""I-JSON's safe range: every number in an entry (specs/entries.md), a bundle or a file."""
ANSWER_INTEGER = IntegerLimit(10**19 - 1, "longer than any the contract has")
"""Every number in the HTTP contract is below 2**62, 19 digits; each field checks its range."""

_TYPE_NAMES: dict[type[Any], str] = {
    dict: "an object",
    list: "an array",
    str: "a string",
    int: "an integer",
    bool: "a boolean",
}


def type_name(kind: type[Any]) -> str:
    """A parsed JSON value's Python type in words: ``an object``, ``an array``, ..."""
    return _TYPE_NAMES.get(kind, kind.__name__)


def kind_of(value: object) -> str:
    """A JSON value's kind in words: ``an object``, ``an array``, ``null``, ..."""
    return "null" if value is None else type_name(type(value))


def loads(data: str | bytes, *, limit: IntegerLimit = SAFE_INTEGER) -> Any:
    """Parse ``data`` (text, or UTF-8 bytes) strictly; raise :class:`StrictJSONError`."""
    if isinstance(data, bytes):
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise StrictJSONError(
                ENCODING, "UTF-8 JSON", f"an invalid byte at {exc.start}"
            ) from None
        unit = "bytes"
    else:
        text, unit = data, "characters"
    try:
        return json.loads(
            text,
            object_pairs_hook=_no_duplicates,
            parse_int=limit.check,
            parse_float=_no_float,
            parse_constant=_no_constant,
        )
    except json.JSONDecodeError as exc:
        raise StrictJSONError(
            SYNTAX,
            "JSON",
            f"a syntax error: {exc.msg} at character {exc.pos} of {len(data)} {unit}",
        ) from None
    except RecursionError:
        raise StrictJSONError(DEPTH, "JSON", "nesting too deep to read") from None


def loads_object(data: str | bytes, *, limit: IntegerLimit = SAFE_INTEGER) -> dict[str, Any]:
    """:func:`loads`, for a text that must hold one JSON object."""
    value = loads(data, limit=limit)
    if not isinstance(value, dict):
        raise StrictJSONError(NOT_OBJECT, "a JSON object", kind_of(value))
    return value


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj: dict[str, Any] = {}
    for key, value in pairs:
        if key in obj:
            raise StrictJSONError(
                DUPLICATE_KEY, "strict JSON", f"the key {key[:60]!r} twice in one object"
            )
        obj[key] = value
    return obj


def _no_float(text: str) -> None:
    raise StrictJSONError(FLOAT, "strict JSON", f"the number {text[:40]}, which is not an integer")


def _no_constant(text: str) -> None:
    raise StrictJSONError(CONSTANT, "strict JSON", f"{text}, which is not JSON")
