"""The fast canonical check agrees with the strict parser and serialiser (verifier.jcs).

:func:`parse_canonical_fast` may only ever decline: whatever it accepts, the strict
path must accept with the same value, on random values, on their canonical bytes
and on those bytes mutated.
"""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from verifier.errors import EntryError
from verifier.jcs import MAX_SAFE_INTEGER, canonicalize, parse_canonical_fast, parse_strict

keys = st.text(
    st.characters(codec="utf-8", exclude_categories=["Cs"]) | st.sampled_from("\ue000\U0001f600"),
    max_size=4,
)
scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**60), 2**60)
    | st.integers(-MAX_SAFE_INTEGER, MAX_SAFE_INTEGER)
    | st.text(max_size=8)
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=4),
    max_leaves=12,
)


def strict_verdict(raw: bytes) -> object:
    """The strict path's answer: the value if ``raw`` is canonical, else None."""
    try:
        value = parse_strict(raw.decode("utf-8"))
        return value if canonicalize(value) == raw else None
    except (EntryError, UnicodeDecodeError, ValueError):
        return None


def agree(raw: bytes) -> None:
    fast = parse_canonical_fast(raw)
    if fast is not None:
        strict = strict_verdict(raw)
        assert strict is not None, f"fast path accepted non-canonical {raw!r}"
        assert json.dumps(fast, sort_keys=True) == json.dumps(strict, sort_keys=True)
        assert type(fast) is dict


@settings(max_examples=400, deadline=None)
@given(st.dictionaries(keys, values, max_size=5))
def test_canonical_objects(value: dict[str, object]) -> None:
    try:
        raw = canonicalize(value)
    except ValueError:  # an integer beyond the safe range
        assert parse_canonical_fast(json.dumps(value).encode()) is None
        return
    agree(raw)
    if raw.isascii() and re.search(rb"[0-9]{16}", raw) is None:
        assert parse_canonical_fast(raw) is not None  # the common case is fast


@settings(max_examples=400, deadline=None)
@given(st.dictionaries(keys, values, min_size=1, max_size=5), st.data())
def test_mutated_bytes(value: dict[str, object], data: st.DataObject) -> None:
    try:
        raw = bytearray(canonicalize(value))
    except ValueError:
        return
    for _ in range(data.draw(st.integers(1, 3))):
        at = data.draw(st.integers(0, len(raw) - 1))
        choice = data.draw(st.sampled_from(["set", "insert", "delete"]))
        byte = data.draw(st.sampled_from(b' "\\,:{}[]0123456789.eE-+/ntfu\x00\x1f\x7f\xc3\xa9\xf0'))
        if choice == "set":
            raw[at] = byte
        elif choice == "insert":
            raw.insert(at, byte)
        elif len(raw) > 1:
            del raw[at]
    agree(bytes(raw))


@pytest.mark.parametrize(
    "raw",
    [
        b'{"a":1,"a":2}',  # duplicate key
        b'{"a":1.0}',
        b'{"a":1e3}',
        b'{"a":NaN}',
        b'{"a":-0}',
        b'{"a":9007199254740992}',  # 2**53
        b'{"a":"\\ud800"}',  # escaped lone surrogate
        b'{"a":"\\u0041"}',  # needless escape
        b'{"a":"\\/"}',
        b'{"b":1,"a":2}',
        b'{"a":1} ',
        b' {"a":1}',
        b"[1]",
        b'{"\xef\xbf\xbf":1,"\xf0\x9f\x98\x80":2}',  # U+FFFF before U+1F600: not UTF-16 order
    ],
)
def test_declines_what_is_not_plainly_canonical(raw: bytes) -> None:
    assert parse_canonical_fast(raw) is None


def test_accepts_escapes_as_rfc_8785_writes_them() -> None:
    raw = b'{"a":"\\b\\t\\n\\f\\r\\u0001\\u001f\\"\\\\/\x7f\xc3\xa9\xe2\x80\xa8"}'
    assert parse_canonical_fast(raw) == parse_strict(raw.decode())
    assert canonicalize(parse_strict(raw.decode())) == raw
