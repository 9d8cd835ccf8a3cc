"""``tally tiles export DIR``: the log as static C2SP tiles, for any web server or CDN.

Writes the latest signed checkpoint and every tile and entry bundle it implies
(:mod:`ledger.publish.static_tiles`); run again, it writes only what is new. It
needs no key, so it can run on a host that only reads the database (a replica).
"""

from __future__ import annotations

import time
from pathlib import Path

import click
from rich.progress import Progress

from ledger.cli import Settings, err, fail, main, say, store_options
from ledger.errors import LedgerError
from ledger.log.store import Store
from ledger.publish.static_tiles import export_tiles
from ledger.wording import count


@main.group()
def tiles() -> None:
    """The log as static C2SP tiles (tlog-tiles), for any web server or CDN."""


@tiles.command("export")
@store_options
@click.argument("folder", type=click.Path(path_type=Path))
@click.pass_obj
def export(settings: Settings, folder: Path) -> None:
    """Write the latest checkpoint and its tiles into FOLDER; again, only what is new.

    FOLDER is made if missing. Files are written whole (a temporary name renamed
    into place) and the checkpoint last, so a web server serving FOLDER meanwhile
    never serves a checkpoint whose tiles are missing. Needs no key.
    """
    started = time.monotonic()
    try:
        store = Store(settings.db, read_only=True)
    except LedgerError as exc:
        fail(exc)
    try:
        with Progress(console=err, transient=True) as bar:
            task = bar.add_task("writing tiles", total=None)
            report = export_tiles(
                store,
                folder,
                progress=lambda done, total: bar.update(task, completed=done, total=total),
            )
    except LedgerError as exc:
        fail(exc)
    finally:
        store.dispose()
    seconds = time.monotonic() - started
    if report.previous_size == report.tree_size and not report.written:
        say(f"{folder} already holds the latest checkpoint ({count(report.tree_size, 'entry')}).")
        return
    since = f" (from {report.previous_size:,})" if report.previous_size else ""
    say(
        f"Exported the checkpoint of {count(report.tree_size, 'entry')}{since} to {folder}: "
        f"{count(len(report.written), 'file')} written ({report.bytes_written:,} bytes), "
        f"{count(report.kept, 'tile')} already there, in {seconds:.1f} s."
    )
