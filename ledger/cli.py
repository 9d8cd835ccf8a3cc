"""``tally``: the operator's command line.

Exit codes (also in the README):

  0  success
  1  ``tally check`` found a mismatch
  2  usage error (a bad option or argument)
  3  refused: bad input, a malformed key, or a rule of the log
  4  unavailable: the database (or it holds no log), or the address to serve on
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn, ParamSpec, TypeVar

import click
from rich.console import Console
from rich.progress import Progress

from ledger.check import check_log
from ledger.cli_serve import AddressError
from ledger.clock import Clock, ClockError, resolve_setting, wall_clock
from ledger.domain.replay import replay_plan
from ledger.errors import LedgerError, StoreError
from ledger.instance import DEFAULT_ORIGIN, init_ledger, open_ledger
from ledger.log.entry import format_time, parse_entry, parse_time
from ledger.log.log import Log
from ledger.log.store import Store
from ledger.wording import count

EXIT_OK = 0
EXIT_MISMATCH = 1
EXIT_USAGE = 2
EXIT_REFUSED = 3
EXIT_UNAVAILABLE = 4

P = ParamSpec("P")
R = TypeVar("R")

DEFAULT_DB = "sqlite:///tally.db"
DEFAULT_KEY = "tally.key"

err = Console(stderr=True, highlight=False, soft_wrap=True)


def say(text: str) -> None:
    """Print a line to standard output exactly as given (no markup, no wrapping)."""
    click.echo(text)


class Settings:
    """The global options every command sees."""

    def __init__(self, db: str, key: Path, clock: str | None = None) -> None:
        self.db = db
        self.key = key
        self.clock = clock
        self._told = False

    def clock_for(self, log: Log | None) -> Clock:
        """The clock commands see: the wall clock, or the simulated one ``--clock`` sets.

        A relative setting (``+3d``) counts from ``log``'s last entry. The simulated
        time is said once on standard error, so that it is never used unawares.
        """
        if self.clock is None:
            return wall_clock
        last = None
        if log is not None and (size := log.size()) > 0:
            last = parse_entry(log.entries(size - 1, size)[0][1]).time
        try:
            clock = resolve_setting(self.clock, last)
        except ClockError as exc:
            usage(f"--clock (TALLY_CLOCK): {exc}")
        if not self._told:
            err.print(f"Simulated clock: it is {clock.text} (--clock, TALLY_CLOCK).", markup=False)
            self._told = True
        return clock


def _override_db(ctx: click.Context, _: click.Parameter, value: str | None) -> None:
    if value is not None:
        ctx.find_object(Settings).db = value  # type: ignore[union-attr]


def _override_key(ctx: click.Context, _: click.Parameter, value: Path | None) -> None:
    if value is not None:
        ctx.find_object(Settings).key = value  # type: ignore[union-attr]


def _override_clock(ctx: click.Context, _: click.Parameter, value: str | None) -> None:
    if value is not None:
        ctx.find_object(Settings).clock = value  # type: ignore[union-attr]


CLOCK_HELP = (
    "Rehearse on a simulated clock: commands see this time, YYYY-MM-DDTHH:MM:SSZ, or "
    "+DURATION (+3d, +12h) after the log's last entry (env TALLY_CLOCK)."
)


def store_options(command: Callable[P, R]) -> Callable[P, R]:
    """Accept --db, --key and --clock after the command name too (``tally serve --db URL``)."""
    command = click.option(
        "--clock",
        expose_value=False,
        callback=_override_clock,
        help="A simulated time for this command (as the global --clock).",
    )(command)
    command = click.option(
        "--key",
        type=click.Path(dir_okay=False, path_type=Path),
        expose_value=False,
        callback=_override_key,
        help="The operator's signing key file (as the global --key).",
    )(command)
    return click.option(
        "--db",
        expose_value=False,
        callback=_override_db,
        help="Database URL (as the global --db).",
    )(command)


def fail(exc: LedgerError) -> NoReturn:
    """Print a ledger error as a sentence and exit with its documented code."""
    if isinstance(exc, ClockError):
        usage(f"--clock (TALLY_CLOCK): {exc}")
    code = EXIT_UNAVAILABLE if isinstance(exc, StoreError | AddressError) else EXIT_REFUSED
    err.print("error:", str(exc), style="bold red", markup=False)
    sys.exit(code)


def usage(message: str) -> NoReturn:
    """A usage error (exit 2) that needed the database to find out, said as click says it."""
    err.print(f"Error: {message}", markup=False)
    sys.exit(EXIT_USAGE)


@click.group(
    context_settings={"help_option_names": ["-h", "--help"]},
    epilog="Exit codes: 0 success, 1 check found a mismatch, 2 usage error, "
    "3 refused (bad input or key), 4 database unavailable or not initialised, or the "
    "address to serve on unavailable.",
)
@click.option(
    "--db",
    envvar="TALLY_DATABASE_URL",
    default=DEFAULT_DB,
    show_default=True,
    help="Database URL: sqlite:///PATH or postgresql://USER@HOST/DB (env TALLY_DATABASE_URL).",
)
@click.option(
    "--key",
    envvar="TALLY_KEY_FILE",
    default=DEFAULT_KEY,
    show_default=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The operator's signing key file (env TALLY_KEY_FILE).",
)
@click.option("--clock", envvar="TALLY_CLOCK", default=None, help=CLOCK_HELP)
@click.pass_context
def main(ctx: click.Context, db: str, key: Path, clock: str | None) -> None:
    """Run a Tally ledger: an append-only, signed log of a mutual-aid plan."""
    ctx.obj = Settings(db, key, clock)


@main.command()
@store_options
@click.option("--origin", help=f"The log's name, also its key's name [default: {DEFAULT_ORIGIN}].")
@click.option(
    "--at",
    "at",
    default=None,
    help="The genesis entry's time, to start a plan with its history (default: now).",
)
@click.pass_obj
def init(settings: Settings, origin: str | None, at: str | None) -> None:
    """Create the database, the signing key and the genesis entry."""
    clock = settings.clock_for(None)
    genesis = _genesis_time(at, clock)
    try:
        ledger, created = init_ledger(
            settings.db, settings.key, origin, genesis_time=genesis, clock=clock
        )
    except LedgerError as exc:
        fail(exc)
    try:
        meta = ledger.store.require_meta()
        first = parse_entry(ledger.log.entries(0, 1)[0][1])
        if created:
            say(f"Created the signing key {settings.key} (mode 0600; keep it secret).")
        size = ledger.log.size()
        say(f"Log {meta.origin} is ready with {count(size, 'entry')}, from {first.time}.")
        if at is not None and first.time != at:
            err.print(
                f"The log already began at {first.time}; --at {at} changed nothing.",
                markup=False,
            )
        say(f"Its verifier key (give this to members): {meta.verifier_key}")
    finally:
        ledger.close()


def _genesis_time(at: str | None, clock: Clock) -> str:
    """``--at`` checked (a time, not ahead of the clock), or the clock's now."""
    now = format_time(clock())
    if at is None:
        return now
    try:
        parse_time(at)
    except LedgerError as exc:
        fail(exc)
    if at > now:
        fail(LedgerError(f"expected --at no later than now ({now}), found {at}"))
    return at


@main.command()
@store_options
@click.pass_obj
def publish(settings: Settings) -> None:
    """Sign a checkpoint of the log as it is now."""
    try:
        ledger = open_ledger(settings.db, settings.key)
        try:
            signed = ledger.publisher.publish()
        finally:
            ledger.close()
    except LedgerError as exc:
        fail(exc)
    err.print(
        f"Signed checkpoint of {count(signed.checkpoint.size, 'entry')} (signed at "
        f"{signed.signed_at}):",
        markup=False,
    )
    click.echo(signed.note, nl=False)


@main.command()
@store_options
@click.option("--full", is_flag=True, help="Also re-validate every entry against specs/entries.md.")
@click.pass_obj
def check(settings: Settings, full: bool) -> None:
    """Re-derive every hash, the chain and the plan from the entries; compare with the store."""
    try:
        store = Store(settings.db)
        try:
            with Progress(console=err, transient=True) as bar:
                task = bar.add_task("checking the log", total=None)
                report = check_log(
                    store,
                    full=full,
                    progress=lambda done, total: bar.update(task, completed=done, total=total),
                )
                plan = None
                if report.ok:
                    bar.update(task, description="replaying the plan's rules", completed=0)
                    plan, _ = replay_plan(
                        store,
                        progress=lambda done, total: bar.update(task, completed=done, total=total),
                    )
        finally:
            store.dispose()
    except LedgerError as exc:
        fail(exc)
    mismatches = report.mismatches + (plan.mismatches if plan is not None else [])
    if not mismatches:
        say(
            f"OK: {count(report.entries, 'entry')}, "
            f"{count(report.hashes, 'stored hash', 'stored hashes')} and "
            f"{count(report.checkpoints, 'signed checkpoint')} agree."
        )
        if report.retired is not None and report.successor is not None:
            say(
                f"The log was retired at seq {report.retired:,}; its successor is "
                f"{report.successor[0]} ({report.successor[1]})."
            )
            if not report.final:
                err.print(
                    "No signed checkpoint covers the retirement yet: run 'tally publish' to "
                    "sign the final one.",
                    markup=False,
                )
        if plan is not None and (plan.members or plan.claims):
            say(
                f"OK: the plan's rules hold for every entry: {count(plan.members, 'member')}, "
                f"{count(plan.claims, 'claim')}, {count(plan.periods, 'closed period')} and their "
                "contribution trees re-derived."
            )
            if plan.projections_compared is not None:
                say(
                    "OK: the plan's state tables hold what the first "
                    f"{count(plan.projections_compared, 'entry')} give, row for row."
                )
        return
    err.print(f"MISMATCH, first at {mismatches[0]}", markup=False)
    for mismatch in mismatches[1:]:
        err.print(f"  also: {mismatch}", markup=False)
    sys.exit(EXIT_MISMATCH)


# The other commands register themselves on `main`.
from ledger import (  # noqa: E402, F401
    plan_cli,
    projections_cli,
    request_cli,
    retire_cli,
    serve_cli,
    site_cli,
    tiles_cli,
    token_cli,
)

if __name__ == "__main__":
    # Run as `python -m ledger.cli`, this file is __main__; the commands registered
    # themselves on ledger.cli's `main`, the module as imported.
    from ledger.cli import main as registered

    registered()
