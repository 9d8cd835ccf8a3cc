"""Write receipts (specs/receipt.md): parse and serialise round trip, the vector, refusals."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.errors import NoteError
from ledger.log.entry import entry_hash, format_time
from ledger.publish.checkpoint import open_checkpoint
from ledger.publish.note import Signer, parse_signer_key, parse_verifier_key, sign_note
from ledger.publish.receipt import (
    RECEIPT_HEADER,
    Receipt,
    open_receipt,
    parse_receipt,
    sign_receipt,
)
from tests.conftest import SPEC_VECTORS

VECTOR = json.loads((SPEC_VECTORS / "receipts" / "receipt.json").read_text())
KEY = json.loads((SPEC_VECTORS / "keys" / "log-key.json").read_text())
SIGNER = parse_signer_key(KEY["signer_key"])

origins = st.text(
    st.characters(
        min_codepoint=33,
        max_codepoint=0x2FFF,
        exclude_characters="+",
        exclude_categories=("Zs", "Zl", "Zp", "Cc", "Cs"),
    ),
    min_size=1,
    max_size=40,
)
times = st.datetimes(
    min_value=datetime(1970, 1, 1),
    max_value=datetime(9999, 12, 31, 23, 59, 59),
    timezones=st.just(UTC),
).map(format_time)
receipts = st.builds(
    Receipt,
    origin=origins,
    seq=st.integers(0, 2**53 - 1),
    entry_hash=st.binary(min_size=32, max_size=32).map(bytes.hex),
    covered_by=times,
)


@given(receipts)
def test_parse_is_the_inverse_of_serialise(receipt: Receipt) -> None:
    body = receipt.to_body()
    assert body.startswith(RECEIPT_HEADER + "\n")
    assert body.count("\n") == 5
    assert parse_receipt(body) == receipt
    assert parse_receipt(body).to_body() == body


@given(st.integers(0, 2**53 - 1), st.binary(min_size=32, max_size=32))
def test_sign_then_open(seq: int, digest: bytes) -> None:
    receipt = Receipt(SIGNER.name, seq, digest.hex(), "2026-01-01T00:00:00Z")
    note = sign_receipt(receipt, SIGNER)
    assert open_receipt(note, SIGNER.verifier()) == receipt


def test_the_vector() -> None:
    verifier = parse_verifier_key(VECTOR["verifier_key"])
    receipt = open_receipt(VECTOR["note"], verifier)
    assert receipt == Receipt(
        VECTOR["origin"], VECTOR["seq"], VECTOR["entry_hash"], VECTOR["covered_by"]
    )
    assert receipt.to_body() == VECTOR["body"]
    raw = base64.b64decode(VECTOR["entry_b64"])
    assert entry_hash(raw) == receipt.entry_hash
    # The log's checkpoint in the vector covers the receipted seq.
    assert open_checkpoint(VECTOR["checkpoint"], verifier).size > receipt.seq
    # Ed25519 is deterministic: signing again gives the same note, byte for byte.
    assert sign_receipt(receipt, SIGNER) == VECTOR["note"]


@pytest.mark.parametrize("case", VECTOR["invalid"], ids=lambda c: c["description"])
def test_invalid_vectors_are_refused(case: dict[str, str]) -> None:
    with pytest.raises(NoteError):
        open_receipt(case["note"], parse_verifier_key(VECTOR["verifier_key"]))


def test_regenerating_changes_nothing(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, str(SPEC_VECTORS / "receipts_generate.py"), str(tmp_path)], check=True
    )
    made = tmp_path / "receipts" / "receipt.json"
    assert made.read_bytes() == (SPEC_VECTORS / "receipts" / "receipt.json").read_bytes()


@pytest.mark.parametrize(
    ("receipt", "message"),
    [
        (Receipt("a b", 1, "00" * 32, "2026-01-01T00:00:00Z"), "origin"),
        (Receipt("log", -1, "00" * 32, "2026-01-01T00:00:00Z"), "seq"),
        (Receipt("log", 2**53, "00" * 32, "2026-01-01T00:00:00Z"), "seq"),
        (Receipt("log", 1, "AB" * 32, "2026-01-01T00:00:00Z"), "entry hash"),
        (Receipt("log", 1, "00" * 31, "2026-01-01T00:00:00Z"), "entry hash"),
        (Receipt("log", 1, "00" * 32, "2026-01-01 00:00:00"), "covered-by"),
    ],
)
def test_a_malformed_receipt_is_never_written(receipt: Receipt, message: str) -> None:
    with pytest.raises(NoteError, match=message):
        receipt.to_body()


def test_the_key_must_be_the_logs() -> None:
    receipt = Receipt("another.example/log", 1, "00" * 32, "2026-01-01T00:00:00Z")
    with pytest.raises(NoteError, match="the key's name"):
        sign_receipt(receipt, SIGNER)
    # A receipt of another origin, signed by a key of that name, is not this log's.
    other = Signer("another.example/log", b"\x05" * 32)
    note = sign_receipt(receipt, other)
    with pytest.raises(NoteError):
        open_receipt(note, SIGNER.verifier())


@pytest.mark.parametrize(
    "body",
    [
        "tally/receipt/v1\nlog\n1\n" + "00" * 32 + "\n2026-01-01T00:00:00Z",  # no final newline
        "tally/receipt/v1\nlog\n1\n" + "00" * 32 + "\n",  # a line missing
        "tally/receipt/v1\nlog\n+1\n" + "00" * 32 + "\n2026-01-01T00:00:00Z\n",
        "tally/receipt/v1\nlog\n9007199254740992\n" + "00" * 32 + "\n2026-01-01T00:00:00Z\n",
        "tally/receipt/v1\nlog\n1\n" + "00" * 32 + "\n2026-02-30T00:00:00Z\n",
        "tally/receipt/v1\n\n1\n" + "00" * 32 + "\n2026-01-01T00:00:00Z\n",
    ],
)
def test_malformed_bodies_are_refused(body: str) -> None:
    with pytest.raises(NoteError):
        parse_receipt(body)


def test_a_checkpoint_is_not_a_receipt_nor_the_reverse() -> None:
    verifier = SIGNER.verifier()
    checkpoint = sign_note(f"{SIGNER.name}\n7\n{'A' * 43}=\n", [SIGNER])
    with pytest.raises(NoteError, match="expected 5 lines"):
        open_receipt(checkpoint, verifier)
    # Even with two extension lines, making five, its first line is not the header.
    extended = sign_note(f"{SIGNER.name}\n7\n{'A' * 43}=\nx\ny\n", [SIGNER])
    with pytest.raises(NoteError, match="first line"):
        open_receipt(extended, verifier)
    with pytest.raises(NoteError):
        open_checkpoint(VECTOR["note"], verifier)
