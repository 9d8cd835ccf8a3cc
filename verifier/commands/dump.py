"""``tally-verify dump DIR``: save the whole log, checked, for ``audit --dir``."""

from __future__ import annotations

from pathlib import Path

import click

from verifier.audit_dump import holds_dump, save_dump
from verifier.b64 import encode
from verifier.commands.app import App, evidence_option
from verifier.session import open_session


@click.command(short_help="Save the whole log, checked, for `audit --dir`.")
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace a dump already in FOLDER.")
@evidence_option
@click.pass_obj
def dump(app: App, folder: Path, force: bool) -> None:
    """Save the whole log in FOLDER, checked as it is fetched, for `audit --dir`.

    Writes `checkpoint` (the signed note) and `entries.jsonl` (one
    {"seq", "leaf"} per line, leaf the base64 of the exact entry bytes). The files
    appear only once every entry is checked and the root matches.
    """
    with open_session(app.state_dir, app.timeout) as session:
        if not force and holds_dump(folder):
            raise click.UsageError(f"{folder} already holds a dump; pass --force to replace it")
        grown = save_dump(session, folder, progress=app.progress)
    checkpoint = grown.new
    app.finish(
        {
            "command": "dump",
            "folder": str(folder),
            "tree_size": checkpoint.size,
            "root": encode(checkpoint.root),
            **{f"checkpoint_{k}": v for k, v in grown.json().items()},
        },
        [
            grown.sentence(),
            f"Saved and checked all {checkpoint.size:,} entries in {folder}; "
            f"`tally-verify audit --dir {folder}` replays them offline.",
        ],
    )
