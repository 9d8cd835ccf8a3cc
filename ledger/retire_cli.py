"""``tally retire``: end this log for good, handing its members over to a successor log.

Appends ``log.retired`` naming the successor's origin and verifier key, then signs
the final checkpoint covering it (specs/log.md §7). Nothing can be appended after
it, and no larger checkpoint is ever signed. It cannot be undone, so it asks first
(``--yes`` answers for scripts).
"""

from __future__ import annotations

import click

from ledger.cli import Settings, err, fail, main, say, store_options, usage
from ledger.errors import LedgerError
from ledger.instance import open_ledger
from ledger.retirement import retire
from ledger.wording import count


@main.command("retire")
@store_options
@click.option("--successor-origin", required=True, help="The origin of the log taking over.")
@click.option(
    "--successor-key",
    required=True,
    help="The successor log's verifier key (from its 'tally init'), named after its origin.",
)
@click.option("--at", "at", default=None, help="The retirement's entry time (default: now).")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.pass_obj
def retire_command(
    settings: Settings, successor_origin: str, successor_key: str, at: str | None, yes: bool
) -> None:
    """Retire the log for good: a last entry naming its successor, and a final checkpoint."""
    try:
        ledger = open_ledger(settings.db, settings.key)
    except LedgerError as exc:
        fail(exc)
    try:
        origin = ledger.publisher.origin
        if not yes and not _confirmed(origin, successor_origin):
            usage("nothing was retired: not confirmed (pass --yes to retire without asking)")
        appended, final = retire(
            ledger,
            successor_origin,
            successor_key,
            clock=settings.clock_for(ledger.log),
            at=at,
        )
    except LedgerError as exc:
        fail(exc)
    finally:
        ledger.close()
    say(
        f"Retired the log {origin} at seq {appended.seq:,}; its successor is {successor_origin} "
        f"({successor_key}). Signed the final checkpoint, of "
        f"{count(final.checkpoint.size, 'entry')}:"
    )
    click.echo(final.note, nl=False)
    err.print("Nothing more can be appended to this log.", markup=False)


def _confirmed(origin: str, successor: str) -> bool:
    """Ask on the terminal; no answer (end of input) is no."""
    try:
        return click.confirm(
            f"Retire the log {origin} for good? Nothing can be appended after this, and "
            f"its members are sent to {successor}",
            err=True,
        )
    except click.Abort:
        return False
