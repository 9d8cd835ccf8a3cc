"""``tally claim``: each step of a claim (specs/plan.md §5-§7), from filing to payment.

Amounts are given in yuan (``--amount 3000.50``) or fen (``--amount-fen``) and
printed in both; each command says in one sentence what it wrote and at which seq.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from pathlib import Path
from typing import Any

import click

from ledger.cli import Settings, main, say, store_options
from ledger.domain.model import Claim
from ledger.domain.plan import Plan
from ledger.money import money
from ledger.plan_cli_support import (
    amount_in_fen,
    amount_options,
    at_option,
    check_time,
    opened,
    read_file,
    required_amount,
    seq,
)

document = click.Path(exists=True, dir_okay=False, path_type=Path)


@main.group()
def claim() -> None:
    """Claims, from filing to payment (and reversal)."""


def _claim(plan: Plan, claim_id: str) -> Claim:
    return plan.state.claims[claim_id]


@claim.command("file")
@store_options
@click.argument("member_id")
@click.argument("condition")
@amount_options("amount claimed")
@click.option("--diagnosed", required=True, help="Diagnosis time, YYYY-MM-DDTHH:MM:SSZ.")
@click.option("--evidence", type=document, required=True)
@at_option
@click.pass_obj
def claim_file(
    settings: Settings,
    member_id: str,
    condition: str,
    amount_yuan: str | None,
    amount_fen: int | None,
    diagnosed: str,
    evidence: Path,
    at: str | None,
) -> None:
    """File a claim; the evidence stays off the log, only its hash goes on."""
    amount = required_amount(amount_yuan, amount_fen, "amount claimed")
    check_time(diagnosed, "--diagnosed")
    with opened(settings) as plan:
        claim_id = plan.file_claim(
            member_id, condition, amount, diagnosed, read_file(evidence), at=check_time(at)
        )
        appended = plan.appended[0]
    say(
        f"Filed {claim_id}: {member_id} claims {money(amount)} for {condition}, diagnosed "
        f"{diagnosed} ({seq(appended)})."
    )


@claim.command("assess")
@store_options
@click.argument("claim_id")
@click.argument("decision", type=click.Choice(["approve", "deny"]))
@amount_options("amount approved (none for a denial)")
@click.option("--reason", required=True)
@click.option("--report", type=document, required=True)
@at_option
@click.pass_obj
def claim_assess(
    settings: Settings,
    claim_id: str,
    decision: str,
    amount_yuan: str | None,
    amount_fen: int | None,
    reason: str,
    report: Path,
    at: str | None,
) -> None:
    """The operator's assessment (the investigation report stays off the log)."""
    amount = amount_in_fen(amount_yuan, amount_fen, "amount approved")
    if amount is None:
        if decision == "approve":
            raise click.UsageError(
                "expected the amount approved: --amount YUAN (for example 3000.50) or "
                "--amount-fen FEN"
            )
        amount = 0
    with opened(settings) as plan:
        appended = plan.assess(
            claim_id, decision, amount, reason, read_file(report), at=check_time(at)
        )
    what = f"approved {money(amount)}" if decision == "approve" else "denied"
    say(f"Assessed {claim_id}: {what}, reason {reason!r} ({seq(appended)}).")


@claim.command("disclose")
@store_options
@click.argument("claim_id")
@at_option
@click.pass_obj
def claim_disclose(settings: Settings, claim_id: str, at: str | None) -> None:
    """Disclose a claim's anonymised fields; objections open."""
    with opened(settings) as plan:
        appended = plan.disclose(claim_id, at=check_time(at))
        closes = _claim(plan, claim_id).objections_close
    say(f"Disclosed {claim_id}; objections are open until {closes} ({seq(appended)}).")


@claim.command("object")
@store_options
@click.argument("claim_id")
@click.argument("objector")
@click.option("--reason", required=True)
@at_option
@click.pass_obj
def claim_object(
    settings: Settings, claim_id: str, objector: str, reason: str, at: str | None
) -> None:
    """A member objects to a disclosed claim."""
    with opened(settings) as plan:
        appended = plan.object(claim_id, objector, reason, at=check_time(at))
    say(f"Recorded {objector}'s objection to {claim_id} ({seq(appended)}).")


@claim.command("secret")
def claim_secret() -> None:
    """For an appellant: make a secret and its commitment (keep the secret until the draw)."""
    secret = secrets.token_bytes(32)
    say(json.dumps({"secret": secret.hex(), "commitment": hashlib.sha256(secret).hexdigest()}))


@claim.command("appeal")
@store_options
@click.argument("claim_id")
@click.argument("appellant")
@click.option("--commitment", required=True, help="SHA-256 of the appellant's secret, hex.")
@at_option
@click.pass_obj
def claim_appeal(
    settings: Settings, claim_id: str, appellant: str, commitment: str, at: str | None
) -> None:
    """An appeal; the juror pool is fixed now."""
    with opened(settings) as plan:
        appended = plan.appeal(claim_id, appellant, commitment, at=check_time(at))
        pool = _claim(plan, claim_id).pool or []
    say(
        f"Recorded {appellant}'s appeal of {claim_id}; its juror pool of "
        f"{len(pool):,} is fixed ({seq(appended)})."
    )


@claim.command("pool")
@store_options
@click.argument("claim_id")
@at_option
@click.pass_obj
def claim_pool(settings: Settings, claim_id: str, at: str | None) -> None:
    """Sign the juror pool fixed at the appeal; the appellant reveals after it."""
    with opened(settings) as plan:
        appended = plan.sign_pool(claim_id, at=check_time(at))
    say(
        f"Signed the juror pool of {claim_id} ({seq(appended)}); the appellant may now "
        "reveal their secret for the draw."
    )


@claim.command("draw")
@store_options
@click.argument("claim_id")
@click.option("--secret", required=True, help="The appellant's revealed secret, hex.")
@at_option
@click.pass_obj
def claim_draw(settings: Settings, claim_id: str, secret: str, at: str | None) -> None:
    """Draw the panel from the fixed pool with the revealed secret; prints the jurors."""
    try:
        secret_bytes = bytes.fromhex(secret)
    except ValueError:
        raise click.BadParameter("expected the secret in hex", param_hint="--secret") from None
    with opened(settings) as plan:
        jurors = plan.draw_panel(claim_id, secret_bytes, at=check_time(at))
        appended = plan.appended[0]
        closes = _claim(plan, claim_id).voting_closes
    say(
        f"Drew the panel for {claim_id} ({seq(appended)}): {' '.join(jurors)}; voting "
        f"closes at {closes}."
    )


@claim.command("vote")
@store_options
@click.argument("path", type=document)
@at_option
@click.pass_obj
def claim_vote(settings: Settings, path: Path, at: str | None) -> None:
    """Record a vote a juror signed with `tally juror sign`."""
    try:
        vote: dict[str, Any] = json.loads(read_file(path))
        fields = [str(vote[k]) for k in ("claim", "juror", "choice", "rationale_hash", "signature")]
    except (json.JSONDecodeError, UnicodeDecodeError, KeyError, TypeError) as exc:
        raise click.BadParameter(
            f"{path} is not a vote made by `tally juror sign`: {exc}"
        ) from None
    with opened(settings) as plan:
        appended = plan.cast_vote(*fields, at=check_time(at))
    say(f"Recorded {fields[1]}'s vote ({fields[2]}) on {fields[0]} ({seq(appended)}).")


@claim.command("decide")
@store_options
@click.argument("claim_id")
@at_option
@click.pass_obj
def claim_decide(settings: Settings, claim_id: str, at: str | None) -> None:
    """Record the decision the assessment, votes and rules give."""
    with opened(settings) as plan:
        appended = plan.decide(claim_id, at=check_time(at))
        found = _claim(plan, claim_id)
        tally = {v: list(found.votes.values()).count(v) for v in ("approve", "deny")}
    basis = (
        f"by the panel ({tally['approve']} approve, {tally['deny']} deny)"
        if found.jurors is not None and found.votes
        else "as assessed"
    )
    what = f"approved, {money(found.decided_fen)}" if found.outcome == "approved" else "denied"
    say(f"Decided {claim_id}: {what}, {basis} ({seq(appended)}).")


@claim.command("pay")
@store_options
@click.argument("claim_id")
@at_option
@click.pass_obj
def claim_pay(settings: Settings, claim_id: str, at: str | None) -> None:
    """Pay a claim decided approved, in the period open now."""
    with opened(settings) as plan:
        appended = plan.pay(claim_id, at=check_time(at))
        found = _claim(plan, claim_id)
    say(
        f"Paid {claim_id}: {money(found.paid_fen or 0)} to {found.member}, in period "
        f"{found.paid_period} ({seq(appended)})."
    )


@claim.command("reverse")
@store_options
@click.argument("claim_id")
@amount_options("amount recovered")
@click.option("--reason", required=True)
@at_option
@click.pass_obj
def claim_reverse(
    settings: Settings,
    claim_id: str,
    amount_yuan: str | None,
    amount_fen: int | None,
    reason: str,
    at: str | None,
) -> None:
    """Fraud found after payment: a compensating entry, never an edit."""
    recovered = required_amount(amount_yuan, amount_fen, "amount recovered")
    with opened(settings) as plan:
        appended = plan.reverse(claim_id, recovered, reason, at=check_time(at))
    say(f"Reversed {claim_id}: {money(recovered)} recovered, reason {reason!r} ({seq(appended)}).")
