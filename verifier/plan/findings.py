"""Appeals that ended without their panel: allowed by the rules, worth a member's knowing.

An appeal asks for a panel of members to decide a claim instead of the operator
(specs/plan.md §6). The rules (§5.8) still let an appealed claim be decided on the
operator's own assessment when no panel decided it, so that a claim cannot hang
forever; the log shows why it happened, and so who could have prevented it:

- ``panel_not_convened``: the pool held enough jurors, but the operator never signed
  it (no ``panel.pooled``), so no panel could be drawn;
- ``too_few_jurors``: fewer eligible jurors than ``panel_size`` at the appeal;
- ``panel_not_drawn``: the pool was signed but no ``panel.drawn`` followed: the
  appellant did not reveal the secret, or the operator did not record it (the log
  cannot tell which);
- ``no_quorum``: the panel was drawn, but fewer jurors than ``quorum`` voted;
- ``appeal_overdue``: at the end of the log the claim is still undecided, past the
  panel's deadline, with no panel drawn: the appeal is stalled.

None of these breaks a rule, so none fails an audit; each is reported with the seq
of the claim's decision (or of its appeal, when stalled).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from verifier.plan.records import ClaimRecord


@dataclass(frozen=True)
class Finding:
    """One appeal that ended, or stands, without its panel."""

    seq: int
    claim: str
    kind: str
    message: str

    def json(self) -> dict[str, Any]:
        """The finding as a JSON object."""
        return {"seq": self.seq, "claim": self.claim, "kind": self.kind, "message": self.message}


def appeal_findings(claims: Iterable[ClaimRecord], now_s: int | None) -> list[Finding]:
    """The findings about every appealed claim, in claim order; ``now_s``: the log's last time."""
    found = []
    for claim in claims:
        finding = _finding(claim, now_s)
        if finding is not None:
            found.append(finding)
    return found


def _finding(claim: ClaimRecord, now_s: int | None) -> Finding | None:
    if claim.appellant is None or claim.appealed_s is None:
        return None
    who = f"{claim.claim} (appealed by {claim.appellant})"
    if claim.outcome is None:
        due = claim.appeal_due_s
        if claim.jurors is None and due is not None and now_s is not None and now_s >= due:
            return Finding(
                _seq(claim, "claim.appealed"),
                claim.claim,
                "appeal_overdue",
                f"{who}: no panel was drawn by the deadline and the claim is still "
                "undecided at the end of the log: the appeal is stalled.",
            )
        return None
    if claim.basis != "assessment":
        return None
    decided = _seq(claim, "claim.decided")
    outcome = f"it was {claim.outcome} on the operator's own assessment"
    pool = len(claim.pool or [])
    if claim.pool_signature is None:
        if claim.panel_size is not None and pool < claim.panel_size:
            return Finding(
                decided,
                claim.claim,
                "too_few_jurors",
                f"{who}: only {pool} jurors were eligible, fewer than the panel of "
                f"{claim.panel_size}, so no panel could be drawn; {outcome}.",
            )
        return Finding(
            decided,
            claim.claim,
            "panel_not_convened",
            f"{who}: {pool} jurors were eligible, but the operator never signed the "
            f"pool, so no panel was drawn; {outcome}.",
        )
    if claim.jurors is None:
        return Finding(
            decided,
            claim.claim,
            "panel_not_drawn",
            f"{who}: the pool was signed but the panel was never drawn (the appellant "
            f"did not reveal the secret, or the operator did not record it); {outcome}.",
        )
    return Finding(
        decided,
        claim.claim,
        "no_quorum",
        f"{who}: {len(claim.votes)} of the {len(claim.jurors)} drawn jurors voted, fewer "
        f"than the quorum of {claim.quorum}; {outcome}.",
    )


def _seq(claim: ClaimRecord, entry_type: str) -> int:
    return next((s for s, t in claim.history if t == entry_type), claim.seq)
