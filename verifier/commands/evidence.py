"""``tally-verify evidence FILE``: re-check a fork or receipt evidence file offline."""

from __future__ import annotations

from pathlib import Path

import click

from verifier.commands.app import EXIT_FORK, EXIT_VERIFICATION, App
from verifier.errors import StateError
from verifier.evidence_file import EvidenceCheck, check_evidence_file


@click.command("evidence")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.pass_obj
def evidence(app: App, file: Path) -> None:
    """Re-check an evidence file offline: of a fork, or of a broken write receipt.

    Exits 3 if the file holds (the log's key signed two conflicting checkpoints, or
    a receipt and a checkpoint that disagree), 1 if it proves nothing. Compares the
    file's key with the pinned one if a state is set up.
    """
    try:
        state = app.state_dir.load()
    except StateError:
        state = None
    checked = check_evidence_file(file, None if state is None else state.verifier)
    verdict = checked.verdict
    app.finish(
        {
            "command": "evidence",
            "file": str(file),
            "holds": verdict.holds,
            "kind": verdict.kind,
            "conclusive": verdict.conclusive,
            "verifier_key": verdict.verifier_key,
            "key_matches_pinned": verdict.key_matches_pinned,
            "message": checked.message,
        },
        _lines(checked, "" if state is None else state.verifier_key),
        code=EXIT_FORK if verdict.holds else EXIT_VERIFICATION,
    )


def _lines(checked: EvidenceCheck, pinned: str) -> list[str]:
    verdict = checked.verdict
    if not verdict.holds:
        return [f"This file does not prove misbehaviour. {checked.message}"]
    lines = [f"This file shows that the log misbehaved. {checked.message}"]
    if verdict.conclusive:
        lines.append(
            "It is conclusive: anyone can check it from the signed notes, the entry and "
            "the proof in the file."
            if checked.about_receipt
            else "It is conclusive: anyone can check it from the two signed checkpoints "
            "and the proof in the file."
        )
    elif checked.about_receipt:
        lines.append(
            "The receipt and the checkpoint are genuinely signed by the log's key, but "
            "checkpoints carry no time: that this one was the latest after the promised "
            "time rests on when it was fetched. To show others, ask the log again."
        )
    else:
        lines.append(
            "Both checkpoints are genuinely signed by the log's key, but this kind of "
            "evidence rests on what the verifier recorded the server answering: to "
            "show others, ask the log the same question again."
        )
    if verdict.key_matches_pinned is True:
        lines.append("The file's key is the one pinned in your state.")
    elif verdict.key_matches_pinned is False:
        lines.append(
            f"The file's key is NOT the one pinned in your state ({pinned}): "
            "it is about another log, or another key."
        )
    else:
        lines.append(
            "No state is set up here, so the file's key was not compared with a pinned one."
        )
    return lines
