"""``tally-verify init URL [--key KEY] [--force]``: pin the log's key and checkpoint."""

from __future__ import annotations

import click

from verifier.b64 import encode
from verifier.commands.app import App, evidence_option, parse_url
from verifier.errors import VerificationError
from verifier.note import Verifier, parse_verifier_key
from verifier.pinning import Pinned, pin_log
from verifier.state import TRUST_TOFU


@click.command()
@click.argument("url")
@click.option("--key", "key_text", help="The log's verifier key, from the plan (recommended).")
@click.option("--force", is_flag=True, help="Start over even if the state pins another key.")
@evidence_option
@click.pass_obj
def init(app: App, url: str, key_text: str | None, force: bool) -> None:
    """Pin the log's key and save its latest checkpoint, verified.

    With --key, the server must state that same key. Without it, the key the
    server states is trusted on first use: compare it out of band. Running init
    again with the same key keeps the saved history and checks the log extends it.
    """
    base = parse_url(url)
    given: Verifier | None = None
    if key_text is not None:
        try:
            given = parse_verifier_key(key_text.strip())
        except VerificationError as exc:
            raise click.BadParameter(str(exc), param_hint="--key") from None
    pinned = pin_log(app.state_dir, base, given, force=force, timeout=app.timeout)
    if pinned.growth is not None:
        _finish_again(app, pinned, base)
        return
    key, checkpoint, trust = pinned.key, pinned.checkpoint, pinned.state.trust
    lines = []
    if trust == TRUST_TOFU:
        app.warn("WARNING: key trusted on first use", tofu_text(base, key))
        lines.append(f"Trusted on first use the key of the log {key.name}: {key.to_string()}")
    else:
        lines.append(f"Pinned the key you gave for the log {key.name}; the server states the same.")
    lines.append(
        f"Verified its latest checkpoint: {checkpoint.size:,} entries, root "
        f"{encode(checkpoint.root)}. Saved in {app.state_dir.path}."
    )
    app.finish(
        {
            "command": "init",
            "url": base,
            "origin": key.name,
            "verifier_key": key.to_string(),
            "trust": trust,
            "tree_size": checkpoint.size,
            "root": encode(checkpoint.root),
            "state_dir": str(app.state_dir.path),
            **({"warning": tofu_text(base, key)} if trust == TRUST_TOFU else {}),
        },
        lines,
    )


def _finish_again(app: App, pinned: Pinned, base: str) -> None:
    """Init again with the pinned key: the history kept, the log checked to extend it."""
    grown, state = pinned.growth, pinned.state
    assert grown is not None
    app.finish(
        {
            "command": "init",
            "url": base,
            "origin": grown.new.origin,
            "verifier_key": state.verifier_key,
            "trust": state.trust,
            "tree_size": grown.new.size,
            "root": encode(grown.new.root),
            "state_dir": str(app.state_dir.path),
            "already_initialised": True,
        },
        [
            f"This state already pins the same key; kept its history and now uses {base}.",
            grown.sentence(),
        ],
    )


def tofu_text(base: str, key: Verifier) -> str:
    """The warning about a key trusted on first use, with the command that pins it."""
    return (
        "You did not give the log's key with --key, so tally-verify now trusts the key "
        f"that {base} presented:\n\n    {key.to_string()}\n\n"
        "Whoever controls that server, or your connection to it, could have presented "
        "their own key. Compare it, character for character, with the key your plan "
        "publishes through another channel (its website, a member letter, another "
        "member's verifier). Then record that you checked it:\n\n"
        f"    tally-verify init {base} --key '{key.to_string()}'"
    )
