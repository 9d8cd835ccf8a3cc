"""Signed notes, key strings and checkpoints: public vectors, specs/ vectors, round trips."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.errors import KeyFormatError, LedgerError, NoteError
from ledger.publish.checkpoint import Checkpoint, open_checkpoint, parse_checkpoint
from ledger.publish.note import (
    Signer,
    open_note,
    parse_signer_key,
    parse_verifier_key,
    sign_note,
    split_note,
)
from tests.conftest import SPEC_VECTORS

CHECKPOINTS = sorted((SPEC_VECTORS / "checkpoint").glob("*.json"))


def load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text())  # type: ignore[no-any-return]


def test_signed_note_vectors(shared_vectors: Path) -> None:
    cases = load(shared_vectors / "signed-note.json")["vectors"]
    assert len(cases) >= 3
    for case in cases:
        verifier = parse_verifier_key(case["verifier_key"])
        assert verifier.to_string() == case["verifier_key"]
        _, signers = open_note(case["note"], [verifier])
        assert signers == [verifier.name]
        if "private_key" in case:
            signer = parse_signer_key(case["private_key"])
            assert signer.to_string() == case["private_key"]
            body, _ = split_note(case["note"])
            # Ed25519 is deterministic: re-signing reproduces the line byte for byte.
            assert sign_note(body, [signer]) == case["note"]


@pytest.mark.parametrize(
    "mutate",
    [
        lambda k: k.replace("+c74f20a3+", "+c74f20a4+"),
        lambda k: k.replace("PeterNeumann", "PeterNeumanm"),
        lambda k: k[:-2] + "XX",
        lambda k: k.replace("+ARpc", "+AhRpc"),
        lambda k: k.replace("+ARpc", "+Apc"),
        lambda k: k.split("+", 1)[1],
        lambda k: "Peter Neumann" + k[12:],
    ],
)
def test_every_mutation_of_a_verifier_key_is_refused(mutate: Any) -> None:
    good = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
    parse_verifier_key(good)
    with pytest.raises(KeyFormatError):
        parse_verifier_key(mutate(good))


def test_note_mutations_fail(shared_vectors: Path) -> None:
    case = load(shared_vectors / "signed-note.json")["vectors"][0]
    verifier = parse_verifier_key(case["verifier_key"])
    note: str = case["note"]
    for at in range(len(note)):
        if note[at] == "\n":
            continue
        changed = note[:at] + ("x" if note[at] != "x" else "y") + note[at + 1 :]
        with pytest.raises(LedgerError):
            open_note(changed, [verifier])


def test_signer_repr_never_shows_the_key() -> None:
    signer = Signer.generate("example.org/log")
    assert signer.seed.hex() not in repr(signer)
    assert "PRIVATE" not in repr(signer)


@pytest.mark.parametrize("path", CHECKPOINTS, ids=lambda p: p.stem)
def test_checkpoint_vectors(path: Path) -> None:
    case = load(path)
    verifier = parse_verifier_key(case["verifier_key"])
    if case["valid"]:
        checkpoint = open_checkpoint(case["note"], verifier)
        assert checkpoint.size == case["tree_size"]
        assert checkpoint.origin == case["origin"]
    else:
        with pytest.raises(LedgerError):
            open_checkpoint(case["note"], verifier)


def test_key_vector_round_trips() -> None:
    case = load(SPEC_VECTORS / "keys" / "log-key.json")
    signer = parse_signer_key(case["signer_key"])
    assert signer.to_string() == case["signer_key"]
    assert signer.verifier().to_string() == case["verifier_key"]
    assert signer.verifier().key_id.hex() == case["key_id"]


@given(
    origin=st.from_regex(r"[a-z0-9.\-/]{1,40}", fullmatch=True),
    size=st.integers(0, 2**63),
    root=st.binary(min_size=32, max_size=32),
    extensions=st.lists(st.from_regex(r"[a-z][a-z0-9 ]{0,20}", fullmatch=True), max_size=2),
)
def test_checkpoint_round_trip(origin: str, size: int, root: bytes, extensions: list[str]) -> None:
    checkpoint = Checkpoint(origin, size, root, tuple(extensions))
    assert parse_checkpoint(checkpoint.to_body()) == checkpoint


@pytest.mark.parametrize(
    "body",
    [
        "origin\n007\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n",
        "origin\n-1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n",
        "origin\n7\nAAAA\n",
        "origin\n7\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        "origin with space\n7\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n",
        "origin\n7\n",
        "origin\n7\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n\n",
    ],
)
def test_malformed_checkpoints_are_refused(body: str) -> None:
    with pytest.raises(NoteError):
        parse_checkpoint(body)
