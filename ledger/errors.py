"""Typed errors of the ledger.

Every error says what was expected and what was found. The hierarchy::

    LedgerError
    ├── EntryError          an entry's bytes break specs/entries.md (has ``kind``)
    ├── ChainError          the hash chain or seq order is broken (has ``seq``)
    │   └── RetiredError    the log was retired: nothing more may be appended
    ├── EntryTimeError      an entry time given is in the future or before the log's last
    ├── TreeError           a tree size or index is out of range
    ├── StoreError          the database is unusable or not initialised
    ├── KeyFormatError      a key file or key string is malformed
    ├── NoteError           a signed note or checkpoint is malformed or unverifiable
    └── PublishError        signing would contradict an earlier checkpoint
"""

from __future__ import annotations


class LedgerError(Exception):
    """Root of every error the ledger raises on purpose."""


class EntryError(LedgerError):
    """An entry is refused; ``kind`` is one of the reasons listed in specs/entries.md."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


class ChainError(LedgerError):
    """The hash chain or the seq order is broken at ``seq``."""

    def __init__(self, seq: int, message: str) -> None:
        super().__init__(f"seq {seq}: {message}")
        self.seq = seq


class RetiredError(ChainError):
    """The log was retired (specs/log.md §7): nothing may be appended after its last entry."""


class EntryTimeError(LedgerError):
    """An entry time asked for is in the future, or before the log's last entry.

    ``kind`` is ``future`` or ``backwards``.
    """

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


class TreeError(LedgerError):
    """A tree size, index or proof request is out of range."""


class StoreError(LedgerError):
    """The store cannot be used: not initialised, wrong schema, or unreachable."""


class KeyFormatError(LedgerError):
    """A key file or verifier-key string is malformed."""


class NoteError(LedgerError):
    """A signed note or checkpoint is malformed or does not verify."""


class PublishError(LedgerError):
    """Signing the requested checkpoint would contradict one already signed."""
