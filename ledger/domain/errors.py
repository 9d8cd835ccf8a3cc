"""The domain's refusal: a command or entry that breaks a rule of specs/plan.md."""

from __future__ import annotations

from ledger.domain.rule_ids import RULES
from ledger.errors import LedgerError


class RuleError(LedgerError):
    """A command or entry breaks a plan rule; ``rule`` is its id (specs/plan.md §10).

    ``detail`` says what was expected and what was found; the message adds the id
    and the section, for example ``claim.paid.twice (plan.md §5.9): ...``.
    """

    def __init__(self, rule: str, detail: str) -> None:
        section = RULES.get(rule)
        if section is None:
            raise ValueError(f"{rule!r} is not a rule id of specs/plan.md §10")
        super().__init__(f"{rule} (plan.md {section}): {detail}")
        self.rule = rule
        self.section = section
        self.detail = detail
