"""Members' signed requests through `tally`: a keyed join, a request appended, refusals."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from ledger.cli import EXIT_REFUSED, EXIT_USAGE
from ledger.domain.requests import member_key_message, public_key, sign, sign_request
from ledger.domain.rules import reference_rules
from ledger.instance import open_ledger
from tests.ledger.test_plan_cli import T0, ok, tally

ORIGIN = "requests.example/plan"
SEED = hashlib.sha256(b"cli member key").digest()
MEMBER = "m-" + "c11" + "0" * 17


def write(path: Path, value: object) -> Path:
    path.write_text(json.dumps(value))
    return path


def test_a_keyed_join_and_a_signed_leaving(db_url: str, tmp_path: Path) -> None:
    key = tmp_path / "op.key"
    ok(tally(db_url, key, "init", "--origin", ORIGIN, "--at", T0))
    rules = {**reference_rules(T0).to_body(), "member_signatures": "required"}
    ok(tally(db_url, key, "rules", "announce", str(write(tmp_path / "r.json", rules)), "--at", T0))
    identity = write(tmp_path / "id.json", {"name": "Sun"})
    join = {
        "type": "member.joined",
        "body": sign_request(
            SEED,
            ORIGIN,
            "member.joined",
            {"member": MEMBER, "member_key": public_key(SEED), "request": 0},
        ),
    }
    at = ("--at", "2025-01-02T00:00:00Z")
    unkeyed = tally(
        db_url, key, "member", "join", "--age-band", "0-39", "--identity", str(identity), *at
    )
    assert unkeyed.exit_code == EXIT_REFUSED, unkeyed.output
    assert "request.required" in unkeyed.output
    out = ok(
        tally(
            db_url,
            key,
            "member",
            "join",
            "--age-band",
            "0-39",
            "--identity",
            str(identity),
            "--request",
            str(write(tmp_path / "join.json", join)),
            *at,
        )
    )
    assert f"Joined {MEMBER}" in out

    assisted = tally(db_url, key, "member", "leave", MEMBER, "--at", "2025-01-03T00:00:00Z")
    assert assisted.exit_code == EXIT_REFUSED
    assert "request.required" in assisted.output

    leave = {
        "type": "member.left",
        "body": sign_request(SEED, ORIGIN, "member.left", {"member": MEMBER, "request": 1}),
    }
    request = write(tmp_path / "leave.json", leave)
    as_join = tally(
        db_url, key, "member", "join", "--age-band", "0-39", "--identity", str(identity),
        "--request", str(request), *at,
    )  # fmt: skip
    assert as_join.exit_code == EXIT_USAGE
    out = ok(tally(db_url, key, "request", "append", str(request), "--at", "2025-01-03T00:00:00Z"))
    assert f"Appended {MEMBER}'s signed member.left at seq 3" in out
    again = tally(db_url, key, "request", "append", str(request), "--at", "2025-01-03T00:00:00Z")
    assert again.exit_code == EXIT_REFUSED
    assert "request.replay" in again.output

    ledger = open_ledger(db_url, key)
    try:
        entry = json.loads(ledger.log.entries(3, 4)[0][1])
    finally:
        ledger.close()
    assert entry["actor"] == f"member:{MEMBER}"
    assert entry["body"] == leave["body"]
    ok(tally(db_url, key, "check"))


def test_a_bad_request_file_is_a_usage_error(db_url: str, tmp_path: Path) -> None:
    key = tmp_path / "op.key"
    ok(tally(db_url, key, "init", "--origin", ORIGIN, "--at", T0))
    not_json = tmp_path / "bad.json"
    not_json.write_text("{nope")
    for path, words in (
        (not_json, "is not JSON"),
        (write(tmp_path / "a.json", [1]), "expected a request document"),
        (
            write(tmp_path / "b.json", {"type": "member.left", "body": {"member": MEMBER}}),
            "signature",
        ),
        (write(tmp_path / "c.json", {"type": "claim.paid", "body": {}}), "expected type"),
    ):
        result = tally(db_url, key, "request", "append", str(path))
        assert result.exit_code == EXIT_USAGE, result.output
        assert words in result.output, result.output


def test_a_recovered_key_takes_force_after_notice_unless_refused(
    db_url: str, tmp_path: Path
) -> None:
    key = tmp_path / "op.key"
    ok(tally(db_url, key, "init", "--origin", ORIGIN, "--at", T0))
    rules = {**reference_rules(T0).to_body(), "member_signatures": "required", "notice_days": 2}
    ok(tally(db_url, key, "rules", "announce", str(write(tmp_path / "r.json", rules)), "--at", T0))
    join = {
        "type": "member.joined",
        "body": sign_request(
            SEED,
            ORIGIN,
            "member.joined",
            {"member": MEMBER, "member_key": public_key(SEED), "request": 0},
        ),
    }
    identity = write(tmp_path / "id.json", {"name": "Sun"})
    ok(
        tally(
            db_url, key, "member", "join", "--age-band", "0-39", "--identity", str(identity),
            "--request", str(write(tmp_path / "join.json", join)), "--at", "2025-01-02T00:00:00Z",
        )
    )  # fmt: skip
    lost = hashlib.sha256(b"the new key").digest()
    new_key = public_key(lost)
    proof = sign(lost, member_key_message(ORIGIN, MEMBER, new_key))
    recover = ("member", "recover-key", MEMBER, "--new-key", new_key, "--key-signature")
    bad = tally(db_url, key, *recover, proof, "--effective", "2025-01-02T12:00:00Z",
                "--at", "2025-01-02T00:00:00Z")  # fmt: skip
    assert bad.exit_code == EXIT_REFUSED
    assert "member.key_recovery.notice" in bad.output
    out = ok(tally(db_url, key, *recover, proof, "--at", "2025-01-02T00:00:00Z"))
    assert "takes force at 2025-01-04T00:00:00Z" in out

    def leave(seed: bytes, number: int) -> Path:
        body = {"member": MEMBER, "request": number}
        doc = {"type": "member.left", "body": sign_request(seed, ORIGIN, "member.left", body)}
        return write(tmp_path / f"leave-{number}.json", doc)

    early = tally(
        db_url, key, "request", "append", str(leave(lost, 1)), "--at", "2025-01-03T00:00:00Z"
    )
    assert early.exit_code == EXIT_REFUSED
    assert "request.signature" in early.output
    refusal = {"member": MEMBER, "recovery": 3, "request": 2}
    doc = {
        "type": "member.key_recovery_refused",
        "body": sign_request(SEED, ORIGIN, "member.key_recovery_refused", refusal),
    }
    ok(tally(db_url, key, "request", "append", str(write(tmp_path / "no.json", doc)),
             "--at", "2025-01-03T00:00:00Z"))  # fmt: skip
    # Refused: after the notice the old key is still the one in force.
    late = tally(
        db_url, key, "request", "append", str(leave(lost, 3)), "--at", "2025-01-05T00:00:00Z"
    )
    assert late.exit_code == EXIT_REFUSED
    assert "request.signature" in late.output
    ok(tally(db_url, key, "request", "append", str(leave(SEED, 3)), "--at", "2025-01-05T00:00:00Z"))
    ok(tally(db_url, key, "check"))
