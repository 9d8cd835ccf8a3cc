"""A claim's review panel on the log: the pool, the draw (specs/plan.md §5.6, §6), the votes (§7).

The pool is fixed at the appeal (:func:`ledger.domain.claims.appealed`); the
operator's signature over it goes on the log (``panel.pooled``) before the
appellant reveals the secret that, with the signature, seeds the draw
(``panel.drawn``). Every field of both entries is re-derived and compared.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

from ledger.domain.draw import DrawError, draw, pool_root, pool_signature_message, seed
from ledger.domain.errors import RuleError
from ledger.domain.fields import Body
from ledger.domain.model import Claim
from ledger.domain.rules import Rules, add_days, check_applied
from ledger.domain.vote import CHOICES, VoteError, verify_vote
from ledger.log.entry import Entry

if TYPE_CHECKING:
    from ledger.domain.state import PlanState

POOLED_KEYS = ("claim", "pool_root", "pool_size", "pool_signature", "rules_version")
DRAWN_KEYS = ("claim", "secret", "seed", "jurors", "voting_closes", "rules_version")
VOTE_KEYS = ("claim", "juror", "choice", "rationale_hash", "signature")


def _within_reveal(claim: Claim, time: str, rules: Rules, rule: str) -> None:
    assert claim.appealed is not None
    reveal_by = add_days(claim.appealed, rules.reveal_days)
    if time >= reveal_by:
        raise RuleError(
            rule,
            f"expected a time before the appeal ({claim.appealed}) + {rules.reveal_days} "
            f"reveal days ({reveal_by}), found {time}",
        )


def pooled(state: PlanState, entry: Entry, rules: Rules) -> None:
    """§6 ``panel.pooled``: the pool fixed at the appeal, signed with the log's key, in time."""
    body = Body(entry, POOLED_KEYS)
    claim = state.claim(body.claim())
    stated_root, stated_size = body.hex64("pool_root"), body.integer("pool_size")
    signature = body.b64("pool_signature", 64)
    check_applied(body, rules)
    if claim.pool is None or claim.outcome is not None:
        raise RuleError(
            "panel.pooled.order", f"claim {claim.id} must be appealed and not yet decided"
        )
    if claim.pool_signature is not None:
        raise RuleError("panel.pooled.twice", f"the pool of {claim.id} was already signed")
    _within_reveal(claim, entry.time, rules, "panel.pooled.window")
    root = pool_root(claim.id, claim.pool)
    if stated_root != root.hex() or stated_size != len(claim.pool):
        raise RuleError(
            "panel.pooled.pool",
            f"expected the pool fixed at the appeal: root {root.hex()}, size {len(claim.pool)}; "
            f"found root {stated_root}, size {stated_size}",
        )
    if len(claim.pool) < rules.panel_size:
        raise RuleError(
            "panel.pooled.size",
            f"expected a pool of at least {rules.panel_size} jurors, found {len(claim.pool)}",
        )
    assert state.log_key is not None
    if not state.log_key.verify(pool_signature_message(state.origin, claim.id, root), signature):
        raise RuleError("panel.pooled.signature", "the pool signature does not verify")
    claim.pool_signature = signature


def drawn(state: PlanState, entry: Entry, rules: Rules) -> None:
    """§6 ``panel.drawn``: the secret opens the commitment; seed and jurors re-derived."""
    body = Body(entry, DRAWN_KEYS)
    claim = state.claim(body.claim())
    secret_hex, stated_seed = body.hex64("secret"), body.hex64("seed")
    stated_jurors, closes = body.raw("jurors"), body.time("voting_closes")
    check_applied(body, rules)
    if claim.pool is None or claim.pool_signature is None or claim.outcome is not None:
        raise RuleError(
            "panel.drawn.order", f"claim {claim.id} must have a signed pool and no decision"
        )
    if claim.jurors is not None:
        raise RuleError("panel.drawn.twice", f"the panel of {claim.id} was already drawn")
    _within_reveal(claim, entry.time, rules, "panel.drawn.window")
    if len(claim.pool) < rules.panel_size:
        raise RuleError(
            "panel.drawn.size",
            f"expected a pool of at least {rules.panel_size} jurors, found {len(claim.pool)}",
        )
    if hashlib.sha256(bytes.fromhex(secret_hex)).hexdigest() != claim.secret_commitment:
        raise RuleError(
            "panel.drawn.secret", "the revealed secret does not open the appeal's commitment"
        )
    seed_bytes = seed(
        pool_root(claim.id, claim.pool), claim.pool_signature, bytes.fromhex(secret_hex)
    )
    if stated_seed != seed_bytes.hex():
        raise RuleError("panel.drawn.seed", "the seed is not H(pool root, pool signature, secret)")
    try:
        jurors = draw(claim.pool, seed_bytes, rules.panel_size)
    except DrawError as exc:  # pragma: no cover - the pool size was checked above
        raise RuleError("panel.drawn.size", str(exc)) from None
    if stated_jurors != jurors:
        raise RuleError(
            "panel.drawn.jurors", f"expected the jurors {jurors}, found {stated_jurors}"
        )
    expected_close = add_days(entry.time, rules.voting_days)
    if closes != expected_close:
        raise RuleError(
            "panel.drawn.voting_closes",
            f"expected voting to close at {expected_close}, found {closes}",
        )
    claim.jurors = jurors
    claim.voting_closes = closes


def vote(state: PlanState, entry: Entry, rules: Rules) -> None:
    """§7 ``vote.cast``: a drawn juror, as themself, once, in time, signed with their key."""
    del rules
    body = Body(entry, VOTE_KEYS)
    claim = state.claim(body.claim())
    juror = body.member("juror")
    choice, rationale = body.choice("choice", CHOICES), body.hex64("rationale_hash")
    signature = body.text("signature")
    if claim.jurors is None or claim.voting_closes is None:
        raise RuleError("vote.panel", f"claim {claim.id} has no drawn panel")
    if juror not in claim.jurors:
        raise RuleError("vote.panel", f"{juror} was not drawn for claim {claim.id}")
    if entry.actor != f"juror:{juror}":
        raise RuleError("vote.actor", f"expected actor juror:{juror}, found {entry.actor!r}")
    if juror in claim.votes:
        raise RuleError("vote.twice", f"{juror} has already voted on claim {claim.id}")
    if entry.time >= claim.voting_closes or claim.outcome is not None:
        raise RuleError(
            "vote.window",
            f"voting on {claim.id} closed at {claim.voting_closes} or at its decision",
        )
    member = state.members[juror]
    if not member.active_at(entry.time) or member.juror_key is None:
        raise RuleError("vote.juror_active", f"juror {juror} has left the plan")
    try:
        verify_vote(member.juror_key, state.origin, claim.id, choice, rationale, signature)
    except VoteError as exc:
        raise RuleError("vote.signature", str(exc)) from None
    claim.votes[juror] = choice
