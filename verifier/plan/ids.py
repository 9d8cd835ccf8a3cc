"""Identifier patterns of the plan (specs/plan.md §1) and small strict decoders.

- member: ``m-`` + 20 lower-case hex digits;
- claim: ``c-`` + the decimal seq of its ``claim.filed`` entry (no sign, no leading zeros);
- the log origin, which is the log key's name (specs/checkpoint.md §2): non-empty,
  no white space, no ``+``.

Each checker takes ``object`` so that values read from JSON of the wrong type are
refused with the plan's typed error rather than a ``TypeError``.
"""

from __future__ import annotations

import re

from verifier.note import is_valid_name
from verifier.plan.errors import IdError, PlanError

MEMBER_PATTERN = re.compile(r"m-[0-9a-f]{20}")
CLAIM_PATTERN = re.compile(r"c-(?:0|[1-9][0-9]*)")
HEX64_PATTERN = re.compile(r"[0-9a-f]{64}")
OPERATOR_ACTOR = re.compile(r"operator(:[A-Za-z0-9._@-]{1,128})?")
"""The actor of a plan entry the operator writes (§3): ``operator`` or ``operator:<name>``."""

U64_MAX = 2**64 - 1


def show(value: object) -> str:
    """A short description of ``value`` for an error message."""
    text = repr(value)
    if len(text) > 80:
        text = text[:77] + "..."
    return f"{type(value).__name__} {text}"


def check_member(value: object, what: str = "member id") -> str:
    """Return ``value`` if it is a member id (``m-`` + 20 lower-case hex), else raise."""
    if not isinstance(value, str) or not MEMBER_PATTERN.fullmatch(value):
        raise IdError(f"{what} must be 'm-' + 20 lower-case hex digits, found {show(value)}")
    return value


def check_claim(value: object, what: str = "claim id") -> str:
    """Return ``value`` if it is a claim id (``c-`` + canonical decimal), else raise."""
    if not isinstance(value, str) or not CLAIM_PATTERN.fullmatch(value):
        raise IdError(
            f"{what} must be 'c-' + a decimal seq without leading zeros, found {show(value)}"
        )
    return value


def check_origin(value: object) -> str:
    """Return ``value`` if it is a log origin (a key name: no white space, no '+'), else raise."""
    if not isinstance(value, str) or not is_valid_name(value):
        raise IdError(
            f"log origin must be a non-empty key name without white space or '+', "
            f"found {show(value)}"
        )
    return value


def check_int(value: object, what: str, error: type[PlanError]) -> int:
    """Return ``value`` if it is an ``int`` (``bool`` is not), else raise ``error``."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise error(f"{what} must be an integer, found {show(value)}")
    return value


def check_hex32(value: object, what: str, error: type[PlanError]) -> bytes:
    """Decode 64 lower-case hex digits to 32 bytes, else raise ``error``."""
    if not isinstance(value, str) or not HEX64_PATTERN.fullmatch(value):
        raise error(f"{what} must be 64 lower-case hex digits, found {show(value)}")
    return bytes.fromhex(value)
