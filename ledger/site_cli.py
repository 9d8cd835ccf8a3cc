"""``tally site export DIR``: write the members' page as a static site.

The page's files live in the API package (:mod:`api.site`), which ``tally serve``
serves at ``/``; exported, any web server can host them next to the log's endpoints
(the page asks ``v1/...`` relative to its own address). This is the one command of
the ledger's CLI besides ``serve`` that reaches into ``api`` (see the import
contract in pyproject.toml).
"""

from __future__ import annotations

from pathlib import Path

import click

from ledger.cli import EXIT_REFUSED, err, main, say


@main.group()
def site() -> None:
    """The members' page as static files."""


@site.command("export")
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
def export(folder: Path) -> None:
    """Write the page into FOLDER (new or empty), to host next to the log's endpoints."""
    # Imported here: the web framework is not loaded by every other command.
    from api.site import SiteExportError, export_site

    try:
        files = export_site(folder)
    except SiteExportError as exc:
        err.print(f"Refused: {exc}", markup=False)
        raise SystemExit(EXIT_REFUSED) from None
    say(f"Wrote the members' page ({len(files)} files) to {folder}.")
    say("Host it at the same address as the log's /v1/ endpoints, /checkpoint and /tile/.")
