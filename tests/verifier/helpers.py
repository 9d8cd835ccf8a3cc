"""Test-only helpers: where the shared vectors live, and a note signer.

The verifier never signs, so signing lives here, written directly against
``cryptography`` from the C2SP signed-note rules.
"""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

# The public vectors sit beside the repository: <repo>/../shared/vectors.
VECTORS_DIR = Path(__file__).resolve().parents[3] / "shared" / "vectors"


def public_key(seed: bytes) -> bytes:
    """Raw 32-byte Ed25519 public key of a 32-byte seed."""
    key = Ed25519PrivateKey.from_private_bytes(seed)
    return key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def make_key_id(name: str, pub: bytes) -> bytes:
    return hashlib.sha256(name.encode() + b"\n\x01" + pub).digest()[:4]


def vkey(name: str, seed: bytes) -> str:
    """Verifier-key string for ``name`` and ``seed``."""
    pub = public_key(seed)
    b64 = base64.b64encode(b"\x01" + pub).decode()
    return f"{name}+{make_key_id(name, pub).hex()}+{b64}"


def signature_line(body: str, name: str, seed: bytes) -> str:
    """The ``— <name> <base64(keyid || sig)>\\n`` line signing ``body``."""
    sig = Ed25519PrivateKey.from_private_bytes(seed).sign(body.encode())
    blob = make_key_id(name, public_key(seed)) + sig
    return f"\u2014 {name} {base64.b64encode(blob).decode()}\n"


def sign_note(body: str, *signers: tuple[str, bytes]) -> str:
    """A signed note: ``body``, a blank line, one signature line per (name, seed)."""
    return body + "\n" + "".join(signature_line(body, n, s) for n, s in signers)


def parse_go_private_key(text: str) -> tuple[str, bytes]:
    """Split Go's ``PRIVATE+KEY+<name>+<hex8>+<base64(0x01 || seed)>`` into (name, seed)."""
    prefix1, prefix2, name, _hex_id, b64 = text.split("+", 4)
    assert (prefix1, prefix2) == ("PRIVATE", "KEY")
    raw = base64.b64decode(b64)
    assert raw[0] == 1
    assert len(raw) == 33
    return name, raw[1:]
