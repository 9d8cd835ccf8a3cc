"""``tally projections``: the plan's state tables, rebuilt from the entries or shown.

The entries are the source of truth (ADR 0018); the tables are what they imply.
``rebuild`` empties the tables and applies every entry again, a chunk per
transaction, in bounded memory; ``tally check`` then compares them with a replay.
Needs no key.
"""

from __future__ import annotations

import time

import click
from rich.progress import Progress

from ledger.cli import Settings, err, fail, main, say, store_options
from ledger.domain.projections import SCHEMA, behind, rebuild, schema_version
from ledger.domain.store import create_plan_schema
from ledger.errors import LedgerError
from ledger.log.store import Store
from ledger.wording import count


@main.group()
def projections() -> None:
    """The plan's state as tables (members, claims, charges, periods), kept with the log."""


@projections.command("rebuild")
@store_options
@click.pass_obj
def rebuild_command(settings: Settings) -> None:
    """Empty the plan's state tables and rebuild them from every entry.

    Safe while the server runs: a command that comes meanwhile waits for the chunk
    being written, then applies what is still missing itself. Needs no key.
    """
    started = time.monotonic()
    try:
        store = Store(settings.db)
        try:
            store.require_meta()
            create_plan_schema(store)
            with Progress(console=err, transient=True) as bar:
                task = bar.add_task("applying entries", total=None)
                applied = rebuild(
                    store,
                    progress=lambda done, total: bar.update(task, completed=done, total=total),
                )
        finally:
            store.dispose()
    except LedgerError as exc:
        fail(exc)
    seconds = time.monotonic() - started
    say(f"Rebuilt the plan's state tables from {count(applied, 'entry')} in {seconds:.1f} s.")


@projections.command("status")
@store_options
@click.pass_obj
def status_command(settings: Settings) -> None:
    """How many entries the state tables have applied, and the schema they are at."""
    try:
        store = Store(settings.db, read_only=True)
        try:
            store.require_meta()
            applied, size = behind(store)
            with store.reader() as conn:
                version = schema_version(conn)
        finally:
            store.dispose()
    except LedgerError as exc:
        fail(exc)
    say(
        f"The state tables have applied {count(applied, 'entry')} of {size:,} "
        f"(schema {version} of {SCHEMA})."
        + ("" if applied >= size else " The next command applies the rest.")
    )
