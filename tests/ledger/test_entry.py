"""Entries: canonical encoding, every refusal rule, and the specs/ vectors."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.errors import EntryError
from ledger.log.entry import (
    MAX_ENTRY_BYTES,
    ZERO_HASH,
    encode_entry,
    entry_hash,
    parse_entry,
    read_envelope_tail,
)
from ledger.log.tree import leaf_hash
from tests.conftest import SPEC_VECTORS

VALID = sorted((SPEC_VECTORS / "entries" / "valid").glob("*.json"))
INVALID = sorted((SPEC_VECTORS / "entries" / "invalid").glob("*.json"))


def load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text())  # type: ignore[no-any-return]


def test_vectors_exist() -> None:
    assert len(VALID) >= 3
    assert len(INVALID) >= 20


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.stem)
def test_valid_vector(path: Path) -> None:
    case = load(path)
    raw = base64.b64decode(case["entry_b64"])
    entry = parse_entry(raw)
    assert raw.decode() == case["entry_text"]
    assert entry_hash(raw) == case["entry_hash"]
    assert base64.b64encode(leaf_hash(raw)).decode() == case["leaf_hash"]
    assert (entry.seq, entry.type, entry.prev, entry.time) == (
        case["seq"],
        case["type"],
        case["prev"],
        case["time"],
    )
    again = encode_entry(
        seq=entry.seq,
        time=entry.time,
        type=entry.type,
        prev=entry.prev,
        actor=entry.actor,
        body=entry.body,
    )
    assert again == raw
    assert read_envelope_tail(raw) == (entry.prev, entry.seq, entry.time, entry.type)


@pytest.mark.parametrize("path", INVALID, ids=lambda p: p.stem)
def test_invalid_vector(path: Path) -> None:
    case = load(path)
    with pytest.raises(EntryError) as caught:
        parse_entry(base64.b64decode(case["entry_b64"]))
    assert caught.value.kind == case["error"]


def test_size_limit_is_exact() -> None:
    def sized(pad: int) -> bytes:
        return encode_entry(
            seq=1,
            time="2026-01-01T00:00:00Z",
            type="demo.pad",
            prev=ZERO_HASH,
            actor="operator",
            body={"p": "x" * pad},
        )

    overhead = len(sized(0))
    assert len(sized(MAX_ENTRY_BYTES - overhead)) == MAX_ENTRY_BYTES
    parse_entry(sized(MAX_ENTRY_BYTES - overhead))
    with pytest.raises(EntryError) as caught:
        sized(MAX_ENTRY_BYTES - overhead + 1)
    assert caught.value.kind == "too_large"


@pytest.mark.parametrize(
    ("body", "kind"),
    [
        ({"a": 1.5}, "float"),
        ({"a": [1, {"b": 2.0}]}, "float"),
        ({"a": 2**53}, "integer_range"),
        ({"a": -(2**53)}, "integer_range"),
        ({1: "x"}, "bad_envelope"),
        ({"a": object()}, "bad_envelope"),
    ],
)
def test_encode_refuses_what_parse_would(body: dict[Any, Any], kind: str) -> None:
    with pytest.raises(EntryError) as caught:
        encode_entry(
            seq=0,
            time="2026-01-01T00:00:00Z",
            type="log.genesis",
            prev=ZERO_HASH,
            actor="operator",
            body=body,
        )
    assert caught.value.kind == kind


json_leaf = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**53) + 1, 2**53 - 1), st.text(max_size=20)
)
json_value = st.recursive(
    json_leaf,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)


@given(body=st.dictionaries(st.text(max_size=8), json_value, max_size=6), seq=st.integers(0, 2**40))
def test_round_trip(body: dict[str, Any], seq: int) -> None:
    raw = encode_entry(
        seq=seq,
        time="2026-01-01T00:00:00Z",
        type="demo.any",
        prev=ZERO_HASH,
        actor="juror:J-1",
        body=body,
    )
    entry = parse_entry(raw)
    assert entry.body == body
    assert entry.seq == seq
    assert read_envelope_tail(raw) == (ZERO_HASH, seq, "2026-01-01T00:00:00Z", "demo.any")


@given(data=st.data())
def test_any_one_byte_change_is_refused_or_is_another_entry(data: st.DataObject) -> None:
    raw = encode_entry(
        seq=5,
        time="2026-01-01T00:00:00Z",
        type="demo.any",
        prev=ZERO_HASH,
        actor="operator",
        body={"amount_fen": 528, "m": "m-1"},
    )
    at = data.draw(st.integers(0, len(raw) - 1))
    new = data.draw(st.integers(0, 255).filter(lambda b: b != raw[at]))
    changed = raw[:at] + bytes([new]) + raw[at + 1 :]
    try:
        parsed = parse_entry(changed)
    except EntryError:
        return
    # A change that still parses is a different entry, with a different hash.
    assert entry_hash(changed) != entry_hash(raw)
    assert parsed.raw != raw


wide_text = st.text(
    alphabet=st.characters(codec="utf-8", categories=["L", "N", "S", "P", "Cc", "Co", "Zs"]),
    max_size=6,
)
wide_value = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-(2**53) + 1, 2**53 - 1), wide_text),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(wide_text, children, max_size=4)
    ),
    max_leaves=15,
)


@given(body=st.dictionaries(wide_text, wide_value, max_size=6))
def test_fast_serialisation_equals_the_rfc8785_package(body: dict[str, Any]) -> None:
    """The sequencer's serialiser agrees with the rfc8785 package, key order included."""
    import rfc8785

    raw = encode_entry(
        seq=1,
        time="2026-01-01T00:00:00Z",
        type="demo.any",
        prev=ZERO_HASH,
        actor="operator",
        body=body,
    )
    envelope = {
        "version": 1,
        "seq": 1,
        "time": "2026-01-01T00:00:00Z",
        "type": "demo.any",
        "prev": ZERO_HASH,
        "actor": "operator",
        "body": body,
    }
    assert raw == rfc8785.dumps(envelope)
    assert parse_entry(raw).body == body
