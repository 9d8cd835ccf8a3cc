"""The statement bundle's format (specs/statement.md §1): reading it and its fields.

:func:`parse_bundle_bytes` reads a bundle strictly; a saved error answer of the
server (a problem document, specs/http.md §Errors) is named as such instead of
being checked as a bundle. The field readers raise :class:`StatementError` naming
the check whose data is malformed.
"""

from __future__ import annotations

from typing import Any

from verifier.b64 import Base64Error, decode, decode_sized
from verifier.errors import ProblemFileError
from verifier.merkle import HASH_SIZE
from verifier.problem import as_problem
from verifier.statement.errors import StatementError
from verifier.strict_json import StrictJSONError, loads_object

FORMAT = "tally-statement/v1"
BUNDLE_KEYS = frozenset(
    {"format", "origin", "verifier_key", "member", "period", "checkpoint", "entries"}
    | {"contributions"}
)


def parse_bundle_bytes(data: bytes) -> dict[str, Any]:
    """Strict JSON (:mod:`verifier.strict_json`) holding one object: the bundle, unchecked.

    Raises :class:`StatementError` (check ``bundle.json``) if it is not, and
    :class:`~verifier.errors.ProblemFileError` if it is the server's error answer.
    """
    try:
        doc = loads_object(data)
    except StrictJSONError as exc:
        raise StatementError("bundle.json", str(exc)) from None
    problem = as_problem(doc) if "format" not in doc else None
    if problem is not None:
        raise ProblemFileError(problem, "a statement bundle")
    return doc


def integer(value: object, what: str, check: str) -> int:
    """A JSON integer >= 0."""
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise StatementError(check, f"{what}: expected an integer >= 0, found {value!r}")
    return value


def raw_bytes(value: object, what: str, check: str) -> bytes:
    """Bytes of any length, as canonical standard base64."""
    try:
        return decode(value, what)
    except Base64Error as exc:
        raise StatementError(check, str(exc)) from None


def hash_bytes(value: object, what: str, check: str) -> bytes:
    """A 32-byte hash, as canonical standard base64."""
    try:
        return decode_sized(value, HASH_SIZE, what)
    except Base64Error as exc:
        raise StatementError(check, str(exc)) from None
