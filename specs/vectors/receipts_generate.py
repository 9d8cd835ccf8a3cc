"""Write the write-receipt vectors of specs/receipt.md from the ledger's own code.

Run ``python specs/vectors/receipts_generate.py [OUT]``. The output,
``receipts/receipt.json``, is deterministic: the published test key of
``keys/log-key.json`` (written by generate.py), the last entry of the 7-entry
vector log ``log/log-7.json``, and a fixed covered-by time. Ed25519 signatures are
deterministic, so the same inputs give the same bytes; a test regenerates the file
and fails if any byte changes.
"""

from __future__ import annotations

import base64
import json
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))

from ledger.log.entry import entry_hash  # noqa: E402
from ledger.publish.note import Signer, parse_signer_key, sign_note  # noqa: E402
from ledger.publish.receipt import Receipt, sign_receipt  # noqa: E402

COVERED_BY = "2026-01-01T00:01:02Z"
OTHER_SEED = b"\x07" * 32  # another key under the log's name: it must not verify


def _load(path: str) -> dict[str, Any]:
    value: dict[str, Any] = json.loads((HERE / path).read_text())
    return value


def receipts(out: Path) -> None:
    """Write ``receipts/receipt.json`` under ``out``."""
    key = _load("keys/log-key.json")
    log = _load("log/log-7.json")
    signer = parse_signer_key(key["signer_key"])
    seq = len(log["entries_b64"]) - 1
    raw = base64.b64decode(log["entries_b64"][seq])
    receipt = Receipt(signer.name, seq, entry_hash(raw), COVERED_BY)
    body = receipt.to_body()
    note = sign_receipt(receipt, signer)

    def signed(text: str) -> str:
        return sign_note(text, [signer])

    header, origin, seq_text, hash_text, covered = body[:-1].split("\n")
    invalid = [
        {
            "description": "signed by another key that has the log's name",
            "note": sign_receipt(receipt, Signer(signer.name, OTHER_SEED)),
            "error": "signature",
        },
        {
            "description": "a seq with a leading zero",
            "note": signed(f"{header}\n{origin}\n0{seq_text}\n{hash_text}\n{covered}\n"),
            "error": "seq",
        },
        {
            "description": "an upper-case entry hash",
            "note": signed(f"{header}\n{origin}\n{seq_text}\n{hash_text.upper()}\n{covered}\n"),
            "error": "entry_hash",
        },
        {
            "description": "a covered-by time with a fraction of a second",
            "note": signed(f"{header}\n{origin}\n{seq_text}\n{hash_text}\n{covered[:-1]}.5Z\n"),
            "error": "covered_by",
        },
        {
            "description": "an extra line after covered-by",
            "note": signed(body + "extension\n"),
            "error": "format",
        },
        {
            "description": "another first line (version 2)",
            "note": signed(body.replace("tally/receipt/v1", "tally/receipt/v2", 1)),
            "error": "format",
        },
        {
            "description": "the origin of another log (the key's name differs)",
            "note": signed(body.replace(f"\n{origin}\n", "\nother.example/log\n", 1)),
            "error": "origin",
        },
        {
            "description": "a signed checkpoint of the same log is not a receipt",
            "note": log["checkpoints"][-1]["note"],
            "error": "format",
        },
    ]
    value = {
        "description": "A write receipt (specs/receipt.md) for the last entry of "
        "log/log-7.json, signed with the test key; and receipts that MUST NOT be "
        "accepted, each validly signed by the test key unless said otherwise.",
        "verifier_key": key["verifier_key"],
        "origin": signer.name,
        "seq": seq,
        "entry_b64": log["entries_b64"][seq],
        "entry_hash": receipt.entry_hash,
        "covered_by": receipt.covered_by,
        "body": body,
        "note": note,
        "checkpoint": log["checkpoints"][-1]["note"],
        "invalid": invalid,
    }
    target = out / "receipts" / "receipt.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False) + "\n")


def main() -> None:
    """Regenerate the receipt vectors (into the folder given as argument, by default here)."""
    receipts(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE)


if __name__ == "__main__":
    main()
