"""Counts in sentences: ``1 entry``, ``2 entries``, ``20,000 members``."""

from __future__ import annotations

_PLURALS = {"entry": "entries", "was": "were", "is": "are", "has": "have"}


def count(n: int, noun: str, plural: str | None = None) -> str:
    """``n`` and the noun, in the singular for exactly one, with thousands separators."""
    if n == 1:
        return f"1 {noun}"
    return f"{n:,} {plural or _PLURALS.get(noun, noun + 's')}"
