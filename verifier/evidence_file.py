"""Evidence files: writing one, never over another, and re-checking one.

When the log misbehaves (a fork, :mod:`verifier.fork`; a broken write receipt,
:mod:`verifier.receipt_evidence`), the verifier saves what it saw as a JSON file
the member can keep and share. :func:`write_evidence` is the one writer of such
files: indented UTF-8 JSON, written atomically, to a new file (a numbered name
beside an existing one, never over earlier evidence). :func:`check_evidence_file`
reads one back strictly and re-checks it, trusting nothing in it but what its
signatures and proofs show.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from verifier.fork import EvidenceVerdict, Fork, check_evidence, evidence_document
from verifier.note import Verifier
from verifier.receipt_evidence import check_receipt_evidence, is_receipt_evidence
from verifier.state import utc_now, write_atomic
from verifier.strict_json import StrictJSONError, loads

MAX_NUMBERED = 1000
"""Names tried beside an existing file before giving up."""


@dataclass(frozen=True)
class Written:
    """Where an evidence document went: ``path``, or ``error`` if it could not be written."""

    document: dict[str, Any]
    path: Path | None
    error: str | None = None


def evidence_name(kind: str, at: str) -> str:
    """``tally-<kind>-evidence-<YYYYMMDDTHHMMSSZ>.json`` for a time ``at`` (utc_now's form)."""
    stamp = at.replace(":", "").replace("-", "")
    return f"tally-{kind}-evidence-{stamp}.json"


def write_evidence(document: dict[str, Any], target: Path | None, name: str) -> Written:
    """Write ``document`` to ``target`` (a file, or a folder to put ``name`` in; default: the
    current folder), or to a numbered name beside it if that exists.

    Never raises for a file that cannot be written: the caller shows the document then.
    """
    data = (json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
    path = Path.cwd() / name if target is None else target
    if path.is_dir():
        path = path / name
    try:
        return Written(document, _write_new_file(path, data))
    except OSError as exc:
        return Written(document, None, str(exc))


def write_fork_evidence(fork: Fork, verifier_key: str, target: Path | None) -> Written:
    """Write the evidence of ``fork`` (:func:`verifier.fork.evidence_document`)."""
    now = utc_now()
    return write_evidence(
        evidence_document(fork, verifier_key, now), target, evidence_name("fork", now)
    )


def _write_new_file(target: Path, data: bytes) -> Path:
    """Write ``data`` to ``target``, or beside it with a number: never over earlier evidence."""
    for n in range(MAX_NUMBERED):
        path = target if n == 0 else target.with_name(f"{target.stem}-{n}{target.suffix}")
        try:
            write_atomic(path, data, replace=False)
        except FileExistsError:
            continue
        return path
    raise FileExistsError(f"{target} and {MAX_NUMBERED - 1} numbered names beside it exist")


@dataclass(frozen=True)
class EvidenceCheck:
    """An evidence file re-checked: the verdict, what the file is about, and why."""

    verdict: EvidenceVerdict
    about_receipt: bool
    message: str
    """The verdict's message, or why the file could not be read at all."""


def check_evidence_file(path: Path, pinned: Verifier | None) -> EvidenceCheck:
    """Read ``path`` strictly and re-check it as fork or receipt evidence.

    ``pinned``, the key saved in the member's state if any, is only compared with the
    file's key and reported.
    """
    try:
        doc: object = loads(path.read_bytes())
    except (OSError, StrictJSONError) as exc:
        doc = None
        reason = f"cannot read {path} as JSON: {exc}"
    else:
        reason = ""
    about_receipt = is_receipt_evidence(doc)
    verdict = check_receipt_evidence(doc, pinned) if about_receipt else check_evidence(doc, pinned)
    message = verdict.message if not reason else f"The file does not prove anything: {reason}."
    return EvidenceCheck(verdict, about_receipt, message)
