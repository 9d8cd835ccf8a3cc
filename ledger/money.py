"""Money as operators read and write it: yuan with at most two decimals, or fen.

Every amount on the log is an integer number of fen (1/100 yuan; specs/plan.md).
Operators think in yuan, so commands also take ``3000.50`` (yuan) and print
``3,000.50 yuan (300,050 fen)``. Yuan are parsed as text, digit by digit, never
through a float, so ``0.29`` is 29 fen and not 28.999....
"""

from __future__ import annotations

import re

from ledger.errors import LedgerError

MAX_FEN = 2**53 - 1
"""The largest amount an entry can carry (specs/entries.md: integers up to 2^53 - 1)."""

_PLAIN_RE = re.compile(r"\A(0|[1-9][0-9]*)(?:\.([0-9]{1,2}))?\Z")
_GROUPED_RE = re.compile(r"\A([1-9][0-9]{0,2}(?:,[0-9]{3})+)(?:\.([0-9]{1,2}))?\Z")


class MoneyError(LedgerError):
    """An amount is malformed or out of range."""


def parse_yuan(text: str, *, grouped: bool = False) -> int:
    """Yuan as text (``3000``, ``3000.5``, ``3000.50``) to fen, exactly.

    At most two decimals; no sign, exponent or spaces. With ``grouped``, thousands
    separated by commas are accepted too (``177,137.00``, as this module prints).
    """
    match = _PLAIN_RE.match(text) or (_GROUPED_RE.match(text) if grouped else None)
    if match is None:
        example = "3000.50" + (" or 3,000.50" if grouped else "")
        raise MoneyError(
            f"expected an amount in yuan with at most two decimals, like {example}, found {text!r}"
        )
    whole, cents = match.group(1).replace(",", ""), (match.group(2) or "").ljust(2, "0")
    fen = int(whole) * 100 + int(cents)
    check_fen(fen)
    return fen


def check_fen(fen: int) -> int:
    """``fen`` if it is an amount an entry can carry (0 to 2^53 - 1)."""
    if not 0 <= fen <= MAX_FEN:
        raise MoneyError(f"expected an amount from 0 to {MAX_FEN:,} fen, found {fen:,}")
    return fen


def yuan(fen: int) -> str:
    """``17713700`` to ``177,137.00``: yuan with thousands separators and two decimals."""
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(fen), 100)
    return f"{sign}{whole:,}.{cents:02d}"


def yuan_decimal(fen: int) -> str:
    """``17713700`` to ``177137.00``: yuan as a plain decimal string, for JSON answers."""
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(fen), 100)
    return f"{sign}{whole}.{cents:02d}"


def money(fen: int) -> str:
    """An amount as printed: ``177,137.00 yuan (17,713,700 fen)``."""
    return f"{yuan(fen)} yuan ({fen:,} fen)"
