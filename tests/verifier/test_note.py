"""C2SP signed notes: upstream vectors, a byte-exact re-signature, and mutations."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from tests.verifier.helpers import (
    VECTORS_DIR,
    parse_go_private_key,
    public_key,
    sign_note,
    signature_line,
    vkey,
)
from verifier.errors import (
    KeyFormatError,
    NoteError,
    SignatureError,
    UnverifiedNoteError,
    VerificationError,
)
from verifier.note import Verifier, key_id, open_note, parse_verifier_key

SEED = bytes(range(32))
OTHER_SEED = bytes(range(32, 64))
NAME = "tally.example/log"
BODY = "tally.example/log\n3\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"


def _vector_names() -> list[str]:
    path = VECTORS_DIR / "signed-note.json"
    if not path.is_file():
        return ["vectors-missing"]
    return [v["name"] for v in json.loads(path.read_text())["vectors"]]


def _vector(shared_vectors: Path, name: str) -> dict[str, Any]:
    data = json.loads((shared_vectors / "signed-note.json").read_text())
    found: dict[str, Any] = next(v for v in data["vectors"] if v["name"] == name)
    return found


def _mutate_b64_blob(line: str, index: int) -> str:
    """Flip one bit of byte ``index`` of a signature line's base64 blob."""
    head, b64 = line.rstrip("\n").rsplit(" ", 1)
    blob = bytearray(base64.b64decode(b64))
    blob[index] ^= 0x01
    return f"{head} {base64.b64encode(bytes(blob)).decode()}\n"


# ---------------------------------------------------------------- upstream vectors


@pytest.mark.parametrize("name", _vector_names())
def test_vector_verifies(shared_vectors: Path, name: str) -> None:
    v = _vector(shared_vectors, name)
    assert v["valid"] is True
    verifier = parse_verifier_key(v["verifier_key"])
    assert verifier.to_string() == v["verifier_key"]
    body, signers = open_note(v["note"], [verifier])
    assert v["note"].startswith(body + "\n\u2014 ")
    assert signers == [verifier.name]
    assert open_note(v["note"].encode(), [verifier]) == (body, signers)


@pytest.mark.parametrize("name", _vector_names())
def test_vector_mutations_fail(shared_vectors: Path, name: str) -> None:
    v = _vector(shared_vectors, name)
    verifier = parse_verifier_key(v["verifier_key"])
    note: str = v["note"]
    split = note.rindex("\n\n") + 2
    body, line = note[:split], note[split:]

    # A flipped bit anywhere in the signature (after the 4-byte key ID).
    for i in (4, 20, 67):
        with pytest.raises(SignatureError):
            open_note(body + _mutate_b64_blob(line, i), [verifier])
    # An altered body: one character changed, or one appended.
    with pytest.raises(SignatureError):
        open_note(body.replace("e", "E", 1) + line, [verifier])
    with pytest.raises(SignatureError):
        open_note(body[:-2] + "!\n\n" + line, [verifier])
    # A flipped key ID makes the line unknown, so the note is unverified.
    with pytest.raises(UnverifiedNoteError):
        open_note(body + _mutate_b64_blob(line, 0), [verifier])
    # The same key under another name has another key ID: unknown, unverified.
    renamed = Verifier.from_public_key(verifier.name + "x", verifier.public_key)
    with pytest.raises(UnverifiedNoteError):
        open_note(note, [renamed])
    # The signature line renamed: unknown as well.
    with pytest.raises(UnverifiedNoteError):
        open_note(note.replace(f"\u2014 {verifier.name} ", "\u2014 someone.else ", 1), [verifier])


def test_go_vector_resigns_byte_for_byte(shared_vectors: Path) -> None:
    v = _vector(shared_vectors, "go note_test TestSign")
    name, seed = parse_go_private_key(v["private_key"])
    verifier = parse_verifier_key(v["verifier_key"])
    assert name == verifier.name
    assert public_key(seed) == verifier.public_key
    assert vkey(name, seed) == v["verifier_key"]
    body, _ = open_note(v["note"], [verifier])
    assert sign_note(body, (name, seed)) == v["note"]
    assert signature_line(body, name, seed) == v["note"][len(body) + 1 :]


def test_go_verifier_key_id() -> None:
    v = parse_verifier_key("PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW")
    assert key_id("PeterNeumann", v.public_key).hex() == "c74f20a3"


# ---------------------------------------------------------------- verifier keys

GOOD_VKEY = vkey(NAME, SEED)


def test_verifier_key_round_trip() -> None:
    v = parse_verifier_key(GOOD_VKEY)
    assert (v.name, v.public_key) == (NAME, public_key(SEED))
    assert v.to_string() == GOOD_VKEY
    assert Verifier.from_public_key(NAME, public_key(SEED)) == v


def _with_b64(raw: bytes, name: str = NAME, hex_id: str | None = None) -> str:
    hex_id = hex_id if hex_id is not None else key_id(name, raw[1:]).hex()
    return f"{name}+{hex_id}+{base64.b64encode(raw).decode()}"


PUB = public_key(SEED)
_, GOOD_HEX, GOOD_B64 = GOOD_VKEY.split("+", 2)


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("", id="empty"),
        pytest.param(NAME, id="name-only"),
        pytest.param(f"{NAME}+{GOOD_HEX}", id="no-key"),
        pytest.param(f"+{GOOD_HEX}+{GOOD_B64}", id="empty-name"),
        pytest.param(_with_b64(b"\x01" + PUB, name="a b"), id="name-with-space"),
        pytest.param(_with_b64(b"\x01" + PUB, name="a\nb"), id="name-with-newline"),
        pytest.param(_with_b64(b"\x01" + PUB, name="a\tb"), id="name-with-tab"),
        pytest.param(f"{NAME}+{GOOD_HEX.upper()}+{GOOD_B64}", id="uppercase-hex"),
        pytest.param(f"{NAME}+{GOOD_HEX[:7]}+{GOOD_B64}", id="short-hex"),
        pytest.param(f"{NAME}+{GOOD_HEX}0+{GOOD_B64}", id="long-hex"),
        pytest.param(f"{NAME}+zzzzzzzz+{GOOD_B64}", id="non-hex"),
        pytest.param(f"{NAME}+{GOOD_HEX}+{GOOD_B64[:-1]}", id="base64-no-padding"),
        pytest.param(f"{NAME}+{GOOD_HEX}+{GOOD_B64} ", id="base64-trailing-space"),
        pytest.param(f"{NAME}+{GOOD_HEX}+{GOOD_B64}\n", id="base64-trailing-newline"),
        pytest.param(f"{NAME}+{GOOD_HEX}+!{GOOD_B64[1:]}", id="base64-bad-char"),
        pytest.param(f"{NAME}+{GOOD_HEX}+", id="base64-empty"),
        pytest.param(_with_b64(b"\x02" + PUB), id="wrong-type"),
        pytest.param(_with_b64(b"\x01" + PUB[:31]), id="short-key"),
        pytest.param(_with_b64(b"\x01" + PUB + b"\x00"), id="long-key"),
        pytest.param(_with_b64(b"\x01" + PUB, hex_id="00000000"), id="key-id-mismatch"),
        pytest.param(f"other.name+{GOOD_HEX}+{GOOD_B64}", id="name-changed"),
    ],
)
def test_bad_verifier_keys(text: str) -> None:
    with pytest.raises(KeyFormatError):
        parse_verifier_key(text)


def test_every_single_character_change_of_a_vkey_fails() -> None:
    """As Go's TestNewVerifier: no one-character edit of a key string still parses."""
    for i, ch in enumerate(GOOD_VKEY):
        for repl in {"A", "a", "0", "+", "/"} - {ch}:
            mutated = GOOD_VKEY[:i] + repl + GOOD_VKEY[i + 1 :]
            with pytest.raises(KeyFormatError):
                parse_verifier_key(mutated)


def test_verifier_constructor_checks_its_fields() -> None:
    with pytest.raises(KeyFormatError):
        Verifier(NAME, b"\0\0\0\0", PUB)
    with pytest.raises(KeyFormatError):
        Verifier("", key_id("", PUB), PUB)
    with pytest.raises(KeyFormatError):
        Verifier(NAME, key_id(NAME, PUB[:31]), PUB[:31])


# ---------------------------------------------------------------- opening notes

V = parse_verifier_key(GOOD_VKEY)
OTHER = parse_verifier_key(vkey("witness.example", OTHER_SEED))
NOTE = sign_note(BODY, (NAME, SEED))
SIG_LINE = NOTE[len(BODY) + 1 :]


def test_open_returns_body_and_signers() -> None:
    assert open_note(NOTE, [V]) == (BODY, [NAME])


def test_unknown_signatures_are_ignored() -> None:
    stranger = signature_line(BODY, "witness.example", OTHER_SEED)
    assert open_note(NOTE + stranger, [V]) == (BODY, [NAME])
    assert open_note(BODY + "\n" + stranger + SIG_LINE, [V]) == (BODY, [NAME])
    # Not even a valid signature is needed from a key nobody asked about.
    junk = "\u2014 witness.example " + base64.b64encode(b"\x01\x02\x03\x04junk").decode() + "\n"
    assert open_note(NOTE + junk, [V]) == (BODY, [NAME])


def test_all_known_signers_are_reported_once() -> None:
    both = sign_note(BODY, (NAME, SEED), ("witness.example", OTHER_SEED))
    assert open_note(both, [V, OTHER]) == (BODY, [NAME, "witness.example"])
    assert open_note(NOTE + SIG_LINE, [V]) == (BODY, [NAME])


def test_a_bad_known_signature_rejects_even_beside_a_good_one() -> None:
    bad = _mutate_b64_blob(SIG_LINE, 10)
    with pytest.raises(SignatureError):
        open_note(NOTE + bad, [V])
    # The other key signed other text: known key, wrong signature.
    wrong = signature_line("other text\n", "witness.example", OTHER_SEED)
    with pytest.raises(SignatureError):
        open_note(NOTE + wrong, [V, OTHER])


def test_known_key_with_short_signature_fails() -> None:
    blob = V.key_id + b"\x00" * 63
    line = f"\u2014 {NAME} {base64.b64encode(blob).decode()}\n"
    with pytest.raises(SignatureError):
        open_note(BODY + "\n" + line, [V])


def test_no_known_signer() -> None:
    with pytest.raises(UnverifiedNoteError) as info:
        open_note(NOTE, [OTHER])
    assert "witness.example+" in str(info.value)
    with pytest.raises(UnverifiedNoteError):
        open_note(NOTE, [])


def test_body_may_contain_blank_lines() -> None:
    body = "first\n\nsecond\n"
    assert open_note(sign_note(body, (NAME, SEED)), [V]) == (body, [NAME])


def test_signature_line_limit() -> None:
    stranger = signature_line(BODY, "witness.example", OTHER_SEED)
    assert open_note(NOTE + stranger * 99, [V]) == (BODY, [NAME])
    with pytest.raises(NoteError, match="101 signature lines"):
        open_note(NOTE + stranger * 100, [V])


@pytest.mark.parametrize(
    "note",
    [
        pytest.param(BODY + SIG_LINE, id="no-blank-line"),
        pytest.param(BODY + "\n", id="no-signature-lines"),
        pytest.param(NOTE[:-1], id="no-final-newline"),
        pytest.param(NOTE + "\n", id="trailing-blank-line"),
        pytest.param(NOTE.replace("\u2014 ", "- ", 1), id="hyphen-not-em-dash"),
        pytest.param(NOTE.replace("\u2014 ", "\u2014", 1), id="no-space-after-dash"),
        pytest.param(NOTE.replace(f"{NAME} ", f"{NAME}  ", 1), id="two-spaces"),
        pytest.param(NOTE[:-1] + " \n", id="trailing-space"),
        pytest.param(NOTE[:-1] + "\r\n", id="crlf"),
        pytest.param(NOTE.replace(f"\u2014 {NAME} ", "\u2014 ", 1), id="no-name"),
        pytest.param(NOTE[:-2] + "\n", id="truncated-base64"),
        pytest.param(NOTE[:-2] + "*=\n", id="bad-base64-char"),
        pytest.param(BODY + "\n\u2014 a AAAAAA==\n", id="blob-too-short"),
        pytest.param(BODY + "\n\u2014 a+b " + SIG_LINE.split(" ")[2], id="name-with-plus"),
        pytest.param("body\x00\n\n" + SIG_LINE, id="nul-in-body"),
        pytest.param("bo\rdy\n\n" + SIG_LINE, id="cr-in-body"),
        pytest.param("bo\tdy\n\n" + SIG_LINE, id="tab-in-body"),
        pytest.param("bo\x7fdy\n\n" + SIG_LINE, id="del-in-body"),
        pytest.param("bo\ud800dy\n\n" + SIG_LINE, id="lone-surrogate"),
    ],
)
def test_malformed_notes(note: str) -> None:
    with pytest.raises(NoteError):
        open_note(note, [V])


def test_non_utf8_bytes() -> None:
    with pytest.raises(NoteError, match="UTF-8"):
        open_note(b"caf\xe9\n\n" + SIG_LINE.encode(), [V])
    assert open_note(NOTE.encode(), [V]) == (BODY, [NAME])


def test_non_ascii_body_is_signed_as_utf8() -> None:
    body = "互助 \u2014 caf\u00e9\n"
    assert open_note(sign_note(body, (NAME, SEED)), [V]) == (body, [NAME])


def test_note_errors_are_verification_errors() -> None:
    for cls in (SignatureError, UnverifiedNoteError, KeyFormatError):
        assert issubclass(cls, VerificationError)
    assert issubclass(SignatureError, NoteError)
