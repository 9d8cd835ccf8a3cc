"""``tally-verify receipt``: write receipts (specs/receipt.md), offline and live.

The live tests run the admin API over a real ledger (named in
``test_independence.py`` as a live-server test) to get real receipts, and serve
the same ledger's public API on a real port; what is expected comes from the
receipt itself and fixed facts (exit codes), never from the ledger's code.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from ledger.domain.rules import reference_rules
from tests.api.admin_support import START, Admin, running_admin
from tests.verifier.cli_support import run, run_json
from tests.verifier.helpers import parse_go_private_key, sign_note
from tests.verifier.live_log import grow, key_of, serving
from verifier.note import parse_verifier_key
from verifier.receipt import ReceiptError, receipt_text, verify_receipt
from verifier.receipt_check import INCLUDED, MISBEHAVIOUR, NOT_YET_COVERED, check_receipt
from verifier.session import open_session
from verifier.state import StateDir

VECTOR = Path(__file__).resolve().parents[2] / "specs/vectors/receipts/receipt.json"


def test_the_vector_receipt_verifies_and_every_refusal_is_refused() -> None:
    doc = json.loads(VECTOR.read_text())
    key = parse_verifier_key(doc["verifier_key"])
    receipt = verify_receipt(doc["note"], key)
    assert (receipt.origin, receipt.seq, receipt.entry_hash, receipt.covered_by) == (
        doc["origin"],
        doc["seq"],
        doc["entry_hash"],
        doc["covered_by"],
    )
    assert hashlib.sha256(base64.b64decode(doc["entry_b64"])).hexdigest() == receipt.entry_hash
    assert doc["invalid"]
    for case in doc["invalid"]:
        with pytest.raises(ReceiptError) as caught:
            verify_receipt(case["note"], key)
        assert caught.value.kind == case["error"], case["description"]


def test_a_receipt_file_may_be_the_note_or_an_admin_answer() -> None:
    note = json.loads(VECTOR.read_text())["note"]
    assert receipt_text(note.encode()) == note
    assert receipt_text(json.dumps({"seq": 6, "receipt": note}).encode()) == note
    with pytest.raises(ReceiptError):
        receipt_text(b'{"seq": 6}')


@contextmanager
def _live(tmp_path: Path) -> Iterator[tuple[Admin, str, Path, dict[str, Any]]]:
    """An admin app with one write; its public API served; a state pinned to its key."""
    with running_admin(f"sqlite:///{tmp_path}/admin.db", tmp_path) as admin:
        answer = admin.ok(
            "/rules",
            {"rules": reference_rules(START, member_signatures=None).to_body(), "at": START},
        )
        admin.ledger.publisher.publish()
        with serving(admin.ledger) as server:
            state = tmp_path / "state"
            init = run(state, "init", server.url, "--key", key_of(tmp_path / "admin.key"))
            assert init.exit_code == 0, init.output
            yield admin, server.url, state, answer


def _resign(tmp_path: Path, note: str, **changes: str) -> str:
    """The receipt ``note`` with lines changed, signed again with the log's real key."""
    name, seed = parse_go_private_key((tmp_path / "admin.key").read_text().strip())
    lines = note[: note.rindex("\n\n") + 1].split("\n")
    fields = {"seq": 2, "entry_hash": 3, "covered_by": 4}
    for field, value in changes.items():
        lines[fields[field]] = value
    return sign_note("\n".join(lines), (name, seed))


def test_a_real_receipt_verifies_and_its_entry_is_found(tmp_path: Path) -> None:
    with _live(tmp_path) as (_, _, state, answer):
        file = tmp_path / "answer.json"
        file.write_text(json.dumps(answer))
        code, doc = run_json(state, "receipt", str(file))
        assert (code, doc["status"], doc["seq"]) == (0, "included", answer["seq"]), doc
        assert doc["entry_hash"] == answer["entry_hash"]
        note = tmp_path / "receipt.txt"
        note.write_text(answer["receipt"])
        result = run(state, "receipt", str(note))
        assert result.exit_code == 0, result.output
        assert "Receipt verified" in result.stdout


def test_an_altered_entry_hash_signed_by_the_key_is_misbehaviour(tmp_path: Path) -> None:
    with _live(tmp_path) as (_, _, state, answer):
        file = tmp_path / "forged.txt"
        file.write_text(_resign(tmp_path, answer["receipt"], entry_hash="ab" * 32))
        evidence = tmp_path / "evidence.json"
        code, doc = run_json(state, "receipt", str(file), "--evidence", str(evidence))
        assert (code, doc["status"], doc["kind"]) == (3, "misbehaviour", "receipt_equivocation")
        saved = json.loads(evidence.read_text())
        assert saved["receipt"] == file.read_text()
        served = base64.b64decode(saved["entry_b64"])
        assert hashlib.sha256(served).hexdigest() == answer["entry_hash"]

        # Anyone can re-check the file offline, with no state: conclusive.
        code, doc = run_json(tmp_path / "anyone", "evidence", str(evidence))
        assert (code, doc["holds"], doc["kind"], doc["conclusive"]) == (
            3,
            True,
            "receipt_equivocation",
            True,
        ), doc
        result = run(tmp_path / "anyone", "evidence", str(evidence))
        assert "It is conclusive" in result.stdout

        # Altered files prove nothing.
        for change, says in (
            ({"entry_b64": base64.b64encode(served + b" ").decode()}, "not proved"),
            ({"inclusion_proof": ["AAAA"]}, "not base64 of 32 bytes"),
            ({"receipt": answer["receipt"]}, "kept its promise"),
            ({"checkpoint": saved["checkpoint"].replace("\n\n", "\n\nx", 1)}, "does not verify"),
        ):
            altered = tmp_path / "altered.json"
            altered.write_text(json.dumps({**saved, **change}))
            code, doc = run_json(tmp_path / "anyone", "evidence", str(altered))
            assert (code, doc["holds"]) == (1, False), (change, doc)
            assert says in doc["message"], (change, doc["message"])


def test_a_seq_beyond_the_log_after_covered_by_is_censorship(tmp_path: Path) -> None:
    with _live(tmp_path) as (_, _, state, answer):
        file = tmp_path / "late.txt"
        file.write_text(
            _resign(tmp_path, answer["receipt"], seq="1000", covered_by="2025-06-01T00:00:00Z")
        )
        folder = tmp_path / "evidence"
        folder.mkdir()
        code, doc = run_json(state, "receipt", str(file), "--evidence", str(folder))
        assert (code, doc["status"], doc["kind"]) == (3, "misbehaviour", "receipt_censorship")
        assert "CENSORSHIP" in doc["message"]
        (written,) = folder.iterdir()
        saved = json.loads(written.read_text())
        assert saved["receipt"] == file.read_text()
        assert saved["checked_at"] == doc["checked_at"]
        assert saved["checkpoint"].split("\n")[1] == str(doc["checkpoint_size"])
        result = run(state, "receipt", str(file), "--evidence", str(folder))
        assert result.exit_code == 3
        assert "CENSORSHIP" in result.stdout

        # Re-checked offline it holds, but rests on when the checkpoint was fetched.
        code, doc = run_json(state, "evidence", str(written))
        assert (code, doc["holds"], doc["kind"], doc["conclusive"]) == (
            3,
            True,
            "receipt_censorship",
            False,
        ), doc
        assert doc["key_matches_pinned"] is True
        assert saved["checked_at"] in doc["message"]
        assert "checkpoints carry no time" in run(state, "evidence", str(written)).stdout


def test_a_seq_beyond_the_log_before_covered_by_is_not_yet_covered(tmp_path: Path) -> None:
    with _live(tmp_path) as (_, _, state, answer):
        file = tmp_path / "early.txt"
        file.write_text(
            _resign(tmp_path, answer["receipt"], seq="1000", covered_by="2999-01-01T00:00:00Z")
        )
        code, doc = run_json(state, "receipt", str(file))
        assert (code, doc["status"]) == (0, "not_yet_covered"), doc


def test_a_receipt_signed_by_another_key_is_refused(tmp_path: Path) -> None:
    with _live(tmp_path) as (_, _, state, answer):
        name, _ = parse_go_private_key((tmp_path / "admin.key").read_text().strip())
        body = answer["receipt"][: answer["receipt"].rindex("\n\n") + 1]
        file = tmp_path / "other.txt"
        file.write_text(sign_note(body, (name, b"\x07" * 32)))
        code, doc = run_json(state, "receipt", str(file))
        assert code == 1, doc
        assert "signature" in doc["message"]


def test_the_library_check_gives_the_whole_verdict(tmp_path: Path) -> None:
    """verifier.receipt_check, called directly: the checkpoint refreshed, then the promise."""
    with _live(tmp_path) as (admin, _, state, answer):
        key = parse_verifier_key(key_of(tmp_path / "admin.key"))
        kept = verify_receipt(answer["receipt"], key)
        late = verify_receipt(
            _resign(tmp_path, answer["receipt"], seq="1000", covered_by="2030-01-01T00:00:00Z"),
            key,
        )
        grow(admin.ledger, 2)  # the log grew since the state was saved
        with open_session(StateDir(state), 5) as session:
            verdict = check_receipt(session, kept)
            assert (verdict.status, verdict.kind, verdict.evidence) == (INCLUDED, None, None)
            assert verdict.growth.new.size > verdict.growth.old.size
            before = datetime(2029, 12, 31, tzinfo=UTC)
            assert check_receipt(session, late, before).status == NOT_YET_COVERED
            after = datetime(2030, 1, 2, tzinfo=UTC)
            censored = check_receipt(session, late, after)
        assert (censored.status, censored.kind) == (MISBEHAVIOUR, "receipt_censorship")
        assert censored.evidence is not None
        assert censored.evidence["receipt"] == late.note
        saved = StateDir(state).load()
        assert saved is not None
        assert saved.verified_checkpoint.size == verdict.growth.new.size
