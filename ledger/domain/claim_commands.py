"""The operator's commands on claims, panels and votes (specs/plan.md §5-§7)."""

from __future__ import annotations

import base64
import hashlib

from ledger.domain.claims import disclosure_body
from ledger.domain.decisions import decision_body
from ledger.domain.draw import DrawError, draw, pool_root, pool_signature_message, seed
from ledger.domain.errors import RuleError
from ledger.domain.periods import period_open_at
from ledger.domain.plan_core import OPERATOR, PlanCore
from ledger.domain.rules import add_days
from ledger.log.log import Appended, NewEntry


class ClaimCommands(PlanCore):
    """The operator's commands on claims, panels and votes (specs/plan.md §5-§7)."""

    # -- claims ---------------------------------------------------------------------

    def file_claim(
        self,
        member: str,
        condition: str,
        amount_fen: int,
        diagnosed: str,
        evidence: bytes,
        *,
        at: str | None = None,
        actor: str = OPERATOR,
    ) -> str:
        """File a claim; returns its id (``c-<seq>``)."""
        body = {
            "member": member,
            "condition": condition,
            "amount_fen": amount_fen,
            "diagnosed": diagnosed,
            "evidence_commitment": hashlib.sha256(evidence).hexdigest(),
        }
        return f"c-{self._one('claim.filed', body, at, actor).seq}"

    def assess(
        self,
        claim: str,
        decision: str,
        amount_fen: int,
        reason: str,
        report: bytes,
        *,
        at: str | None = None,
        actor: str = OPERATOR,
    ) -> Appended:
        """The operator's assessment: approve an amount, or deny with a reason."""
        when = self.time(at)
        body = {
            "claim": claim,
            "decision": decision,
            "amount_fen": amount_fen,
            "reason": reason,
            "report_commitment": hashlib.sha256(report).hexdigest(),
            "rules_version": self.state.rules_at(when).version,
        }
        return self._one("claim.assessed", body, when, actor)

    def disclose(self, claim: str, *, at: str | None = None, actor: str = OPERATOR) -> Appended:
        """Disclose a claim's anonymised, coarse fields; objections open until the window ends."""
        when = self.time(at)
        body = disclosure_body(self.state, self.state.claim(claim), when)
        return self._one("claim.disclosed", body, when, actor)

    def object(
        self,
        claim: str,
        objector: str,
        reason: str,
        *,
        at: str | None = None,
        actor: str = OPERATOR,
    ) -> Appended:
        """A member objects to a disclosed claim."""
        body = {
            "claim": claim,
            "objector": objector,
            "reason_hash": hashlib.sha256(reason.encode()).hexdigest(),
        }
        return self._one("claim.objected", body, at, actor)

    def appeal(
        self,
        claim: str,
        appellant: str,
        secret_commitment: str,
        *,
        at: str | None = None,
        actor: str = OPERATOR,
    ) -> Appended:
        """An appeal, committing to the appellant's secret (specs/plan.md §6)."""
        body = {"claim": claim, "appellant": appellant, "secret_commitment": secret_commitment}
        return self._one("claim.appealed", body, at, actor)

    def sign_pool(self, claim: str, *, at: str | None = None, actor: str = OPERATOR) -> Appended:
        """Sign the pool fixed at the appeal and put the signature on the log (``panel.pooled``).

        The appellant reveals their secret only once this entry is on the log
        (specs/plan.md §6), so the operator cannot choose a signature knowing it.
        """
        when = self.time(at)
        state = self.state
        found = state.claim(claim)
        if found.pool is None:
            raise RuleError("panel.pooled.order", f"claim {claim} has not been appealed")
        rules = state.rules_at(when)
        try:
            root = pool_root(claim, found.pool)
        except DrawError as exc:
            raise RuleError("panel.pooled.pool", str(exc)) from None
        signature = self.ledger.signer.sign(pool_signature_message(state.origin, claim, root))
        body = {
            "claim": claim,
            "pool_root": root.hex(),
            "pool_size": len(found.pool),
            "pool_signature": base64.b64encode(signature).decode(),
            "rules_version": rules.version,
        }
        return self._one("panel.pooled", body, when, actor)

    def draw_panel(
        self, claim: str, secret: bytes, *, at: str | None = None, actor: str = OPERATOR
    ) -> list[str]:
        """Draw the panel with the appellant's revealed secret, after ``sign_pool``."""
        when = self.time(at)
        state = self.state
        found = state.claim(claim)
        if found.pool is None or found.pool_signature is None:
            raise RuleError(
                "panel.drawn.order", f"claim {claim} has no signed pool yet (panel.pooled)"
            )
        rules = state.rules_at(when)
        seed_bytes = seed(pool_root(claim, found.pool), found.pool_signature, secret)
        try:
            jurors = draw(found.pool, seed_bytes, rules.panel_size)
        except DrawError as exc:
            raise RuleError("panel.drawn.size", str(exc)) from None
        body = {
            "claim": claim,
            "secret": secret.hex(),
            "seed": seed_bytes.hex(),
            "jurors": jurors,
            "voting_closes": add_days(when, rules.voting_days),
            "rules_version": rules.version,
        }
        self._one("panel.drawn", body, when, actor)
        return jurors

    def cast_vote(
        self,
        claim: str,
        juror: str,
        choice: str,
        rationale_hash: str,
        signature: str,
        *,
        at: str | None = None,
    ) -> Appended:
        """Record a vote that the juror signed with their own key."""
        body = {
            "claim": claim,
            "juror": juror,
            "choice": choice,
            "rationale_hash": rationale_hash,
            "signature": signature,
        }
        return self.submit([NewEntry("vote.cast", f"juror:{juror}", body, time=self.time(at))])[0]

    def decide(self, claim: str, *, at: str | None = None, actor: str = OPERATOR) -> Appended:
        """Record the decision that the assessment, the votes and the rules give."""
        when = self.time(at)
        state = self.state
        body = decision_body(state, state.claim(claim), state.rules_at(when))
        return self._one("claim.decided", body, when, actor)

    def pay(self, claim: str, *, at: str | None = None, actor: str = OPERATOR) -> Appended:
        """Pay a claim decided approved, in the period open now."""
        when = self.time(at)
        found = self.state.claim(claim)
        body = {"claim": claim, "amount_fen": found.decided_fen, "period": period_open_at(when)}
        return self._one("claim.paid", body, when, actor)

    def reverse(
        self,
        claim: str,
        recovered_fen: int,
        reason: str,
        *,
        at: str | None = None,
        actor: str = OPERATOR,
    ) -> Appended:
        """Record fraud found after payment: a compensating entry, never an edit."""
        body = {"claim": claim, "recovered_fen": recovered_fen, "reason": reason}
        return self._one("claim.reversed", body, at, actor)
