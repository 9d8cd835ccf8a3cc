"""C2SP signed notes with Ed25519 keys (https://c2sp.org/signed-note).

A note is UTF-8 text ending in a newline, then a blank line, then one or more
signature lines ``— <name> <base64(key ID || signature)>``. The key ID is
``SHA-256(name || 0x0A || 0x01 || public key)[:4]``; the verifier key string is
``<name>+<hex key ID>+<base64(0x01 || public key)>`` and the signer key string,
as Go's ``golang.org/x/mod/sumdb/note`` writes it,
``PRIVATE+KEY+<name>+<hex key ID>+<base64(0x01 || seed)>``. specs/checkpoint.md
gives worked examples.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from ledger.errors import KeyFormatError, NoteError

ALG_ED25519 = 0x01
SIGNATURE_PREFIX = "\u2014 "  # EM DASH, space
MAX_SIGNATURES = 100
_NAME_RE = re.compile(r"\A[^\s+]+\Z")
_HEX8_RE = re.compile(r"\A[0-9a-f]{8}\Z")


def key_id(name: str, public_key: bytes) -> bytes:
    """The 4-byte key ID: ``SHA-256(name || "\\n" || 0x01 || public key)[:4]``."""
    return hashlib.sha256(name.encode() + b"\n" + bytes([ALG_ED25519]) + public_key).digest()[:4]


def check_name(name: str) -> None:
    """Refuse a key name that is empty or holds white space or '+' (signed-note §Signatures)."""
    if not _NAME_RE.match(name):
        raise KeyFormatError(f"expected a key name without spaces or '+', found {name!r}")


@dataclass(frozen=True)
class Verifier:
    """A named Ed25519 public key that checks note signatures."""

    name: str
    public_key: bytes

    @property
    def key_id(self) -> bytes:
        """This key's 4-byte ID."""
        return key_id(self.name, self.public_key)

    def to_string(self) -> str:
        """The verifier key string ``name+hex8+base64(0x01||key)``."""
        encoded = base64.b64encode(bytes([ALG_ED25519]) + self.public_key).decode()
        return f"{self.name}+{self.key_id.hex()}+{encoded}"

    def verify(self, message: bytes, signature: bytes) -> bool:
        """True when ``signature`` is this key's Ed25519 signature over ``message``."""
        try:
            Ed25519PublicKey.from_public_bytes(self.public_key).verify(signature, message)
        except InvalidSignature:
            return False
        return True


def parse_verifier_key(text: str) -> Verifier:
    """Parse ``name+hex8+base64(0x01||key)``, checking the ID against the key."""
    parts = text.split("+", 2)
    if len(parts) != 3:
        raise KeyFormatError(f"expected a verifier key name+hex8+base64, found {text!r}")
    name, hex_id, encoded = parts
    check_name(name)
    if not _HEX8_RE.match(hex_id):
        raise KeyFormatError(f"expected 8 lowercase hex digits of key ID, found {hex_id!r}")
    key = decode_base64(encoded, "verifier key")
    if len(key) != 33 or key[0] != ALG_ED25519:
        raise KeyFormatError(
            f"expected 0x01 then a 32-byte Ed25519 key (33 bytes), found {len(key)} bytes "
            f"starting {key[:1].hex() or 'nothing'}"
        )
    verifier = Verifier(name, key[1:])
    if verifier.key_id.hex() != hex_id:
        raise KeyFormatError(
            f"key ID {hex_id} does not match the key, whose ID is {verifier.key_id.hex()}"
        )
    return verifier


@dataclass(frozen=True)
class Signer:
    """A named Ed25519 private key that signs notes. Its repr never shows the key."""

    name: str
    seed: bytes

    def __repr__(self) -> str:
        return f"Signer(name={self.name!r}, key_id={self.verifier().key_id.hex()})"

    def verifier(self) -> Verifier:
        """The matching public key."""
        public = (
            Ed25519PrivateKey.from_private_bytes(self.seed)
            .public_key()
            .public_bytes(Encoding.Raw, PublicFormat.Raw)
        )
        return Verifier(self.name, public)

    def sign(self, message: bytes) -> bytes:
        """Ed25519 signature (RFC 8032, deterministic) over ``message``."""
        return Ed25519PrivateKey.from_private_bytes(self.seed).sign(message)

    def to_string(self) -> str:
        """The signer key string ``PRIVATE+KEY+name+hex8+base64(0x01||seed)``."""
        encoded = base64.b64encode(bytes([ALG_ED25519]) + self.seed).decode()
        return f"PRIVATE+KEY+{self.name}+{self.verifier().key_id.hex()}+{encoded}"

    @staticmethod
    def generate(name: str) -> Signer:
        """A new random key named ``name``."""
        check_name(name)
        seed = Ed25519PrivateKey.generate().private_bytes_raw()
        return Signer(name, seed)


def parse_signer_key(text: str) -> Signer:
    """Parse ``PRIVATE+KEY+name+hex8+base64(0x01||seed)``; messages never echo the key."""
    parts = text.strip().split("+", 4)
    if len(parts) != 5 or parts[0] != "PRIVATE" or parts[1] != "KEY":
        raise KeyFormatError("expected a signer key PRIVATE+KEY+name+hex8+base64")
    _, _, name, hex_id, encoded = parts
    check_name(name)
    try:
        key = base64.b64decode(encoded, validate=True)
    except binascii.Error:
        raise KeyFormatError("the signer key's last part is not base64") from None
    if len(key) != 33 or key[0] != ALG_ED25519:
        raise KeyFormatError("expected 0x01 then a 32-byte Ed25519 seed in the signer key")
    signer = Signer(name, key[1:])
    if signer.verifier().key_id.hex() != hex_id:
        raise KeyFormatError("the signer key's ID does not match its key")
    return signer


def sign_note(body: str, signers: Iterable[Signer]) -> str:
    """Sign ``body`` (which must end in a newline) and return the whole note."""
    check_body(body)
    lines = []
    for signer in signers:
        signature = signer.sign(body.encode())
        blob = base64.b64encode(signer.verifier().key_id + signature).decode()
        lines.append(f"{SIGNATURE_PREFIX}{signer.name} {blob}\n")
    if not lines:
        raise NoteError("expected at least one signer")
    return body + "\n" + "".join(lines)


def check_body(body: str) -> None:
    """A note body is non-empty text ending in newline, without other control characters."""
    if not body.endswith("\n"):
        raise NoteError("expected the note text to end with a newline")
    for char in body:
        if (char < " " and char != "\n") or char == "\x7f":
            raise NoteError(f"expected no control characters in the note, found {char!r}")


@dataclass(frozen=True)
class Signature:
    """One parsed signature line."""

    name: str
    key_id: bytes
    signature: bytes


def split_note(text: str) -> tuple[str, list[Signature]]:
    """Split a note at its last blank line into the body and its parsed signature lines."""
    cut = text.rfind("\n\n")
    if cut < 0:
        raise NoteError("expected a blank line between the note text and its signatures")
    body, block = text[: cut + 1], text[cut + 2 :]
    check_body(body)
    if not block.endswith("\n"):
        raise NoteError("expected the signature block to end with a newline")
    signatures = []
    for line in block[:-1].split("\n"):
        if not line.startswith(SIGNATURE_PREFIX):
            raise NoteError(f"expected a signature line '— name signature', found {line!r}")
        fields = line[len(SIGNATURE_PREFIX) :].split(" ")
        if len(fields) != 2:
            raise NoteError(f"expected '— name signature', found {line!r}")
        name, encoded = fields
        check_name(name)
        blob = decode_base64(encoded, "signature")
        if len(blob) < 5:
            raise NoteError(f"expected a key ID and a signature, found {len(blob)} bytes")
        signatures.append(Signature(name, blob[:4], blob[4:]))
    if len(signatures) > MAX_SIGNATURES:
        raise NoteError(f"expected at most {MAX_SIGNATURES} signatures, found {len(signatures)}")
    return body, signatures


def open_note(text: str, verifiers: Iterable[Verifier]) -> tuple[str, list[str]]:
    """Verify a note; return its body and the names of the known keys that signed it.

    Unknown signatures are ignored (cosignatures, rotation); a known key with a bad
    signature rejects the note; at least one known key must have signed.
    """
    body, signatures = split_note(text)
    known = {(v.name, v.key_id): v for v in verifiers}
    signed = []
    for sig in signatures:
        verifier = known.get((sig.name, sig.key_id))
        if verifier is None:
            continue
        if not verifier.verify(body.encode(), sig.signature):
            raise NoteError(f"the signature by {sig.name} does not verify")
        signed.append(sig.name)
    if not signed:
        raise NoteError(f"expected a signature by one of {sorted(n for n, _ in known)}, found none")
    return body, signed


def decode_base64(text: str, what: str) -> bytes:
    """Decode standard, padded base64 in its one canonical spelling.

    ``b64decode`` ignores the unused low bits of the last character, so without the
    re-encoding check two different texts (two different notes) would carry the
    same signature or root.
    """
    try:
        data = base64.b64decode(text, validate=True)
    except binascii.Error:
        data = None
    if data is None or base64.b64encode(data).decode() != text:
        raise KeyFormatError(f"expected canonical standard base64 in the {what}, found {text!r}")
    return data
