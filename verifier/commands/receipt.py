"""``tally-verify receipt FILE``: the log kept a write receipt's promise (specs/receipt.md)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from verifier.commands.app import EXIT_FORK, App, evidence_option
from verifier.errors import StateError
from verifier.evidence_file import evidence_name, write_evidence
from verifier.receipt import receipt_text, verify_receipt
from verifier.receipt_check import MISBEHAVIOUR, NOT_YET_COVERED, ReceiptVerdict, check_receipt
from verifier.receipt_evidence import EQUIVOCATION
from verifier.session import open_session


@click.command("receipt", short_help="Check the log kept a write receipt's promise.")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@evidence_option
@click.pass_obj
def receipt(app: App, file: Path) -> None:
    """Check a write receipt (specs/receipt.md) against the log.

    FILE holds the receipt note, or the JSON an admin write answered (its
    "receipt" member). The receipt must be signed by the pinned key for the pinned
    origin. The latest checkpoint is fetched and checked as `checkpoint` does; if
    it covers the receipt's seq, the entry there must hash to the receipt's entry
    hash and its inclusion proof must verify. If the log does not hold the entry
    yet and covered-by has not passed, the status is "pending" (exit 0). After
    covered-by, a log that does not cover the entry is censorship, and an entry
    with another hash at that seq is equivocation: both are misbehaviour (exit 3)
    with an evidence file.
    """
    try:
        data = file.read_bytes()
    except OSError as exc:
        raise StateError(f"cannot read {file}: {exc}") from None
    with open_session(app.state_dir, app.timeout) as session:
        promise = verify_receipt(receipt_text(data), session.key)
        verdict = check_receipt(session, promise)
    r, checkpoint = verdict.receipt, verdict.growth.new
    base = {
        "command": "receipt",
        "url": verdict.url,
        "seq": r.seq,
        "entry_hash": r.entry_hash,
        "covered_by": r.covered_by,
        "checkpoint_size": checkpoint.size,
        "checked_at": verdict.checked_at,
    }
    if verdict.status == MISBEHAVIOUR:
        _misbehaviour(app, base, verdict)
        return
    if verdict.status == NOT_YET_COVERED:
        line = (
            f"Receipt signature verified; entry {r.seq:,} is not yet covered: the log holds "
            f"{checkpoint.size:,} entries, and has until {r.covered_by} to include it. Check "
            "again after that time."
        )
    else:
        line = (
            f"Receipt verified: entry {r.seq:,} of {r.origin} has the promised hash and is in "
            f"the signed tree of {checkpoint.size:,} entries."
        )
    app.finish({**base, "status": verdict.status}, [line])


def _misbehaviour(app: App, base: dict[str, Any], verdict: ReceiptVerdict) -> None:
    r, evidence = verdict.receipt, verdict.evidence
    assert evidence is not None
    if verdict.kind == EQUIVOCATION:
        message = (
            f"MISBEHAVIOUR: the log's key signed a receipt for entry {r.seq:,} with hash "
            f"{r.entry_hash}, and a checkpoint whose entry {r.seq:,} has hash "
            f"{verdict.found_hash}."
        )
    else:
        message = (
            f"CENSORSHIP: the operator signed a promise it did not keep. Entry {r.seq:,} was "
            f"promised by {r.covered_by}, but at {verdict.checked_at} the log's signed "
            f"checkpoint covers only {verdict.growth.new.size:,} entries."
        )
    written = write_evidence(
        evidence, app.evidence_path, evidence_name("receipt", verdict.checked_at)
    )
    lines = [message]
    if written.path is not None:
        lines.append(f"Evidence saved to {written.path}. Keep it and share it.")
    else:
        lines.append(f"The evidence file could not be written ({written.error}); here it is:")
        lines.append(json.dumps(evidence, ensure_ascii=False))
    app.finish(
        {
            **base,
            "status": verdict.status,
            "kind": verdict.kind,
            "message": message,
            "evidence_file": None if written.path is None else str(written.path),
            "evidence": evidence,
        },
        lines,
        code=EXIT_FORK,
    )
