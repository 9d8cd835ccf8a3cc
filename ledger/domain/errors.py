"""The domain's refusal: a command or entry that breaks a rule of specs/plan.md."""

from __future__ import annotations

from ledger.errors import LedgerError


class RuleError(LedgerError):
    """A command breaks a plan rule; ``rule`` names it (``waiting_period``, ...)."""

    def __init__(self, rule: str, message: str) -> None:
        super().__init__(f"{rule}: {message}")
        self.rule = rule
