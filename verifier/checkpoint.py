"""C2SP tlog-checkpoint parsing and verification (https://c2sp.org/tlog-checkpoint).

A checkpoint is the body of a signed note::

    <origin>\\n        the log's identity; Tally requires no whitespace and no '+'
    <tree size>\\n     decimal, no sign, no leading zeros
    <root hash>\\n     standard base64 of the 32-byte RFC 9162 root
    [<extension>\\n]*  optional, non-empty lines (NOT RECOMMENDED by the spec)

Tally requires the origin to equal the log's key name, so a member pins one
verifier key and learns both the log identity and the key from it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from verifier.b64 import Base64Error, decode_sized, encode
from verifier.errors import CheckpointFormatError
from verifier.merkle import HASH_SIZE
from verifier.note import Verifier, is_valid_name, open_note

MAX_TREE_SIZE = 2**64 - 1
"""Largest tree size accepted (an unsigned 64-bit count, as in Go's tlog)."""

_SIZE = re.compile(r"0|[1-9][0-9]*")


@dataclass(frozen=True)
class Checkpoint:
    """A parsed checkpoint: origin, tree size, 32-byte root and extension lines."""

    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()

    def to_body(self) -> str:
        """Return the checkpoint body text; ``parse_checkpoint_body`` inverts it exactly."""
        lines = [self.origin, str(self.size), encode(self.root)]
        lines.extend(self.extensions)
        return "".join(line + "\n" for line in lines)


def parse_checkpoint_body(body: str) -> Checkpoint:
    """Parse a checkpoint body (the signed note text, without signatures).

    C2SP tlog-checkpoint, "Note text". Raises :class:`CheckpointFormatError` on any
    deviation, so that ``parse_checkpoint_body(c.to_body()) == c`` and every accepted
    body is the unique encoding of its checkpoint.
    """
    if not body.endswith("\n"):
        raise CheckpointFormatError("checkpoint body must end with a newline")
    lines = body[:-1].split("\n")
    if len(lines) < 3:
        raise CheckpointFormatError(
            f"checkpoint needs origin, size and root lines, found {len(lines)} line(s)"
        )
    origin, size_text, root_text, *extensions = lines
    if not is_valid_name(origin):
        raise CheckpointFormatError(
            f"origin must be non-empty without spaces or '+', found {origin!r}"
        )
    if not _SIZE.fullmatch(size_text):
        raise CheckpointFormatError(
            f"tree size must be decimal digits without sign or leading zeros, found {size_text!r}"
        )
    size = int(size_text) if len(size_text) <= 20 else MAX_TREE_SIZE + 1
    if size > MAX_TREE_SIZE:
        shown = (
            size_text if len(size_text) <= 30 else f"{size_text[:30]}... ({len(size_text)} digits)"
        )
        raise CheckpointFormatError(f"tree size must be below 2**64, found {shown}")
    try:
        root = decode_sized(root_text, HASH_SIZE, "root hash")
    except Base64Error as exc:
        raise CheckpointFormatError(str(exc)) from None
    for i, ext in enumerate(extensions, start=4):
        if not ext:
            raise CheckpointFormatError(f"extension line {i} must not be empty")
    return Checkpoint(origin, size, root, tuple(extensions))


def verify_checkpoint(note_text: str | bytes, verifier: Verifier) -> Checkpoint:
    """Open a signed checkpoint that ``verifier`` must have signed, and parse it.

    Raises the errors of :func:`verifier.note.open_note`, and
    :class:`CheckpointFormatError` if the body is malformed or its origin is not
    the verifier's key name.
    """
    body, _ = open_note(note_text, [verifier])
    checkpoint = parse_checkpoint_body(body)
    if checkpoint.origin != verifier.name:
        raise CheckpointFormatError(
            f"checkpoint origin must be the key name {verifier.name!r}, found {checkpoint.origin!r}"
        )
    return checkpoint
