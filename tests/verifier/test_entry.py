"""Entry bytes and the hash chain: every refusal kind, JCS details, chain rules.

Test entries are written with ``json.dumps(sort_keys=True, separators=(",", ":"),
ensure_ascii=False)``, which is RFC 8785 for ASCII keys and integers, so the
checks here do not lean on the verifier's own serialiser.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from verifier.entry import (
    MAX_ENTRY_SIZE,
    ZERO_PREV,
    ChainVerifier,
    Entry,
    is_valid_time,
    parse_entry,
    verify_chain,
)
from verifier.errors import ChainError, EntryError
from verifier.jcs import canonicalize, parse_strict

T0 = "2026-01-05T09:00:00Z"


def envelope(**overrides: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "version": 1,
        "seq": 0,
        "time": T0,
        "type": "log.genesis",
        "prev": ZERO_PREV,
        "actor": "operator:alice",
        "body": {"plan": "reference", "fee_bp": 800},
    }
    fields.update(overrides)
    return fields


def dumps(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def entry_bytes(**overrides: Any) -> bytes:
    return dumps(envelope(**overrides))


GOOD = entry_bytes()


def kind_of(raw: bytes) -> str:
    with pytest.raises(EntryError) as info:
        parse_entry(raw)
    return info.value.kind


# ---------------------------------------------------------------- valid entries


def test_canonical_entry_passes() -> None:
    e = parse_entry(GOOD)
    assert e == Entry(
        1, 0, T0, "log.genesis", ZERO_PREV, "operator:alice",
        {"plan": "reference", "fee_bp": 800}, GOOD,
    )  # fmt: skip
    assert GOOD.startswith(b'{"actor":"operator:alice","body":{"fee_bp":800,"plan":"reference"}')
    assert e.hash_hex == hashlib.sha256(GOOD).hexdigest()


@pytest.mark.parametrize(
    "overrides",
    [
        pytest.param({"actor": "operator"}, id="actor-without-id"),
        pytest.param({"actor": "member:Ab9._@-x"}, id="actor-all-id-chars"),
        pytest.param({"actor": "m_2:" + "x" * 128}, id="actor-id-128"),
        pytest.param({"type": "a." + "b" * 62}, id="type-64-chars"),
        pytest.param({"type": "claim.filed.v2_x"}, id="type-three-words"),
        pytest.param({"time": "2024-02-29T23:59:59Z"}, id="leap-day"),
        pytest.param({"seq": 2**53 - 1}, id="max-seq"),
        pytest.param({"body": {}}, id="empty-body"),
        pytest.param({"body": {"n": -(2**53 - 1), "m": 2**53 - 1, "z": 0}}, id="safe-ints"),
        pytest.param({"body": {"a": [None, True, False, "", [], {}]}}, id="all-types"),
        pytest.param({"body": {"s": "caf\u00e9 \u4e92\u52a9 / \x7f \U0001f600"}}, id="literals"),
        pytest.param({"body": {"s": '\x00\x08\t\n\x0b\x0c\r\x1f"\\'}}, id="escapes"),
    ],
)
def test_valid_variants(overrides: dict[str, Any]) -> None:
    raw = entry_bytes(**overrides)
    entry = parse_entry(raw)
    for key, value in overrides.items():
        assert getattr(entry, key) == value


def test_size_limit_is_inclusive() -> None:
    base = len(entry_bytes(body={"pad": ""}))
    at_limit = entry_bytes(body={"pad": "x" * (MAX_ENTRY_SIZE - base)})
    assert len(at_limit) == MAX_ENTRY_SIZE
    parse_entry(at_limit)
    over = entry_bytes(body={"pad": "x" * (MAX_ENTRY_SIZE - base + 1)})
    assert len(over) == MAX_ENTRY_SIZE + 1
    assert kind_of(over) == "too_large"


# ---------------------------------------------------------------- refusals by kind

REFUSALS = [
    # size
    ("empty", b""),
    # encoding
    ("bad_utf8", GOOD.replace(b"reference", b"r\xffference")),
    ("bad_utf8", GOOD.replace(b"reference", b"r\xed\xa0\x80ference")),  # encoded surrogate
    ("bad_utf8", GOOD.replace(b"reference", b"r\xc0\xafference")),  # overlong "/"
    ("bad_utf8", GOOD[:-3] + b"\xe4\xba"),  # truncated sequence
    # JSON syntax
    ("malformed_json", GOOD[:-1]),
    ("malformed_json", GOOD + b"}"),
    ("malformed_json", GOOD.replace(b"800", b"NaN")),
    ("malformed_json", GOOD.replace(b"800", b"Infinity")),
    ("malformed_json", GOOD.replace(b"800", b"-Infinity")),
    ("malformed_json", GOOD.replace(b"800", b"0800")),
    ("malformed_json", GOOD.replace(b"800", b"+800")),
    ("malformed_json", GOOD.replace(b'"reference"', b"'reference'")),
    ("malformed_json", GOOD.replace(b"800", b"800,")),
    ("malformed_json", GOOD.replace(b'"reference"', b'"\\ud800"')),  # lone surrogate escape
    ("malformed_json", GOOD.replace(b'"reference"', b'"\\udc00x"')),
    ("malformed_json", GOOD.replace(b'"reference"', b'"a\tb"')),  # raw control character
    ("malformed_json", b"\xef\xbb\xbf" + GOOD),  # byte order mark
    ("malformed_json", b"[" * 50_000),  # unterminated, and too deep to parse anyway
    ("malformed_json", b"[" * 30_000 + b"]" * 30_000),  # well formed, too deep to check
    # duplicate keys, anywhere
    ("duplicate_key", GOOD.replace(b'{"actor"', b'{"actor":"x","actor"')),
    ("duplicate_key", GOOD.replace(b'"fee_bp":800', b'"fee_bp":800,"fee_bp":800')),
    ("duplicate_key", GOOD.replace(b'"fee_bp":800', b'"a":1,"\\u0061":1,"fee_bp":800')),
    # floats
    ("float", GOOD.replace(b"800", b"800.0")),
    ("float", GOOD.replace(b"800", b"1e3")),
    ("float", GOOD.replace(b"800", b"1E3")),
    ("float", GOOD.replace(b"800", b"8e+2")),
    ("float", GOOD.replace(b"800", b"-0.5")),
    ("float", GOOD.replace(b"800", b"0e0")),
    # integers outside +-(2**53 - 1)
    ("integer_range", GOOD.replace(b"800", b"9007199254740992")),
    ("integer_range", GOOD.replace(b"800", b"-9007199254740992")),
    ("integer_range", GOOD.replace(b"800", b"1" + b"0" * 5000)),
    # parses, but is not the canonical serialisation
    ("not_canonical", GOOD.replace(b":800", b": 800")),
    ("not_canonical", b" " + GOOD),
    ("not_canonical", GOOD + b"\n"),
    ("not_canonical", dumps(envelope()).replace(b",", b", ")),
    ("not_canonical", json.dumps(envelope(), separators=(",", ":")).encode()),  # unsorted
    ("not_canonical", GOOD.replace(b"800", b"-0")),
    ("not_canonical", GOOD.replace(b"reference", b"ref\\/erence")),
    ("not_canonical", GOOD.replace(b"reference", b"\\u0072eference")),
    ("not_canonical", entry_bytes(body={"s": "\x1f"}).replace(b"\\u001f", b"\\u001F")),
    ("not_canonical", entry_bytes(body={"s": "\n"}).replace(b"\\n", b"\\u000a")),
    ("not_canonical", entry_bytes(body={"s": "\x7f"}).replace(b"\x7f", b"\\u007f")),
    ("not_canonical", entry_bytes(body={"s": "\u00e9"}).replace(b"\xc3\xa9", b"\\u00e9")),
    ("not_canonical", GOOD.replace(b"reference", b"\\ud83d\\ude00")),  # escaped emoji
    # envelope
    ("bad_envelope", b"[]"),
    ("bad_envelope", b'"entry"'),
    ("bad_envelope", b"1"),
    ("bad_envelope", dumps({k: v for k, v in envelope().items() if k != "actor"})),
    ("bad_envelope", entry_bytes(extra=1)),
    ("bad_envelope", entry_bytes(version=2)),
    ("bad_envelope", entry_bytes(version=True)),
    ("bad_envelope", entry_bytes(version="1")),
    ("bad_envelope", entry_bytes(seq=-1)),
    ("bad_envelope", entry_bytes(seq=False)),
    ("bad_envelope", entry_bytes(seq="0")),
    ("bad_envelope", entry_bytes(time="2026-02-30T00:00:00Z")),
    ("bad_envelope", entry_bytes(time="2025-02-29T00:00:00Z")),
    ("bad_envelope", entry_bytes(time="2026-01-05T24:00:00Z")),
    ("bad_envelope", entry_bytes(time="2026-12-31T23:59:60Z")),
    ("bad_envelope", entry_bytes(time="2026-13-01T00:00:00Z")),
    ("bad_envelope", entry_bytes(time="0000-01-01T00:00:00Z")),
    ("bad_envelope", entry_bytes(time="2026-01-05T09:00:00.5Z")),
    ("bad_envelope", entry_bytes(time="2026-01-05T09:00:00+00:00")),
    ("bad_envelope", entry_bytes(time="2026-01-05t09:00:00Z")),
    ("bad_envelope", entry_bytes(time="2026-01-05T09:00:00z")),
    ("bad_envelope", entry_bytes(time="2026-01-05 09:00:00Z")),
    ("bad_envelope", entry_bytes(time="2026-1-05T09:00:00Z")),
    ("bad_envelope", entry_bytes(time="2026-01-05T09:00Z")),
    ("bad_envelope", entry_bytes(time=T0 + "\n")),
    ("bad_envelope", entry_bytes(time="\u0662\u0660\u0662\u0666-01-05T09:00:00Z")),
    ("bad_envelope", entry_bytes(time=1767603600)),
    ("bad_envelope", entry_bytes(prev="0" * 63)),
    ("bad_envelope", entry_bytes(prev="0" * 65)),
    ("bad_envelope", entry_bytes(prev="A" * 64)),
    ("bad_envelope", entry_bytes(prev="g" * 64)),
    ("bad_envelope", entry_bytes(prev=ZERO_PREV + "\n")),
    ("bad_envelope", entry_bytes(prev=None)),
    ("bad_envelope", entry_bytes(type="genesis")),
    ("bad_envelope", entry_bytes(type="Log.genesis")),
    ("bad_envelope", entry_bytes(type="log.")),
    ("bad_envelope", entry_bytes(type="log..genesis")),
    ("bad_envelope", entry_bytes(type="1og.genesis")),
    ("bad_envelope", entry_bytes(type="log.genesis-2")),
    ("bad_envelope", entry_bytes(type="log.genesis\n")),
    ("bad_envelope", entry_bytes(type="a." + "b" * 63)),
    ("bad_envelope", entry_bytes(actor="")),
    ("bad_envelope", entry_bytes(actor="Operator")),
    ("bad_envelope", entry_bytes(actor="operator:")),
    ("bad_envelope", entry_bytes(actor="member:" + "x" * 129)),
    ("bad_envelope", entry_bytes(actor="member:a b")),
    ("bad_envelope", entry_bytes(actor="member:a:b")),
    ("bad_envelope", entry_bytes(actor="operator\n")),
    ("bad_envelope", entry_bytes(actor=["operator"])),
    ("bad_envelope", entry_bytes(body=[])),
    ("bad_envelope", entry_bytes(body=None)),
    ("bad_envelope", entry_bytes(body="{}")),
]


@pytest.mark.parametrize(
    ("kind", "raw"), [pytest.param(k, r, id=f"{i}-{k}") for i, (k, r) in enumerate(REFUSALS)]
)
def test_refusals(kind: str, raw: bytes) -> None:
    assert kind_of(raw) == kind


def test_too_large_checked_before_anything_else() -> None:
    assert kind_of(b"\xff" * (MAX_ENTRY_SIZE + 1)) == "too_large"


def test_error_messages_say_expected_and_found() -> None:
    with pytest.raises(EntryError) as info:
        parse_entry(GOOD.replace(b":800", b": 800"))
    assert "expected" in str(info.value)
    assert "found" in str(info.value)
    with pytest.raises(EntryError, match="2026-02-30"):
        parse_entry(entry_bytes(time="2026-02-30T00:00:00Z"))


# ---------------------------------------------------------------- JCS details


def test_keys_sort_by_utf16_code_units() -> None:
    # U+1F600 is D83D DE00 in UTF-16, which sorts before E000; by code point it is after.
    value = {"\ue000": 1, "\U0001f600": 2}
    assert canonicalize(value) == '{"\U0001f600":2,"\ue000":1}'.encode()
    empty_body = dumps(envelope(body={}))
    good = empty_body.replace(b'"body":{}', '"body":{"\U0001f600":2,"\ue000":1}'.encode())
    bad = empty_body.replace(b'"body":{}', '"body":{"\ue000":1,"\U0001f600":2}'.encode())
    assert parse_entry(good).body == value
    assert kind_of(bad) == "not_canonical"


def test_string_escaping() -> None:
    s = '\x00\x01\x08\t\n\x0b\x0c\r\x1f "\\/\x7f\u00e9\u2028\U0001f600'
    want = '"\\u0000\\u0001\\b\\t\\n\\u000b\\f\\r\\u001f \\"\\\\/\x7f\u00e9\u2028\U0001f600"'
    assert canonicalize(s) == want.encode()
    assert parse_strict(want) == s


def test_canonicalize_refuses_values_outside_the_subset() -> None:
    for bad in (1.5, 2**53, -(2**53), {1: 2}, "\ud800", object()):
        with pytest.raises(ValueError):  # noqa: PT011 - several messages
            canonicalize(bad)


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**53 - 1), 2**53 - 1)
    | st.text(st.characters(codec="utf-8")),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.text(st.characters(codec="utf-8"), max_size=4), children, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(json_values)
def test_canonical_form_matches_rfc8785_package(value: Any) -> None:
    """Cross-check with the ``rfc8785`` package (a test-only oracle, never a verifier dep)."""
    rfc8785 = pytest.importorskip("rfc8785")
    raw = canonicalize(value)
    assert raw == rfc8785.dumps(value)
    assert parse_strict(raw.decode()) == value
    assert canonicalize(parse_strict(raw.decode())) == raw


def test_is_valid_time() -> None:
    assert is_valid_time("2000-02-29T00:00:00Z")
    assert not is_valid_time("1900-02-29T00:00:00Z")
    assert not is_valid_time("2026-04-31T00:00:00Z")
    assert not is_valid_time("2026-01-01T00:60:00Z")


# ---------------------------------------------------------------- the chain


def chain(n: int, times: list[str] | None = None) -> list[bytes]:
    out: list[bytes] = []
    prev = ZERO_PREV
    for seq in range(n):
        raw = entry_bytes(
            seq=seq,
            prev=prev,
            time=times[seq] if times else f"2026-01-05T09:00:{seq:02d}Z",
            type="log.genesis" if seq == 0 else "member.joined",
            body={"n": seq},
        )
        out.append(raw)
        prev = hashlib.sha256(raw).hexdigest()
    return out


def chain_error_seq(entries: list[bytes], **kwargs: Any) -> int:
    with pytest.raises(ChainError) as info:
        verify_chain(entries, **kwargs)
    assert str(info.value).startswith(f"seq {info.value.seq}: ")
    return info.value.seq


def test_good_chain() -> None:
    entries = chain(5)
    assert verify_chain(entries) == hashlib.sha256(entries[-1]).hexdigest()
    assert verify_chain([]) == ZERO_PREV


def test_equal_times_are_allowed() -> None:
    verify_chain(chain(3, times=[T0, T0, T0]))


def test_resume_mid_chain() -> None:
    entries = chain(6)
    prev = hashlib.sha256(entries[2]).hexdigest()
    assert verify_chain(entries[3:], start_prev=prev, start_seq=3) == verify_chain(entries)
    assert chain_error_seq(entries[3:], start_prev=ZERO_PREV, start_seq=3) == 3


def test_bad_prev() -> None:
    entries = chain(4)
    entries[2] = entry_bytes(
        seq=2, prev="ab" * 32, time="2026-01-05T09:00:02Z", type="member.joined", body={}
    )
    assert chain_error_seq(entries) == 2


def test_edited_entry_breaks_the_next_link() -> None:
    entries = chain(4)
    entries[1] = entries[1].replace(b'"n":1', b'"n":7')
    assert chain_error_seq(entries) == 2


def test_gap_in_seq() -> None:
    entries = chain(5)
    assert chain_error_seq(entries[:2] + entries[3:]) == 2


def test_repeated_entry() -> None:
    entries = chain(3)
    assert chain_error_seq([*entries, entries[2]]) == 3


def test_time_going_backwards() -> None:
    times = [T0, "2026-01-05T09:00:01Z", "2026-01-05T09:00:02Z", "2026-01-05T08:59:59Z"]
    assert chain_error_seq(chain(4, times=times)) == 3


def test_first_entry_must_be_genesis() -> None:
    first = entry_bytes(type="member.joined")
    assert chain_error_seq([first]) == 0


def test_genesis_prev_must_be_zeros() -> None:
    first = entry_bytes(prev="11" * 32)
    assert chain_error_seq([first]) == 0


def test_genesis_only_at_seq_0() -> None:
    entries = chain(2)
    prev = hashlib.sha256(entries[1]).hexdigest()
    second = entry_bytes(seq=2, prev=prev, time="2026-01-05T09:00:05Z", type="log.genesis")
    assert chain_error_seq([*entries, second]) == 2


def test_bad_entry_in_chain_reports_its_position() -> None:
    entries = chain(3)
    entries[1] = entries[1].replace(b'"n":1', b'"n":1.0')
    with pytest.raises(EntryError) as info:
        verify_chain(entries)
    assert (info.value.kind, info.value.seq) == ("float", 1)
    assert "seq 1" in str(info.value)


def test_chain_verifier_state() -> None:
    entries = chain(3)
    cv = ChainVerifier()
    parsed = [cv.add(raw) for raw in entries]
    assert [e.seq for e in parsed] == [0, 1, 2]
    assert cv.next_seq == 3
    assert cv.prev == hashlib.sha256(entries[2]).hexdigest()
    # A refused entry leaves the state untouched.
    with pytest.raises(ChainError):
        cv.add(entries[2])
    assert cv.next_seq == 3


@pytest.mark.parametrize(
    "kwargs",
    [
        {"start_seq": -1},
        {"start_seq": 0, "start_prev": "11" * 32},
        {"start_seq": 3},
        {"start_seq": 3, "start_prev": "AB" * 32},
        {"start_seq": 3, "start_prev": "ab" * 32, "start_time": "yesterday"},
    ],
)
def test_chain_verifier_misuse(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - several messages
        ChainVerifier(**kwargs)
