"""C2SP checkpoints: exact round trips, strict parsing, and signed verification."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.verifier.helpers import sign_note, signature_line, vkey
from verifier.checkpoint import (
    MAX_TREE_SIZE,
    Checkpoint,
    parse_checkpoint_body,
    verify_checkpoint,
)
from verifier.errors import CheckpointFormatError, SignatureError, UnverifiedNoteError
from verifier.merkle import EMPTY_ROOT
from verifier.note import open_note, parse_verifier_key

SEED = bytes(range(1, 33))
ORIGIN = "tally.example/plan-1"
ROOT = bytes(range(32))
ROOT_B64 = base64.b64encode(ROOT).decode()
BODY = f"{ORIGIN}\n42\n{ROOT_B64}\n"
V = parse_verifier_key(vkey(ORIGIN, SEED))
URLSAFE_B64 = base64.urlsafe_b64encode(b"\xff" * 32).decode()


def test_parse_and_round_trip() -> None:
    cp = parse_checkpoint_body(BODY)
    assert cp == Checkpoint(ORIGIN, 42, ROOT, ())
    assert cp.to_body() == BODY


def test_extensions_round_trip() -> None:
    body = BODY + "ext one\n\u2014 not a signature\n"
    cp = parse_checkpoint_body(body)
    assert cp.extensions == ("ext one", "\u2014 not a signature")
    assert cp.to_body() == body


def test_empty_tree() -> None:
    body = f"{ORIGIN}\n0\n{base64.b64encode(EMPTY_ROOT).decode()}\n"
    assert parse_checkpoint_body(body) == Checkpoint(ORIGIN, 0, EMPTY_ROOT)


def test_largest_size() -> None:
    body = f"{ORIGIN}\n{MAX_TREE_SIZE}\n{ROOT_B64}\n"
    assert parse_checkpoint_body(body).size == 2**64 - 1


origins = st.text(
    alphabet=st.characters(
        codec="utf-8", exclude_categories=("Cc", "Cs", "Zs", "Zl", "Zp"), exclude_characters="+"
    ),
    min_size=1,
    max_size=40,
).filter(lambda s: not any(c.isspace() for c in s))
extension_lines = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cc", "Cs")), min_size=1
)


@settings(max_examples=200, deadline=None)
@given(
    origins,
    st.integers(0, MAX_TREE_SIZE),
    st.binary(min_size=32, max_size=32),
    st.lists(extension_lines, max_size=3),
)
def test_round_trip_property(origin: str, size: int, root: bytes, exts: list[str]) -> None:
    cp = Checkpoint(origin, size, root, tuple(exts))
    body = cp.to_body()
    assert parse_checkpoint_body(body) == cp
    assert parse_checkpoint_body(body).to_body() == body


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(BODY[:-1], id="no-final-newline"),
        pytest.param(f"{ORIGIN}\n42\n", id="two-lines"),
        pytest.param("", id="empty"),
        pytest.param(f"\n42\n{ROOT_B64}\n", id="empty-origin"),
        pytest.param(f"tally example\n42\n{ROOT_B64}\n", id="origin-with-space"),
        pytest.param(f"tally+example\n42\n{ROOT_B64}\n", id="origin-with-plus"),
        pytest.param(f"{ORIGIN}\n042\n{ROOT_B64}\n", id="leading-zero"),
        pytest.param(f"{ORIGIN}\n00\n{ROOT_B64}\n", id="double-zero"),
        pytest.param(f"{ORIGIN}\n-1\n{ROOT_B64}\n", id="negative"),
        pytest.param(f"{ORIGIN}\n+1\n{ROOT_B64}\n", id="plus-sign"),
        pytest.param(f"{ORIGIN}\n 1\n{ROOT_B64}\n", id="space-before-size"),
        pytest.param(f"{ORIGIN}\n1.0\n{ROOT_B64}\n", id="fraction"),
        pytest.param(f"{ORIGIN}\n1_000\n{ROOT_B64}\n", id="underscore"),
        pytest.param(f"{ORIGIN}\n\u0661\n{ROOT_B64}\n", id="arabic-digit"),
        pytest.param(f"{ORIGIN}\n\n{ROOT_B64}\n", id="empty-size"),
        pytest.param(f"{ORIGIN}\n{2**64}\n{ROOT_B64}\n", id="size-2-64"),
        pytest.param(f"{ORIGIN}\n{'9' * 5000}\n{ROOT_B64}\n", id="size-huge"),
        pytest.param(f"{ORIGIN}\n42\n{base64.b64encode(ROOT[:31]).decode()}\n", id="root-31"),
        pytest.param(f"{ORIGIN}\n42\n{base64.b64encode(ROOT + b'1').decode()}\n", id="root-33"),
        pytest.param(f"{ORIGIN}\n42\n{ROOT_B64[:-1]}\n", id="root-no-padding"),
        pytest.param(f"{ORIGIN}\n42\n{ROOT_B64[:-2]}B=\n", id="root-non-canonical"),
        pytest.param(f"{ORIGIN}\n42\n{URLSAFE_B64}\n", id="root-urlsafe"),
        pytest.param(f"{ORIGIN}\n42\n{ROOT_B64} \n", id="root-trailing-space"),
        pytest.param(f"{ORIGIN}\n42\n\n", id="root-empty"),
        pytest.param(BODY + "\n", id="empty-extension"),
        pytest.param(BODY + "ext\n\nmore\n", id="empty-extension-between"),
    ],
)
def test_malformed_bodies(body: str) -> None:
    with pytest.raises(CheckpointFormatError):
        parse_checkpoint_body(body)


# ---------------------------------------------------------------- signed checkpoints


def test_verify_checkpoint() -> None:
    note = sign_note(BODY, (ORIGIN, SEED))
    assert verify_checkpoint(note, V) == Checkpoint(ORIGIN, 42, ROOT)
    assert verify_checkpoint(note.encode(), V) == Checkpoint(ORIGIN, 42, ROOT)


def test_witness_cosignatures_are_ignored() -> None:
    note = sign_note(BODY, (ORIGIN, SEED), ("witness.example", bytes(32)))
    assert verify_checkpoint(note, V).size == 42


def test_origin_must_be_the_key_name() -> None:
    body = f"other.example/log\n42\n{ROOT_B64}\n"
    with pytest.raises(CheckpointFormatError, match="origin"):
        verify_checkpoint(sign_note(body, (ORIGIN, SEED)), V)


def test_signed_by_another_key() -> None:
    note = sign_note(BODY, (ORIGIN, bytes(32)))
    with pytest.raises(UnverifiedNoteError):
        verify_checkpoint(note, V)


def test_tampered_checkpoint() -> None:
    line = signature_line(BODY, ORIGIN, SEED)
    forged = BODY.replace("\n42\n", "\n43\n") + "\n" + line
    with pytest.raises(SignatureError):
        verify_checkpoint(forged, V)


def test_well_signed_but_malformed_body() -> None:
    body = f"{ORIGIN}\n042\n{ROOT_B64}\n"
    with pytest.raises(CheckpointFormatError):
        verify_checkpoint(sign_note(body, (ORIGIN, SEED)), V)


def test_sumdb_checkpoint_is_a_valid_note_but_not_a_tally_checkpoint(
    shared_vectors: Path,
) -> None:
    """sum.golang.org's origin has spaces and differs from its key name; Tally's may not."""
    data = json.loads((shared_vectors / "signed-note.json").read_text())
    v = next(x for x in data["vectors"] if x["name"] == "real sum.golang.org checkpoint")
    verifier = parse_verifier_key(v["verifier_key"])
    body, _ = open_note(v["note"], [verifier])
    assert body.splitlines()[1] == "31700353"
    with pytest.raises(CheckpointFormatError, match="origin"):
        verify_checkpoint(v["note"], verifier)
