"""The verifier's one strict JSON parser (verifier.strict_json)."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from verifier.strict_json import (
    ANSWER_INTEGER,
    CONSTANT,
    DEPTH,
    DUPLICATE_KEY,
    ENCODING,
    FLOAT,
    INTEGER_RANGE,
    NOT_OBJECT,
    SAFE_INTEGER,
    SYNTAX,
    StrictJSONError,
    kind_of,
    loads,
    loads_object,
)


@pytest.mark.parametrize(
    ("text", "kind", "says"),
    [
        (b"\xff{}", ENCODING, "expected UTF-8 JSON, found an invalid byte at 0"),
        (b"{not json", SYNTAX, "expected JSON, found a syntax error: "),
        (b"[" * 100_000, DEPTH, "expected JSON, found nesting too deep to read"),
        (b'{"a": 1, "a": 1}', DUPLICATE_KEY, "found the key 'a' twice in one object"),
        (b'{"a": {"b": [{"c": 1, "c": 2}]}}', DUPLICATE_KEY, "the key 'c' twice"),
        (b'{"a": 1.0}', FLOAT, "found the number 1.0, which is not an integer"),
        (b'{"a": 1e3}', FLOAT, "which is not an integer"),
        (b'{"a": NaN}', CONSTANT, "found NaN, which is not JSON"),
        (b"-Infinity", CONSTANT, "found -Infinity, which is not JSON"),
        (b"9007199254740992", INTEGER_RANGE, "9007199254740992, outside +-(2**53 - 1)"),
        (b"-9007199254740992", INTEGER_RANGE, "outside +-(2**53 - 1)"),
        (b"1" + b"0" * 5000, INTEGER_RANGE, "the number 1000000000"),
    ],
)
def test_each_rule_is_named(text: bytes, kind: str, says: str) -> None:
    with pytest.raises(StrictJSONError) as caught:
        loads(text)
    assert caught.value.kind == kind
    assert says in str(caught.value)
    assert str(caught.value).startswith("expected ")


def test_the_limits() -> None:
    assert loads(b"9007199254740991") == 2**53 - 1
    assert loads(b"-9007199254740991") == -(2**53 - 1)
    assert loads(b"4611686018427387904", limit=ANSWER_INTEGER) == 2**62
    assert loads(str(10**19 - 1), limit=ANSWER_INTEGER) == 10**19 - 1
    with pytest.raises(StrictJSONError, match="longer than any the contract has"):
        loads(str(10**19), limit=ANSWER_INTEGER)
    assert SAFE_INTEGER.largest == 2**53 - 1


def test_text_and_bytes_read_alike() -> None:
    doc = '{"a": [1, "é", null, true, {"b": -3}]}'
    assert loads(doc) == loads(doc.encode()) == json.loads(doc)
    with pytest.raises(StrictJSONError, match="of 5 characters"):
        loads("{oops")
    with pytest.raises(StrictJSONError, match="of 5 bytes"):
        loads(b"{oops")


@pytest.mark.parametrize(
    ("text", "found"), [(b"[]", "an array"), (b"1", "an integer"), (b"null", "null")]
)
def test_an_object_is_required_where_asked(text: bytes, found: str) -> None:
    with pytest.raises(StrictJSONError) as caught:
        loads_object(text)
    assert (caught.value.kind, caught.value.found) == (NOT_OBJECT, found)
    assert loads_object(b'{"a": 1}') == {"a": 1}


def test_kind_of() -> None:
    assert [kind_of(v) for v in ({}, [], "", 1, True, None)] == [
        "an object",
        "an array",
        "a string",
        "an integer",
        "a boolean",
        "null",
    ]


@given(st.binary(max_size=64))
def test_nothing_but_its_error_comes_out(data: bytes) -> None:
    kind = None
    try:
        value = loads(data)
    except StrictJSONError as exc:
        kind = exc.kind
    if kind is None:
        assert value == json.loads(data)
    else:
        assert kind in {ENCODING, SYNTAX, DEPTH, DUPLICATE_KEY, FLOAT, CONSTANT, INTEGER_RANGE}


@given(
    st.recursive(
        st.none() | st.booleans() | st.integers(-(2**53) + 1, 2**53 - 1) | st.text(),
        lambda inner: st.lists(inner) | st.dictionaries(st.text(), inner),
        max_leaves=20,
    )
)
def test_what_json_writes_reads_back(value: object) -> None:
    assert loads(json.dumps(value)) == value
