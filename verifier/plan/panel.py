"""A claim's panel on the log: the pool (specs/plan.md §6, §5.6), the draw, the votes (§7).

The draw takes two entries, so that the operator's pool signature is on the log
before the appellant reveals the secret (§6, "Why nobody can steer it"):

:func:`check_pooled` checks a ``panel.pooled``: the claim was appealed, is not yet
pooled and not decided; t < appeal time + ``reveal_days`` (the rules in force at t);
``pool_root`` and ``pool_size`` are those of the pool fixed at the appeal
(:meth:`~verifier.plan.claims.ClaimBook.appealed`); the pool holds at least
``panel_size``; ``pool_signature`` verifies with the log's key over the §6 message.

:func:`check_draw` checks a ``panel.drawn``: the claim was pooled and has no panel
yet; t < appeal time + ``reveal_days``; the revealed secret opens the appeal's
commitment; ``seed`` = H("tally/seed/v1\\n" ‖ pool_root ‖ pool_signature ‖ secret)
over the pooled entry's root and signature; ``jurors`` is the partial Fisher-Yates
draw from that seed; ``voting_closes`` = t + ``voting_days``. Every field must be
exactly what the replay re-derives.

:func:`check_vote` checks a ``vote.cast``: the claim was drawn, the juror is one of
its jurors and the entry's actor is ``juror:<member>``, the juror has not voted on
it, t < ``voting_closes``, the juror is still a member (§4.2, §7), and the signature
verifies with the juror's enrolled key.

What the entries cannot show, and the replay does not check:

- whether the pool signature is the deterministic RFC 8032 one (that takes the
  private key): any signature that verifies is accepted, which is why it must be on
  the log before the secret;
- whether a signed checkpoint covered ``panel.pooled`` before the appellant revealed
  the secret (§6): only the order of the two entries is on the log.

Reading where §6 is silent: the draw uses the ``panel_size`` in force at the draw,
so the pool must hold that many at the draw too (it was checked against the rules
in force at ``panel.pooled``; a new version may take effect in between).
"""

from __future__ import annotations

from collections.abc import Mapping

from verifier.note import Verifier
from verifier.plan.draw import check_secret, draw, pool_root, pool_signature_message, seed
from verifier.plan.errors import SecretMismatchError, VoteError, VoteSignatureError
from verifier.plan.records import DAY, Body, ClaimRecord, MemberRecord, format_time, show_time
from verifier.plan.rules import Rules, check_rules_version
from verifier.plan.vote import CHOICES, verify_vote

POOLED_KEYS = ("claim", "pool_root", "pool_size", "pool_signature", "rules_version")
DRAWN_KEYS = ("claim", "secret", "seed", "jurors", "voting_closes", "rules_version")
VOTE_KEYS = ("claim", "juror", "choice", "rationale_hash", "signature")


def _within_reveal(body: Body, appealed_s: int, t: int, rules: Rules, rule: str) -> None:
    """Refuse unless t < appeal time + ``reveal_days`` of the rules in force at t (§5.6)."""
    reveal_s = appealed_s + rules.reveal_days * DAY
    if t >= reveal_s:
        body.fail(
            rule,
            f"expected a time before the appeal time {show_time(appealed_s)} + reveal_days "
            f"{rules.reveal_days} ({show_time(reveal_s)}), found {body.entry.time}",
        )


def _pool_fits(body: Body, pool: list[str], rules: Rules, rule: str) -> None:
    if len(pool) < rules.panel_size:
        body.fail(
            rule,
            f"expected a pool of at least panel_size {rules.panel_size} (rules version "
            f"{rules.version}), found {len(pool)}",
        )


def check_pooled(
    body: Body, claim: ClaimRecord, t: int, rules: Rules, origin: str, key: Verifier
) -> None:
    """Check a ``panel.pooled`` at t for ``claim`` (§5.6, §6) and record the signature."""
    stated_root, stated_size = body.hex64("pool_root"), body.integer("pool_size")
    signature = body.b64("pool_signature", 64)
    check_rules_version(body, rules)
    pool, appealed_s = claim.pool, claim.appealed_s
    if pool is None or appealed_s is None or claim.outcome is not None:
        body.fail(
            "panel.pooled.order",
            f"expected {claim.claim} appealed and undecided, found it {claim.status}",
        )
    if claim.pool_signature is not None:
        body.fail(
            "panel.pooled.twice",
            f"expected {claim.claim} not pooled before, found its pool signed at seq "
            f"{claim.pooled_seq}",
        )
    _within_reveal(body, appealed_s, t, rules, "panel.pooled.window")
    root = pool_root(claim.claim, pool)
    if stated_root != root.hex() or stated_size != len(pool):
        body.fail(
            "panel.pooled.pool",
            f"expected the pool fixed at the appeal (root {root.hex()}, size {len(pool)}), "
            f"found root {stated_root}, size {stated_size}",
        )
    _pool_fits(body, pool, rules, "panel.pooled.size")
    if not key.verify(pool_signature_message(origin, claim.claim, root), signature):
        body.fail(
            "panel.pooled.signature",
            f"expected the log key's signature over the pool root {root.hex()}, found one "
            "that does not verify",
        )
    claim.pool_root = root
    claim.pool_signature = signature
    claim.pooled_seq = body.entry.seq


def check_draw(body: Body, claim: ClaimRecord, t: int, rules: Rules) -> None:
    """Check a ``panel.drawn`` at t for ``claim`` (§5.6, §6) and record the panel."""
    secret_hex, stated_seed = body.hex64("secret"), body.hex64("seed")
    body.time("voting_closes")
    check_rules_version(body, rules)
    pool, appealed_s, commitment = claim.pool, claim.appealed_s, claim.secret_commitment
    root, signature = claim.pool_root, claim.pool_signature
    if (
        pool is None
        or appealed_s is None
        or commitment is None
        or root is None
        or signature is None
        or claim.outcome is not None
    ):
        body.fail(
            "panel.drawn.order",
            f"expected {claim.claim} pooled first (a panel.pooled puts the pool's signature "
            f"on the log before the secret is revealed, §6) and undecided, found it "
            f"{claim.status}",
        )
    if claim.jurors is not None:
        body.fail(
            "panel.drawn.twice",
            f"expected {claim.claim} not drawn before, found a panel already drawn",
        )
    _within_reveal(body, appealed_s, t, rules, "panel.drawn.window")
    _pool_fits(body, pool, rules, "panel.drawn.size")
    try:
        secret = check_secret(secret_hex, commitment)
    except SecretMismatchError as exc:
        body.fail("panel.drawn.secret", f"expected the secret to open the commitment: {exc}")
    expected_seed = seed(root, signature, secret)
    if stated_seed != expected_seed.hex():
        body.fail(
            "panel.drawn.seed",
            f"expected seed H(pool root, pool signature, secret) = {expected_seed.hex()}, "
            f"found {stated_seed}",
        )
    jurors = draw(pool, expected_seed, rules.panel_size)
    body.same("panel.drawn.jurors", "jurors", jurors)
    closes_s = t + rules.voting_days * DAY
    closes = format_time(closes_s)
    body.same("panel.drawn.voting_closes", "voting_closes", closes)
    assert closes is not None  # body.same refused a close past year 9999
    claim.jurors = jurors
    claim.voting_closes = closes
    claim.voting_closes_s = closes_s


def check_vote(
    body: Body, claim: ClaimRecord, t: int, members: Mapping[str, MemberRecord], origin: str
) -> None:
    """Check a ``vote.cast`` at t on ``claim`` (§7) and count it."""
    entry = body.entry
    juror = body.member("juror")
    choice, rationale = body.choice("choice", CHOICES), body.hex64("rationale_hash")
    signature = body.text("signature")
    jurors, closes_s = claim.jurors, claim.voting_closes_s
    if jurors is None or closes_s is None:
        body.fail(
            "vote.panel", f"expected {claim.claim} to have a drawn panel, found it {claim.status}"
        )
    if juror not in jurors:
        body.fail(
            "vote.panel", f"expected one of the drawn jurors ({', '.join(jurors)}), found {juror}"
        )
    if entry.actor != f"juror:{juror}":
        body.fail("vote.actor", f"expected actor 'juror:{juror}', found {entry.actor!r}")
    if juror in claim.votes:
        body.fail(
            "vote.twice",
            f"expected one vote per juror, found a second vote by {juror} on {claim.claim}",
        )
    if t >= closes_s or claim.outcome is not None:
        body.fail(
            "vote.window",
            f"expected a vote before voting_closes {claim.voting_closes} and before the "
            f"decision, found one at {entry.time} on a claim {claim.status}",
        )
    record = members[juror]
    key = record.juror_key
    if not record.active or key is None:
        body.fail(
            "vote.juror_active",
            f"expected the juror {juror} still an active member (§4.2), found them gone: "
            f"member.left at seq {record.left_seq} ({record.left_at})",
        )
    try:
        verify_vote(key, origin, claim.claim, choice, rationale, signature)
    except VoteSignatureError as exc:
        body.fail(
            "vote.signature",
            f"expected a valid signature by the juror's key enrolled at seq "
            f"{record.juror_seq}: {exc}",
        )
    except VoteError as exc:
        body.fail("vote.signature", f"expected a well-formed signed vote: {exc}")
    claim.votes[juror] = choice
