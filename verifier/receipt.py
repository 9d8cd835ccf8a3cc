"""Write receipts (specs/receipt.md): parse strictly and verify with the log's key.

A receipt is a C2SP signed note by the log's key whose body is exactly::

    tally/receipt/v1
    <origin>
    <seq, decimal, no leading zeros, at most 2**53 - 1>
    <entry hash, 64 lower-case hex digits>
    <covered-by, YYYY-MM-DDTHH:MM:SSZ>

This module checks the note and its body only; whether the log kept the promise
is for the caller to ask the log (``tally-verify receipt``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from verifier.entry import is_valid_time
from verifier.errors import NoteError, SignatureError, UnverifiedNoteError, VerificationError
from verifier.note import Verifier, open_note
from verifier.strict_json import StrictJSONError, loads

RECEIPT_HEADER = "tally/receipt/v1"
MAX_SEQ = 2**53 - 1
_SEQ = re.compile(r"0|[1-9][0-9]*")
_HASH = re.compile(r"[0-9a-f]{64}")


class ReceiptError(VerificationError):
    """A receipt is refused; ``kind`` names the broken rule.

    Kinds: ``signature`` (no valid signature by the key), ``format`` (not a
    receipt: malformed note, wrong first line or line count), ``origin``,
    ``seq``, ``entry_hash``, ``covered_by``.
    """

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(f"receipt refused ({kind}): {message}")
        self.kind = kind
        self.detail = message


@dataclass(frozen=True)
class Receipt:
    """A verified receipt: who promised what, and the note itself."""

    origin: str
    seq: int
    entry_hash: str
    covered_by: str
    note: str

    def covered_by_datetime(self) -> datetime:
        """Covered-by as an aware UTC datetime."""
        return datetime.strptime(self.covered_by, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def parse_receipt_body(body: str, origin: str) -> tuple[int, str, str]:
    """Parse a receipt body whose origin must be ``origin``; return (seq, hash, covered-by)."""
    if not body.endswith("\n"):
        raise ReceiptError("format", "body must end with a newline")
    lines = body[:-1].split("\n")
    if lines[0] != RECEIPT_HEADER:
        raise ReceiptError("format", f"first line must be {RECEIPT_HEADER!r}, found {lines[0]!r}")
    if len(lines) != 5:
        raise ReceiptError("format", f"body must have exactly 5 lines, found {len(lines)}")
    _, found_origin, seq_text, hash_text, covered_by = lines
    if found_origin != origin:
        raise ReceiptError(
            "origin", f"origin must be the key name {origin!r}, found {found_origin!r}"
        )
    if not _SEQ.fullmatch(seq_text) or len(seq_text) > 16 or int(seq_text) > MAX_SEQ:
        raise ReceiptError(
            "seq", f"seq must be decimal without leading zeros, at most 2**53 - 1: {seq_text!r}"
        )
    if not _HASH.fullmatch(hash_text):
        raise ReceiptError(
            "entry_hash", f"entry hash must be 64 lower-case hex digits, found {hash_text!r}"
        )
    if not is_valid_time(covered_by):
        raise ReceiptError(
            "covered_by", f"covered-by must be YYYY-MM-DDTHH:MM:SSZ, found {covered_by!r}"
        )
    return int(seq_text), hash_text, covered_by


def verify_receipt(note: str, key: Verifier) -> Receipt:
    """Open ``note`` with ``key`` (specs/receipt.md §3 steps 1-2) and parse its body."""
    try:
        body, _ = open_note(note, [key])
    except (SignatureError, UnverifiedNoteError) as exc:
        raise ReceiptError("signature", str(exc)) from None
    except NoteError as exc:
        raise ReceiptError("format", str(exc)) from None
    seq, entry_hash, covered_by = parse_receipt_body(body, key.name)
    return Receipt(key.name, seq, entry_hash, covered_by, note)


def receipt_text(data: bytes) -> str:
    """The receipt note in a file: the note itself, or an admin answer's ``receipt`` field."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ReceiptError("format", f"file is not UTF-8 (byte {exc.start})") from None
    if text.lstrip().startswith("{"):
        try:
            doc = loads(text)
        except StrictJSONError as exc:
            raise ReceiptError("format", f"file is neither a note nor JSON: {exc}") from None
        value = doc.get("receipt") if isinstance(doc, dict) else None
        if not isinstance(value, str):
            raise ReceiptError("format", 'JSON file must have a string "receipt" member')
        return value
    return text
