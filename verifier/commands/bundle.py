"""``tally-verify bundle FILE``: verify a saved statement bundle offline."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from verifier.commands.app import App
from verifier.errors import VerificationError
from verifier.note import Verifier, parse_verifier_key
from verifier.statement import StatementReport, parse_bundle_bytes, verify_statement


@click.command("bundle", short_help="Verify a saved statement bundle offline.")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--key", "key_text", help="The log's verifier key (if no state pins one).")
@click.pass_obj
def bundle(app: App, file: Path, key_text: str | None) -> None:
    """Verify a saved statement bundle offline, with no server (statement.md §3).

    The key is the pinned one from the state if there is one, else --key. A file
    that holds the server's error answer (a saved 404, say) is a usage error (exit 2).
    """
    state = app.state_dir.load() if app.state_dir.exists() else None
    key: Verifier
    if state is not None:
        key = state.verifier
        if key_text is not None and parse_verifier_key(key_text.strip()) != key:
            raise click.BadParameter("differs from the pinned key", param_hint="--key")
    elif key_text is not None:
        try:
            key = parse_verifier_key(key_text.strip())
        except VerificationError as exc:
            raise click.BadParameter(str(exc), param_hint="--key") from None
    else:
        raise click.UsageError("no state pins a key: give the log's key with --key")
    doc = read_bundle(file)
    saved = None if state is None else state.verified_checkpoint
    finish_statement(app, "bundle", verify_statement(doc, key, saved=saved).report)


def read_bundle(path: Path) -> dict[str, Any]:
    """The bundle in ``path``, read strictly (its checks are the library's)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise click.BadParameter(f"cannot read {path}: {exc}", param_hint="FILE") from None
    return parse_bundle_bytes(data)


def finish_statement(app: App, command: str, report: StatementReport) -> None:
    """Print a verified statement's report."""
    app.finish({"command": command, **report.json()}, report.lines())
