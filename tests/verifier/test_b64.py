"""The verifier's one base64 decoder (verifier.b64): standard, canonical, sized."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given
from hypothesis import strategies as st

from verifier.b64 import Base64Error, decode, decode_sized, encode


@given(st.binary(max_size=100))
def test_round_trip(data: bytes) -> None:
    assert decode(encode(data)) == data
    assert decode_sized(encode(data), len(data)) == data
    assert encode(data) == base64.b64encode(data).decode()


@pytest.mark.parametrize(
    ("text", "expected", "found"),
    [
        (7, "a base64 string", "an integer"),
        (None, "a base64 string", "null"),
        ("QQ", "standard base64", "'QQ'"),  # no padding
        ("QQ==\n", "standard base64", "'QQ==\\n'"),
        ("Q Q==", "standard base64", "'Q Q=='"),
        ("-_8=", "standard base64", "'-_8='"),  # the URL-safe alphabet
        ("é", "standard base64", "'é'"),
        ("QR==", "canonical base64 (unused bits zero)", "'QR=='"),
    ],
)
def test_refusals_say_what_was_expected_and_found(text: object, expected: str, found: str) -> None:
    with pytest.raises(Base64Error) as caught:
        decode(text, "leaf of seq 3")
    assert (caught.value.expected, caught.value.found) == (expected, found)
    assert str(caught.value) == f"leaf of seq 3: expected {expected}, found {found}"


def test_sized() -> None:
    h = bytes(range(32))
    assert decode_sized(encode(h), 32, "root") == h
    with pytest.raises(Base64Error) as caught:
        decode_sized(encode(h[:31]), 32, "root")
    assert str(caught.value) == "root: expected base64 of 32 bytes, found 31 bytes"
    with pytest.raises(Base64Error, match=r"^expected base64 of 32 bytes, found 33 bytes$"):
        decode_sized(encode(h + b"x"), 32)
    assert decode_sized("", 0) == b""


def test_long_texts_are_shortened_in_errors() -> None:
    with pytest.raises(Base64Error) as caught:
        decode("!" * 1000)
    assert caught.value.found.endswith("... (1000 characters)")
    assert len(str(caught.value)) < 120


def test_it_is_a_value_error() -> None:
    """The plan's modules catch ValueError from the decoder they import from verifier.note."""
    from verifier.note import decode_base64

    with pytest.raises(ValueError, match="expected standard base64"):
        decode_base64("%%%")
