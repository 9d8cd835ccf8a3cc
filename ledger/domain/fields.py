"""Strict readers of a plan entry's body (specs/plan.md §1, §3).

"Every body is an object whose keys are exactly those listed (no others)": a
:class:`Body` refuses a missing or extra key with ``entry.keys``, and each reader
refuses a value of the wrong type or form with ``entry.value``, saying what was
expected and what was found. Integers are never booleans.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterable

from ledger.domain.errors import RuleError
from ledger.errors import EntryError
from ledger.log.entry import Entry, parse_time

MEMBER_RE = re.compile(r"\Am-[0-9a-f]{20}\Z")
CLAIM_RE = re.compile(r"\Ac-(0|[1-9][0-9]*)\Z")
HEX64_RE = re.compile(r"\A[0-9a-f]{64}\Z")


class Body:
    """One entry's body, read strictly against the keys its type lists."""

    def __init__(self, entry: Entry, keys: Iterable[str]) -> None:
        self.entry = entry
        wanted = set(keys)
        found = set(entry.body)
        if found != wanted:
            raise RuleError(
                "entry.keys",
                f"{entry.type} has the keys {sorted(wanted)}; missing "
                f"{sorted(wanted - found)}, unexpected {sorted(found - wanted)}",
            )

    def _bad(self, key: str, expected: str) -> RuleError:
        value = self.entry.body[key]
        return RuleError(
            "entry.value", f"{self.entry.type}: expected {key} {expected}, found {value!r}"
        )

    def raw(self, key: str) -> object:
        """The value of ``key`` as parsed."""
        return self.entry.body[key]

    def integer(self, key: str, minimum: int = 0) -> int:
        """An integer (never a boolean) of at least ``minimum``."""
        value = self.entry.body[key]
        if type(value) is not int or value < minimum:
            raise self._bad(key, f"an integer >= {minimum}")
        return value

    def text(self, key: str) -> str:
        """A string, possibly empty."""
        value = self.entry.body[key]
        if not isinstance(value, str):
            raise self._bad(key, "a string")
        return value

    def choice(self, key: str, options: tuple[str, ...]) -> str:
        """One of ``options``."""
        value = self.entry.body[key]
        if not isinstance(value, str) or value not in options:
            raise self._bad(key, f"one of {', '.join(options)}")
        return value

    def _match(self, key: str, pattern: re.Pattern[str], expected: str) -> str:
        value = self.entry.body[key]
        if not isinstance(value, str) or not pattern.match(value):
            raise self._bad(key, expected)
        return value

    def member(self, key: str = "member") -> str:
        """A member id, ``m-`` and 20 lower-case hex digits (§1)."""
        return self._match(key, MEMBER_RE, "a member id (m- and 20 hex digits)")

    def claim(self, key: str = "claim") -> str:
        """A claim id, ``c-`` and the decimal seq of its filing (§1)."""
        return self._match(key, CLAIM_RE, "a claim id (c- and a seq)")

    def hex64(self, key: str) -> str:
        """64 lower-case hex digits: a commitment or a hash (§3)."""
        return self._match(key, HEX64_RE, "64 lower-case hex digits")

    def time(self, key: str) -> str:
        """A time ``YYYY-MM-DDTHH:MM:SSZ`` (entries.md §1)."""
        value = self.text(key)
        try:
            parse_time(value)
        except (EntryError, ValueError):
            raise self._bad(key, "a time YYYY-MM-DDTHH:MM:SSZ") from None
        return value

    def b64(self, key: str, size: int) -> bytes:
        """Canonical standard base64 of exactly ``size`` bytes."""
        value = self.entry.body[key]
        try:
            data = base64.b64decode(str(value), validate=True)
        except (binascii.Error, ValueError):
            data = b""
        if len(data) != size or base64.b64encode(data).decode() != value:
            raise self._bad(key, f"base64 of {size} bytes")
        return data
