"""``tally-verify checkpoint``: the latest checkpoint extends the saved one."""

from __future__ import annotations

import click

from verifier.commands.app import App, evidence_option
from verifier.session import open_session


@click.command("checkpoint", short_help="Check the latest checkpoint extends the saved one.")
@evidence_option
@click.pass_obj
def checkpoint(app: App) -> None:
    """Check the log's latest checkpoint extends the one saved, and save it.

    The checkpoint must be signed by the pinned key, and a consistency proof must
    show that the saved tree is a prefix of the new one. A smaller tree, another
    root of the same size, or a proof that fails is a fork (exit 3): the evidence
    is written to a file and the saved checkpoint is kept.
    """
    with open_session(app.state_dir, app.timeout) as session:
        grown = session.refresh()
        url = session.state.url
    app.finish({"command": "checkpoint", "url": url, **grown.json()}, [grown.sentence()])
