"""The statement's one error type: a check of specs/statement.md §3 failed."""

from __future__ import annotations

from verifier.errors import VerificationError


class StatementError(VerificationError):
    """A statement check failed; ``check`` names it (``checkpoint.signature``, …)."""

    def __init__(self, check: str, message: str) -> None:
        super().__init__(f"check {check} failed: {message}")
        self.check = check
        self.detail = message
