"""Money as a member reads it: integer fen shown as yuan (specs/plan.md conventions)."""

from __future__ import annotations


def yuan(fen: int) -> str:
    """``18800`` -> ``188.00 yuan`` (fen are exact: no float on the way)."""
    sign = "-" if fen < 0 else ""
    return f"{sign}{abs(fen) // 100:,}.{abs(fen) % 100:02d} yuan"
