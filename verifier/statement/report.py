"""What a verified statement says (specs/statement.md), in numbers and in plain words."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from verifier.plan.findings import Finding

NOT_CHECKED = (
    "that the log holds no entry left out of this bundle (a juror's enrolment, a "
    "member.left, a reversal, another claim paid): only `tally-verify audit` replays "
    "the whole log",
    "that the member count N of each period is right (the contribution proofs show "
    "that N leaves add up to the announced total, not who the other members are)",
)


@dataclass(frozen=True)
class ClaimPart:
    """A claim paid in P and the member's proportional part of it."""

    claim: str
    category: str
    condition: str
    amount_fen: int
    part_fen: int
    basis: str


@dataclass
class StatementReport:
    """What a verified statement says, in numbers."""

    member: str
    period: str
    checkpoint_size: int
    charge_fen: int
    share_fen: int
    fee_fen: int
    fee_part_fen: int
    carry_in_fen: int
    claims: list[ClaimPart]
    checks: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    """Paid claims whose appeal ended without its panel (:mod:`verifier.plan.findings`)."""
    checkpoint_compared: str = "not compared"

    def json(self) -> dict[str, Any]:
        """The report as a JSON object."""
        return {
            "member": self.member,
            "period": self.period,
            "checkpoint_size": self.checkpoint_size,
            "charge_fen": self.charge_fen,
            "share_fen": self.share_fen,
            "fee_fen": self.fee_fen,
            "fee_part_fen": self.fee_part_fen,
            "carry_in_fen": self.carry_in_fen,
            "claims": [c.__dict__ for c in self.claims],
            "checks_passed": len(self.checks),
            "checks": self.checks,
            "checkpoint_compared": self.checkpoint_compared,
            "notes": self.notes,
            "findings": [f.json() for f in self.findings],
            "not_checked": list(NOT_CHECKED),
        }

    def lines(self) -> list[str]:
        """A short plain-language report."""
        lines = [self._paid_sentence()]
        if self.claims:
            lines.append(
                "Your parts are your charge split in proportion to each claim's amount and "
                "the fee (rounded to the fen so that they add up exactly to your charge)."
            )
        if self.carry_in_fen:
            lines.append(
                f"{yuan(self.carry_in_fen)} carried in from the period before reduced what was due."
            )
        lines.append(f"Checkpoint: {self.checkpoint_size:,} entries; {self.checkpoint_compared}.")
        lines.extend(self.notes)
        lines.append(f"All {len(self.checks)} checks passed.")
        lines.append(
            "Not shown by a statement (run `tally-verify audit` for these): "
            + "; ".join(NOT_CHECKED)
            + "."
        )
        return lines

    def _paid_sentence(self) -> str:
        text = f"You paid {yuan(self.charge_fen)} in period {self.period}"
        if self.charge_fen != self.share_fen:
            text += f" (the share was {yuan(self.share_fen)}; the annual cap limited yours)"
        text += "."
        if not self.claims:
            return text + " No claim was paid in it."
        parts = [
            f"{c.claim} ({c.category}, {yuan(c.amount_fen)}"
            + ("; decided by a drawn panel" if c.basis == "panel" else "")
            + f"; your part {yuan(c.part_fen)})"
            for c in self.claims
        ]
        return (
            text
            + f" It paid for {len(self.claims)} claim{'s' if len(self.claims) != 1 else ''}: "
            + ", ".join(parts)
            + f", plus {yuan(self.fee_fen)} management fee (your part "
            f"{yuan(self.fee_part_fen)})."
        )


def yuan(fen: int) -> str:
    """``18800`` -> ``188.00 yuan``."""
    sign = "-" if fen < 0 else ""
    return f"{sign}{abs(fen) // 100:,}.{abs(fen) % 100:02d} yuan"


def split_proportionally(total: int, weights: list[int]) -> list[int]:
    """Split ``total`` fen in proportion to ``weights``, largest remainder; sums to ``total``."""
    w = sum(weights)
    if w <= 0 or total <= 0:
        return [0] * len(weights)
    floors = [total * x // w for x in weights]
    rest = total - sum(floors)
    order = sorted(range(len(weights)), key=lambda i: (-((total * weights[i]) % w), i))
    for i in order[:rest]:
        floors[i] += 1
    return floors
