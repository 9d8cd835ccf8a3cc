"""Standard base64 (RFC 4648 §4), canonical: the one decoder of every base64 text read.

Hashes, proofs, entries, signatures and keys all travel as base64. Each is decoded
here, strictly: the standard alphabet with padding, no whitespace, and the unused
bits of the last group zero (RFC 4648 §3.5), so that given bytes have exactly one
encoding; and, where the length is known (a SHA-256 hash is 32 bytes), exactly that
many bytes. A text that is not is refused with a :class:`Base64Error` saying what
was expected and what was found.
"""

from __future__ import annotations

import base64
import binascii

from verifier.strict_json import kind_of

_SHOWN = 60
"""Characters of a refused text quoted in an error."""


class Base64Error(ValueError):
    """A text is not the canonical standard base64 of the bytes expected."""

    def __init__(self, what: str, expected: str, found: str) -> None:
        where = f"{what}: " if what else ""
        super().__init__(f"{where}expected {expected}, found {found}")
        self.what = what
        self.expected = expected
        self.found = found


def encode(data: bytes) -> str:
    """The standard base64 of ``data``, padded."""
    return base64.b64encode(data).decode("ascii")


def decode(text: object, what: str = "") -> bytes:
    """Decode canonical standard base64 of any length; ``what`` names it in errors."""
    if not isinstance(text, str):
        raise Base64Error(what, "a base64 string", kind_of(text))
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (UnicodeEncodeError, binascii.Error):
        raise Base64Error(what, "standard base64", _show(text)) from None
    # b64decode ignores non-zero unused bits; requiring the round trip makes the
    # encoding of given bytes unique.
    if encode(raw) != text:
        raise Base64Error(what, "canonical base64 (unused bits zero)", _show(text))
    return raw


def decode_sized(text: object, size: int, what: str = "") -> bytes:
    """Decode canonical standard base64 of exactly ``size`` bytes (a hash, a key)."""
    raw = decode(text, what)
    if len(raw) != size:
        raise Base64Error(what, f"base64 of {size} bytes", f"{len(raw)} bytes")
    return raw


def _show(text: str) -> str:
    shown = repr(text[:_SHOWN])
    return shown if len(text) <= _SHOWN else f"{shown}... ({len(text)} characters)"
