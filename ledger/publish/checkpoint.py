"""C2SP tlog-checkpoint bodies (https://c2sp.org/tlog-checkpoint).

::

    <origin>\\n
    <tree size, decimal, no leading zeros>\\n
    <base64 RFC 9162 root>\\n
    [<extension line>\\n]*

The body is signed as a C2SP signed note (:mod:`ledger.publish.note`) whose key
name equals the origin.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass

from ledger.errors import KeyFormatError, NoteError
from ledger.publish.note import Verifier, decode_base64, open_note

_SIZE_RE = re.compile(r"\A(0|[1-9][0-9]{0,19})\Z")
_ORIGIN_RE = re.compile(r"\A[^\s+]+\Z")


@dataclass(frozen=True)
class Checkpoint:
    """A log's size and root as of one signing, named by its origin."""

    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()

    def to_body(self) -> str:
        """Serialise to the checkpoint body (what the signatures cover)."""
        check_origin(self.origin)
        lines = [self.origin, str(self.size), base64.b64encode(self.root).decode()]
        return "\n".join([*lines, *self.extensions]) + "\n"


def check_origin(origin: str) -> None:
    """An origin is a schema-less URL: non-empty, without spaces or '+'."""
    if not _ORIGIN_RE.match(origin):
        raise NoteError(f"expected an origin without spaces or '+', found {origin!r}")


def parse_checkpoint(body: str) -> Checkpoint:
    """Parse a checkpoint body; the inverse of :meth:`Checkpoint.to_body`."""
    if not body.endswith("\n"):
        raise NoteError("expected the checkpoint to end with a newline")
    lines = body[:-1].split("\n")
    if len(lines) < 3:
        raise NoteError(f"expected origin, size and root lines, found {len(lines)} lines")
    origin, size_text, root_text, *extensions = lines
    check_origin(origin)
    if not _SIZE_RE.match(size_text):
        raise NoteError(f"expected a decimal tree size without leading zeros, found {size_text!r}")
    try:
        root = decode_base64(root_text, "root hash")
    except KeyFormatError as exc:
        raise NoteError(str(exc)) from None
    if len(root) != 32:
        raise NoteError(f"expected a 32-byte root hash, found {len(root)} bytes")
    for line in extensions:
        if not line:
            raise NoteError("expected no empty extension lines")
    return Checkpoint(origin, int(size_text), root, tuple(extensions))


def open_checkpoint(note: str, verifier: Verifier) -> Checkpoint:
    """Verify a signed checkpoint with the log key and parse it; its origin must be the key name."""
    body, _ = open_note(note, [verifier])
    checkpoint = parse_checkpoint(body)
    if checkpoint.origin != verifier.name:
        raise NoteError(
            f"expected origin {verifier.name!r} (the key's name), found {checkpoint.origin!r}"
        )
    return checkpoint
