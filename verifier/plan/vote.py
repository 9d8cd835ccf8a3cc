"""Juror votes (specs/plan.md §7): the signed message and its strict check.

A juror signs, with their own enrolled Ed25519 key (RFC 8032), the lines::

    tally/vote/v1
    <log origin>
    <claim>
    <choice>
    <rationale_hash>

joined by ``\\n`` with a final ``\\n``. ``choice`` is ``approve`` or ``deny``;
``rationale_hash`` = H(rationale text), 64 lower-case hex digits; the signature is
canonical standard base64 of 64 bytes and the juror key (``juror.enrolled``)
canonical standard base64 of 32 bytes.

Whether the juror was drawn, voted once, used the right actor and voted before
``voting_closes`` is decided from the log by the caller; this module checks the
bytes of one vote.
"""

from __future__ import annotations

import hashlib

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from verifier.note import ED25519_KEY_SIZE, ED25519_SIG_SIZE, decode_base64
from verifier.plan.errors import PlanError, VoteError, VoteSignatureError
from verifier.plan.ids import HEX64_PATTERN, check_claim, check_origin, show

VOTE_DOMAIN = "tally/vote/v1"
CHOICES = ("approve", "deny")


def rationale_hash(rationale: str) -> str:
    """H(rationale text), the text encoded as UTF-8, in lower-case hex."""
    return hashlib.sha256(rationale.encode("utf-8")).hexdigest()


def vote_message(origin: str, claim: str, choice: str, rationale_hash: str) -> bytes:
    """The bytes a juror signs for a vote; refuses malformed fields with :class:`VoteError`."""
    try:
        check_origin(origin)
        check_claim(claim)
    except PlanError as exc:
        raise VoteError(f"vote: {exc}") from None
    if not isinstance(choice, str) or choice not in CHOICES:
        raise VoteError(f"vote choice must be 'approve' or 'deny', found {show(choice)}")
    if not isinstance(rationale_hash, str) or not HEX64_PATTERN.fullmatch(rationale_hash):
        raise VoteError(
            f"vote rationale_hash must be 64 lower-case hex digits, found {show(rationale_hash)}"
        )
    return f"{VOTE_DOMAIN}\n{origin}\n{claim}\n{choice}\n{rationale_hash}\n".encode()


def decode_juror_key(juror_key_b64: str) -> bytes:
    """Decode a ``juror_key``: canonical standard base64 of a 32-byte Ed25519 public key."""
    return _decode_b64(juror_key_b64, ED25519_KEY_SIZE, "juror key")


def verify_vote(
    juror_key_b64: str,
    origin: str,
    claim: str,
    choice: str,
    rationale_hash: str,
    signature_b64: str,
) -> None:
    """Check a vote's signature with the juror's enrolled key.

    Raises :class:`VoteError` for a malformed field, key or signature encoding and
    :class:`VoteSignatureError` when the signature does not verify.
    """
    message = vote_message(origin, claim, choice, rationale_hash)
    key = decode_juror_key(juror_key_b64)
    signature = _decode_b64(signature_b64, ED25519_SIG_SIZE, "vote signature")
    try:
        Ed25519PublicKey.from_public_bytes(key).verify(signature, message)
    except (InvalidSignature, ValueError):
        raise VoteSignatureError(
            f"vote signature on {claim} ({choice}) does not verify with juror key {juror_key_b64}"
        ) from None


def _decode_b64(text: object, size: int, what: str) -> bytes:
    if not isinstance(text, str):
        raise VoteError(f"{what} must be a base64 string, found {show(text)}")
    try:
        raw = decode_base64(text)
    except ValueError as exc:
        raise VoteError(f"{what}: {exc}") from None
    if len(raw) != size:
        raise VoteError(f"{what} must decode to {size} bytes, found {len(raw)}")
    return raw
