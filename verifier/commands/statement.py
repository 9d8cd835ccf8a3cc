"""``tally-verify statement --member ID``: fetch (or read) and verify a member's statement."""

from __future__ import annotations

from pathlib import Path

import click

from verifier.commands.app import App
from verifier.commands.bundle import finish_statement, read_bundle
from verifier.plan.errors import PlanError
from verifier.plan.ids import check_member
from verifier.plan.periods import parse_period
from verifier.session import open_session
from verifier.state import utc_now
from verifier.statement import verify_statement


@click.command("statement", short_help="Fetch and verify your statement for a period.")
@click.option("--member", "member", required=True, help="Your member id (m-...).")
@click.option("--period", "period", help="The period (YYYY-MMa/b) [default: the latest closed].")
@click.option(
    "--bundle",
    "bundle_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Verify this saved bundle instead of fetching one.",
)
@click.pass_obj
def statement(app: App, member: str, period: str | None, bundle_path: Path | None) -> None:
    """Verify how your share of a period was used (specs/statement.md §3).

    The bundle's checkpoint must be signed by the pinned key; every entry's proof,
    your contribution proofs, the period's apportionment, your charge and every
    claim paid in the period are recomputed. A statement cannot show that nothing
    was left out of the log: `tally-verify audit` does. A member id or a period the
    log does not know is a usage error (exit 2).
    """
    try:
        member = check_member(member)
        if period is not None:
            period = parse_period(period).id
    except PlanError as exc:
        raise click.BadParameter(str(exc)) from None
    if bundle_path is not None:
        with app.state_dir.lock():
            state = app.state_dir.require()
            doc = read_bundle(bundle_path)
            verdict = verify_statement(
                doc,
                state.verifier,
                saved=state.verified_checkpoint,
                member=member,
                period=period,
            )
        finish_statement(app, "statement", verdict.report)
        return
    with open_session(app.state_dir, app.timeout) as session:
        doc = session.client.statement(member, period)
        verdict = verify_statement(
            doc,
            session.key,
            saved=session.state.verified_checkpoint,
            prove=session.client.consistency_proof,
            member=member,
            period=period,
        )
        if verdict.replaces_saved:
            session.state.adopt(verdict.note, session.client.base_url, utc_now())
            session.save()
    finish_statement(app, "statement", verdict.report)
