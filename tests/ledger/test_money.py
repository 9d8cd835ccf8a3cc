"""Money in yuan and fen: parsed as text, never through a float; printed with both."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.money import MAX_FEN, MoneyError, money, parse_yuan, yuan
from ledger.wording import count


@pytest.mark.parametrize(
    ("text", "fen"),
    [
        ("0", 0),
        ("0.29", 29),  # 0.29 as a float is 0.28999...
        ("3000", 300_000),
        ("3000.5", 300_050),
        ("3000.50", 300_050),
        ("1.01", 101),
        ("90071992547409.91", MAX_FEN),
    ],
)
def test_yuan_are_parsed_exactly(text: str, fen: int) -> None:
    assert parse_yuan(text) == fen


@pytest.mark.parametrize(
    "text",
    [
        "",
        "3000.505",
        ".5",
        "3000.",
        "-1",
        "+1",
        "1e3",
        "03000",
        " 3000",
        "3,000",
        "3000,50",
        "\uff11\uff12",  # full-width digits
        "NaN",
        "90071992547409.92",
    ],
)
def test_malformed_yuan_are_refused(text: str) -> None:
    with pytest.raises(MoneyError):
        parse_yuan(text)


def test_grouped_yuan_are_accepted_where_asked() -> None:
    assert parse_yuan("177,137.00", grouped=True) == 17_713_700
    assert parse_yuan("1,000", grouped=True) == 100_000
    for text in ("1,00", "3000,50", ",100", "1,000,00", "01,000"):
        with pytest.raises(MoneyError):
            parse_yuan(text, grouped=True)


@given(st.integers(min_value=0, max_value=MAX_FEN))
def test_printed_yuan_parse_back(fen: int) -> None:
    assert parse_yuan(yuan(fen), grouped=True) == fen
    assert parse_yuan(yuan(fen).replace(",", "")) == fen


def test_money_prints_yuan_with_fen_in_brackets() -> None:
    assert money(17_713_700) == "177,137.00 yuan (17,713,700 fen)"
    assert money(5) == "0.05 yuan (5 fen)"
    assert money(-1_234) == "-12.34 yuan (-1,234 fen)"


def test_counts_are_never_1_entries() -> None:
    assert count(1, "entry") == "1 entry"
    assert count(2, "entry") == "2 entries"
    assert count(0, "member") == "0 members"
    assert count(20_000, "member") == "20,000 members"
    assert count(1, "claim") == "1 claim"
