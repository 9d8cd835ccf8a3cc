"""What a verified statement says (specs/statement.md §4), in numbers and in plain words."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from verifier.money import yuan
from verifier.plan.findings import Finding

NOT_CHECKED = (
    "that the log holds no entry left out of this bundle (a juror's enrolment, a "
    "member.left, a reversal, another claim paid): only `tally-verify audit` replays "
    "the whole log",
    "that the member count N of each period is right (the contribution proofs show "
    "that N leaves add up to the announced total, not who the other members are)",
    "that each period's leaves are in member order, on which a proof of absence relies "
    "(`tally-verify audit` recomputes every tree)",
)


@dataclass(frozen=True)
class ClaimPart:
    """A claim paid in P, the member's part of it, and its reversal if there was one."""

    claim: str
    category: str
    condition: str
    amount_fen: int
    part_fen: int
    basis: str
    recovered_fen: int | None = None
    """Recovered for fraud (up to the bundle's checkpoint), if the claim was reversed."""
    recovered_period: str | None = None
    """The period credited with the recovery."""


@dataclass(frozen=True)
class RecoveryPart:
    """A recovery credited to P (a claim reversed for fraud) and the member's part of it."""

    claim: str
    recovered_fen: int
    part_fen: int
    """Negative: money returned."""


@dataclass
class StatementReport:
    """What a verified statement says, in numbers (statement.md §4)."""

    member: str
    period: str
    checkpoint_size: int
    counted: bool
    charge_fen: int
    share_fen: int
    cap_fen: int
    fee_fen: int
    fee_part_fen: int
    carry_in_fen: int
    carry_in_part_fen: int
    carry_out_fen: int
    carry_out_part_fen: int
    claims: list[ClaimPart]
    recoveries: list[RecoveryPart]
    year_charged_fen: int
    year_subsidy_fen: int
    checks: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    """Paid claims whose appeal ended without its panel (:mod:`verifier.plan.findings`)."""
    checkpoint_compared: str = "not compared"

    @property
    def subsidy_fen(self) -> int:
        """What the operator paid for the member in P because of the annual cap."""
        return self.share_fen - self.charge_fen if self.counted else 0

    @property
    def parts_fen(self) -> int:
        """The member's parts, added up: exactly the charge."""
        return (
            sum(c.part_fen for c in self.claims)
            + sum(r.part_fen for r in self.recoveries)
            + self.fee_part_fen
            + self.carry_in_part_fen
            + self.carry_out_part_fen
        )

    def json(self) -> dict[str, Any]:
        """The report as a JSON object."""
        return {
            "member": self.member,
            "period": self.period,
            "checkpoint_size": self.checkpoint_size,
            "counted": self.counted,
            "charge_fen": self.charge_fen,
            "share_fen": self.share_fen,
            "annual_cap_fen": self.cap_fen,
            "subsidy_fen": self.subsidy_fen,
            "year_charged_fen": self.year_charged_fen,
            "year_subsidy_fen": self.year_subsidy_fen,
            "fee_fen": self.fee_fen,
            "fee_part_fen": self.fee_part_fen,
            "carry_in_fen": self.carry_in_fen,
            "carry_in_part_fen": self.carry_in_part_fen,
            "carry_out_fen": self.carry_out_fen,
            "carry_out_part_fen": self.carry_out_part_fen,
            "claims": [c.__dict__ for c in self.claims],
            "recoveries": [r.__dict__ for r in self.recoveries],
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
        cap = self._cap_sentence()
        if cap:
            lines.append(cap)
        lines.extend(self._money_lines())
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
        if not self.counted:
            return (
                f"You were not charged in period {self.period}: you were not a member at its "
                "cutoff (you had not joined yet, or you had left), and the bundle proves you "
                "have no share in it."
            )
        return f"You paid {yuan(self.charge_fen)} in period {self.period}."

    def _cap_sentence(self) -> str:
        if not self.counted or self.charge_fen == self.share_fen:
            return ""
        earlier = self.year_charged_fen - self.charge_fen
        return (
            f"The share was {yuan(self.share_fen)}, but the annual cap of {yuan(self.cap_fen)} "
            f"limited your charge: you had already paid {yuan(earlier)} "
            f"this year. The operator paid the rest for you: {yuan(self.subsidy_fen)} in this "
            f"period, {yuan(self.year_subsidy_fen)} this year so far."
        )

    def _money_lines(self) -> list[str]:
        lines = []
        if self.claims:
            parts = [_claim_text(c) for c in self.claims]
            count = len(self.claims)
            lines.append(
                f"It paid for {count} claim{'s' if count != 1 else ''}: " + "; ".join(parts) + "."
            )
        else:
            lines.append("No claim was paid in it.")
        for r in self.recoveries:
            lines.append(
                f"{yuan(r.recovered_fen)} recovered from {r.claim}, reversed for fraud, was "
                f"credited to this period (your part {yuan(r.part_fen)})."
            )
        lines.append(
            f"The management fee was {yuan(self.fee_fen)} (your part {yuan(self.fee_part_fen)})."
        )
        if self.carry_in_fen:
            lines.append(
                f"{yuan(self.carry_in_fen)} carried in from the period before (your part "
                f"{yuan(self.carry_in_part_fen)})."
            )
        if self.carry_out_fen:
            lines.append(
                f"{yuan(self.carry_out_fen)} of rounding is carried to the next period (your "
                f"part {yuan(self.carry_out_part_fen)})."
            )
        if self.counted and self.charge_fen:
            lines.append(
                "Your parts split your charge in proportion to where the period's money went "
                "(a recovery or a carry-in counts against it), rounded to the fen so that "
                f"they add up exactly to the {yuan(self.charge_fen)} you paid."
            )
        return lines


def _claim_text(c: ClaimPart) -> str:
    text = (
        f"{c.claim} ({c.category}, {yuan(c.amount_fen)}"
        + ("; decided by a drawn panel" if c.basis == "panel" else "")
        + f"; your part {yuan(c.part_fen)})"
    )
    if c.recovered_fen is not None:
        text += (
            f", later reversed for fraud: {yuan(c.recovered_fen)} recovered, credited to "
            f"period {c.recovered_period}"
        )
    return text


def split_signed(total: int, weights: list[int]) -> list[int]:
    """Split ``total`` fen in proportion to signed ``weights`` (statement.md §4).

    Part i is floor(total * w_i / W) with W the weights' sum; the fen left over go one
    each to the parts with the largest remainder (total * w_i mod W), the earlier first
    on ties. The parts add up to ``total``; all are 0 when ``total`` or W is not positive.
    """
    w = sum(weights)
    if w <= 0 or total <= 0:
        return [0] * len(weights)
    parts = [total * x // w for x in weights]
    rest = total - sum(parts)
    order = sorted(range(len(weights)), key=lambda i: (-((total * weights[i]) % w), i))
    for i in order[:rest]:
        parts[i] += 1
    return parts
