"""Juror votes: the signed message and its strict check (specs/plan.md §7)."""

from __future__ import annotations

import base64
import hashlib

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from tests.verifier.helpers import public_key
from verifier.errors import VerificationError
from verifier.plan.errors import VoteError, VoteSignatureError
from verifier.plan.vote import decode_juror_key, rationale_hash, verify_vote, vote_message

ORIGIN = "vectors.tally.example/log"
CLAIM = "c-42"
JUROR_SEED = hashlib.sha256(b"juror 1").digest()
JUROR_KEY = base64.b64encode(public_key(JUROR_SEED)).decode()
RATIONALE = rationale_hash("The report matches the condition list.")


def sign(choice: str = "approve", rationale: str = RATIONALE, claim: str = CLAIM) -> str:
    sig = Ed25519PrivateKey.from_private_bytes(JUROR_SEED).sign(
        vote_message(ORIGIN, claim, choice, rationale)
    )
    return base64.b64encode(sig).decode()


def test_vote_message_bytes() -> None:
    h = "ab" * 32
    assert vote_message(ORIGIN, CLAIM, "deny", h) == (
        b"tally/vote/v1\nvectors.tally.example/log\nc-42\ndeny\n" + h.encode() + b"\n"
    )


def test_rationale_hash() -> None:
    assert rationale_hash("") == hashlib.sha256(b"").hexdigest()
    assert rationale_hash("\u75c5") == hashlib.sha256("\u75c5".encode()).hexdigest()


@pytest.mark.parametrize("choice", ["approve", "deny"])
def test_valid_votes(choice: str) -> None:
    verify_vote(JUROR_KEY, ORIGIN, CLAIM, choice, RATIONALE, sign(choice))


@pytest.mark.parametrize(
    "change",
    ["origin", "claim", "choice", "rationale", "key", "signature"],
)
def test_any_change_breaks_the_signature(change: str) -> None:
    args = {
        "juror_key_b64": JUROR_KEY,
        "origin": ORIGIN,
        "claim": CLAIM,
        "choice": "approve",
        "rationale_hash": RATIONALE,
        "signature_b64": sign(),
    }
    if change == "origin":
        args["origin"] = "other.example/log"
    elif change == "claim":
        args["claim"] = "c-43"
    elif change == "choice":
        args["choice"] = "deny"
    elif change == "rationale":
        args["rationale_hash"] = rationale_hash("something else")
    elif change == "key":
        args["juror_key_b64"] = base64.b64encode(public_key(bytes(32))).decode()
    else:
        raw = bytearray(base64.b64decode(args["signature_b64"]))
        raw[10] ^= 1
        args["signature_b64"] = base64.b64encode(bytes(raw)).decode()
    with pytest.raises(VoteSignatureError, match="does not verify") as caught:
        verify_vote(**args)
    assert isinstance(caught.value, VerificationError)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("choice", "Approve", "'approve' or 'deny'"),
        ("choice", "abstain", "'approve' or 'deny'"),
        ("choice", "", "'approve' or 'deny'"),
        ("choice", None, "'approve' or 'deny'"),
        ("rationale_hash", "AB" * 32, "64 lower-case hex"),
        ("rationale_hash", "ab" * 31, "64 lower-case hex"),
        ("rationale_hash", "ab" * 32 + "\n", "64 lower-case hex"),
        ("rationale_hash", 7, "64 lower-case hex"),
        ("claim", "c-042", "claim id"),
        ("claim", "42", "claim id"),
        ("origin", "bad origin", "origin"),
        ("origin", "a+b", "origin"),
        ("origin", "", "origin"),
        ("origin", "x\ny", "origin"),
    ],
)
def test_malformed_fields(field: str, value: object, message: str) -> None:
    args: dict[str, object] = {
        "juror_key_b64": JUROR_KEY,
        "origin": ORIGIN,
        "claim": CLAIM,
        "choice": "approve",
        "rationale_hash": RATIONALE,
        "signature_b64": sign(),
    }
    args[field] = value
    with pytest.raises(VoteError, match=message) as caught:
        verify_vote(**args)  # type: ignore[arg-type]
    assert not isinstance(caught.value, VoteSignatureError)


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("signature_b64", lambda s, k: s.rstrip("="), "base64"),
        ("signature_b64", lambda s, k: " " + s, "base64"),
        ("signature_b64", lambda s, k: _b64(base64.b64decode(s)[:63]), "64 bytes, found 63"),
        ("signature_b64", lambda s, k: _b64(base64.b64decode(s) + b"\x00"), "64 bytes, found 65"),
        ("signature_b64", lambda s, k: s[:-3] + "A" + s[-2:], None),
        ("signature_b64", lambda s, k: None, "base64 string"),
        ("juror_key_b64", lambda s, k: k.rstrip("="), "base64"),
        ("juror_key_b64", lambda s, k: _b64(base64.b64decode(k)[:31]), "32 bytes, found 31"),
        ("juror_key_b64", lambda s, k: _b64(b"\x01" + base64.b64decode(k)), "32 bytes, found 33"),
        ("juror_key_b64", lambda s, k: k[:-2] + "B=", "canonical"),
    ],
)
def test_malformed_encodings(field: str, value: object, message: str | None) -> None:
    sig = sign()
    assert callable(value)
    args: dict[str, object] = {
        "juror_key_b64": JUROR_KEY,
        "origin": ORIGIN,
        "claim": CLAIM,
        "choice": "approve",
        "rationale_hash": RATIONALE,
        "signature_b64": sig,
    }
    args[field] = value(sig, JUROR_KEY)
    if message is None:
        # A changed final character is either non-canonical or another signature.
        with pytest.raises(VoteError):
            verify_vote(**args)  # type: ignore[arg-type]
        return
    with pytest.raises(VoteError, match=message):
        verify_vote(**args)  # type: ignore[arg-type]


def test_non_canonical_base64_of_the_same_bytes_is_refused() -> None:
    sig = sign()
    # 64 bytes = 88 characters with "==" padding; the last data character carries 4
    # unused bits. Setting one of them keeps the bytes but breaks canonical form.
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    last = alphabet.index(sig[-3])
    mangled = sig[:-3] + alphabet[last | 1] + "=="
    if mangled == sig:
        mangled = sig[:-3] + alphabet[last | 2] + "=="
    assert base64.b64decode(mangled) == base64.b64decode(sig)
    with pytest.raises(VoteError, match="canonical"):
        verify_vote(JUROR_KEY, ORIGIN, CLAIM, "approve", RATIONALE, mangled)


def test_decode_juror_key() -> None:
    assert decode_juror_key(JUROR_KEY) == public_key(JUROR_SEED)
