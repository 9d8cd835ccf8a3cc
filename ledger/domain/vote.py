"""Jurors' signed votes (specs/plan.md §7).

A juror signs with their own Ed25519 key, enrolled on the log; the operator, which
does not hold that key, cannot forge or alter a vote.
"""

from __future__ import annotations

import base64
import re

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from ledger.errors import LedgerError
from ledger.publish.note import decode_base64

CHOICES = ("approve", "deny")
_HEX64 = re.compile(r"\A[0-9a-f]{64}\Z")


class VoteError(LedgerError):
    """A vote is malformed or its signature does not verify."""


def vote_message(origin: str, claim: str, choice: str, rationale_hash: str) -> bytes:
    """The bytes a juror signs: five lines, each ending in a newline."""
    if choice not in CHOICES:
        raise VoteError(f"expected a choice of {' or '.join(CHOICES)}, found {choice!r}")
    if not _HEX64.match(rationale_hash):
        raise VoteError(f"expected a 64-hex rationale hash, found {rationale_hash!r}")
    return f"tally/vote/v1\n{origin}\n{claim}\n{choice}\n{rationale_hash}\n".encode()


def sign_vote(seed: bytes, origin: str, claim: str, choice: str, rationale_hash: str) -> str:
    """Sign a vote with a juror's private key seed; returns base64 of the signature."""
    message = vote_message(origin, claim, choice, rationale_hash)
    return base64.b64encode(Ed25519PrivateKey.from_private_bytes(seed).sign(message)).decode()


def verify_vote(
    juror_key: str, origin: str, claim: str, choice: str, rationale_hash: str, signature: str
) -> None:
    """Check a vote's signature with the juror's enrolled key (both base64)."""
    try:
        key = decode_base64(juror_key, "juror key")
        sig = decode_base64(signature, "vote signature")
    except LedgerError as exc:
        raise VoteError(str(exc)) from None
    if len(key) != 32 or len(sig) != 64:
        raise VoteError(
            f"expected a 32-byte key and a 64-byte signature, found {len(key)} and {len(sig)}"
        )
    message = vote_message(origin, claim, choice, rationale_hash)
    try:
        Ed25519PublicKey.from_public_bytes(key).verify(sig, message)
    except InvalidSignature:
        raise VoteError(
            f"the vote's signature does not verify with juror key {juror_key}"
        ) from None
