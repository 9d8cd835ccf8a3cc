"""C2SP signed-note verification, Ed25519 keys only (https://c2sp.org/signed-note).

A signed note is UTF-8 text: a body ending in a newline, a blank line, then one or
more signature lines ``— <name> <base64(key ID || signature)>``. The text is split at
its last blank line. A verifier key is the string ``<name>+<hex8>+<base64(0x01 ||
pubkey)>``, where the hex is the key ID, ``SHA-256(name || 0x0A || 0x01 || pubkey)[:4]``.

Opening follows the spec's client rules: signature lines from unknown (name, key ID)
pairs are ignored (key rotation, witness cosignatures); a line from a known key that
does not verify rejects the whole note; at least one known key must have signed.
This module only verifies; the verifier never signs.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from verifier.b64 import Base64Error, decode, encode
from verifier.errors import KeyFormatError, NoteError, SignatureError, UnverifiedNoteError

ALG_ED25519 = 0x01
KEY_ID_SIZE = 4
ED25519_KEY_SIZE = 32
ED25519_SIG_SIZE = 64
MAX_SIGNATURES = 100
"""Most signature lines a note may carry (as golang.org/x/mod/sumdb/note)."""

SIG_PREFIX = "\u2014 "  # EM DASH, then a space
_HEX8 = re.compile(r"[0-9a-f]{8}")

decode_base64 = decode
"""Canonical standard base64 (:func:`verifier.b64.decode`), by the name the plan's modules use."""


def key_id(name: str, public_key: bytes) -> bytes:
    """Return the 4-byte Ed25519 key ID, ``SHA-256(name || 0x0A || 0x01 || pubkey)[:4]``."""
    data = name.encode("utf-8") + b"\n" + bytes([ALG_ED25519]) + public_key
    return hashlib.sha256(data).digest()[:KEY_ID_SIZE]


def is_valid_name(name: str) -> bool:
    """Tell whether ``name`` may be a key name: non-empty, no whitespace, no ``+``."""
    return bool(name) and "+" not in name and not any(c.isspace() for c in name)


@dataclass(frozen=True)
class Verifier:
    """An Ed25519 note verifier: key name, 4-byte key ID and 32-byte public key."""

    name: str
    key_id: bytes
    public_key: bytes

    def __post_init__(self) -> None:
        if not is_valid_name(self.name):
            raise KeyFormatError(f"key name must be non-empty without spaces or '+': {self.name!r}")
        if len(self.public_key) != ED25519_KEY_SIZE:
            raise KeyFormatError(
                f"Ed25519 public key must be {ED25519_KEY_SIZE} bytes, found {len(self.public_key)}"
            )
        want = key_id(self.name, self.public_key)
        if self.key_id != want:
            raise KeyFormatError(
                f"key ID for {self.name} must be {want.hex()}, found {self.key_id.hex()}"
            )

    @classmethod
    def from_public_key(cls, name: str, public_key: bytes) -> Verifier:
        """Build a verifier for ``name`` and a raw 32-byte Ed25519 public key."""
        return cls(name, key_id(name, public_key), public_key)

    def to_string(self) -> str:
        """Return the verifier-key string ``<name>+<hex8>+<base64(0x01 || pubkey)>``."""
        encoded = encode(bytes([ALG_ED25519]) + self.public_key)
        return f"{self.name}+{self.key_id.hex()}+{encoded}"

    def verify(self, message: bytes, signature: bytes) -> bool:
        """Tell whether ``signature`` is this key's Ed25519 signature of ``message``."""
        if len(signature) != ED25519_SIG_SIZE:
            return False
        try:
            Ed25519PublicKey.from_public_bytes(self.public_key).verify(signature, message)
        except InvalidSignature:
            return False
        return True


def parse_verifier_key(text: str) -> Verifier:
    """Parse a verifier-key string ``<name>+<hex8>+<base64(0x01 || pubkey)>``.

    Splits on the first two ``+`` only, since standard base64 may contain ``+``.
    Raises :class:`KeyFormatError` on any deviation, including a key ID that does
    not match the name and key.
    """
    parts = text.split("+", 2)
    if len(parts) != 3:
        raise KeyFormatError(f"verifier key must be <name>+<hex8>+<base64>, found {text!r}")
    name, hex_id, b64 = parts
    if not is_valid_name(name):
        raise KeyFormatError(f"key name must be non-empty without spaces or '+': {name!r}")
    if not _HEX8.fullmatch(hex_id):
        raise KeyFormatError(f"key ID must be 8 lowercase hex digits, found {hex_id!r}")
    try:
        raw = decode(b64)
    except Base64Error as exc:
        raise KeyFormatError(f"verifier key for {name}: {exc}") from None
    if not raw or raw[0] != ALG_ED25519:
        found = f"0x{raw[0]:02x}" if raw else "nothing"
        raise KeyFormatError(
            f"verifier key for {name} must have type 0x{ALG_ED25519:02x} (Ed25519), found {found}"
        )
    if len(raw) != 1 + ED25519_KEY_SIZE:
        raise KeyFormatError(
            f"verifier key for {name} must be 1 + {ED25519_KEY_SIZE} bytes, found {len(raw)}"
        )
    return Verifier(name, bytes.fromhex(hex_id), raw[1:])


def open_note(text: str | bytes, verifiers: Iterable[Verifier]) -> tuple[str, list[str]]:
    """Open a signed note; return its body and the names of the known keys that signed it.

    C2SP signed-note: the body is everything up to and including the newline before
    the last blank line. Raises :class:`NoteError` if the note is malformed,
    :class:`SignatureError` if a known key's signature fails, and
    :class:`UnverifiedNoteError` if no known key signed it.
    """
    body, lines = _split_note(_note_text(text))
    known = {(v.name, v.key_id): v for v in verifiers}
    message = body.encode("utf-8")
    signers: list[str] = []
    for n, line in enumerate(lines, start=1):
        name, kid, sig = _parse_signature_line(n, line)
        verifier = known.get((name, kid))
        if verifier is None:
            continue
        if not verifier.verify(message, sig):
            raise SignatureError(
                f"signature line {n} from known key {name}+{kid.hex()} does not verify"
            )
        if name not in signers:
            signers.append(name)
    if not signers:
        wanted = ", ".join(sorted(f"{name}+{kid.hex()}" for name, kid in known)) or "none"
        raise UnverifiedNoteError(
            f"no signature from a known key: expected one of [{wanted}], "
            f"found {len(lines)} signature line(s) from other keys"
        )
    return body, signers


def _note_text(text: str | bytes) -> str:
    """The note as text: UTF-8, with no control character but newline."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise NoteError(f"note is not valid UTF-8 at byte {exc.start}") from None
    else:
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise NoteError(f"note has a lone surrogate at character {exc.start}") from None
    for i, ch in enumerate(text):
        # ASCII control characters (C0 and DEL) other than newline are forbidden.
        if (ch < " " and ch != "\n") or ch == "\x7f":
            raise NoteError(f"note contains control character {ch!r} at character {i}")
    return text


def _split_note(text: str) -> tuple[str, list[str]]:
    """The body (up to the last blank line) and the signature lines."""
    split = text.rfind("\n\n")
    if split < 0:
        raise NoteError("note has no blank line before its signatures")
    body, sig_block = text[: split + 1], text[split + 2 :]
    if not sig_block or not sig_block.endswith("\n"):
        raise NoteError("note must end with at least one newline-terminated signature line")
    lines = sig_block[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise NoteError(f"note has {len(lines)} signature lines, at most {MAX_SIGNATURES} allowed")
    return body, lines


def _parse_signature_line(n: int, line: str) -> tuple[str, bytes, bytes]:
    """Split signature line ``n`` into (name, key ID, signature bytes)."""
    if not line.startswith(SIG_PREFIX):
        raise NoteError(f"signature line {n} must start with an em dash and a space: {line!r}")
    fields = line[len(SIG_PREFIX) :].split(" ")
    if len(fields) != 2:
        raise NoteError(f"signature line {n} must be '— <name> <base64>': {line!r}")
    name, b64 = fields
    if not is_valid_name(name):
        raise NoteError(f"signature line {n} has an invalid key name {name!r}")
    try:
        raw = decode(b64)
    except Base64Error as exc:
        raise NoteError(f"signature line {n}: {exc}") from None
    if len(raw) <= KEY_ID_SIZE:
        raise NoteError(
            f"signature line {n} must hold a {KEY_ID_SIZE}-byte key ID and a signature, "
            f"found {len(raw)} bytes"
        )
    return name, raw[:KEY_ID_SIZE], raw[KEY_ID_SIZE:]
