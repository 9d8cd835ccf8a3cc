"""``tally-verify member check`` on logs a real ledger would refuse to write.

A log made from the specs alone (:class:`FakeLog`) holds what the operator's tools
never append: a member action in a member's name whose signature does not verify,
a join naming another key, a receipt the log did not honour. A server that served
such a log would be lying about the member; the check names each entry's seq.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from tests.verifier.cli_support import FakeLog, HostileServer, Reply, run_json
from tests.verifier.helpers import sign_note
from verifier.member_key import (
    MemberKey,
    create_juror_key,
    create_member_key,
    load_member_key,
    save_member_key,
    sign_vote,
)
from verifier.plan.requests import sign_juror_key, sign_member_key, sign_request

LATER = "2999-01-01T00:00:00Z"
PAST = "2025-06-01T00:00:00Z"


class MemberLog(FakeLog):
    """A fake log with a keyed join of one member, and room for more entries."""

    def add(self, type_: str, body: dict[str, Any], actor: str = "operator") -> int:
        seq = self.size
        prev = hashlib.sha256(self.entries[-1]).hexdigest()
        self.entries.append(self.make(seq, prev, type_, body, actor=actor))
        return seq

    def signed(self, key: MemberKey, type_: str, body: dict[str, Any], seed: bytes) -> int:
        """Append ``body`` signed with ``seed`` (the member's, or not) under the member's actor."""
        return self.add(type_, sign_request(seed, self.origin, type_, body), f"member:{key.member}")

    def served(self, members: dict[str, dict[str, Any]]) -> HostileServer:
        def route(path: str, params: dict[str, int]) -> Reply:
            if path.startswith("/v1/members/"):
                found = members.get(path.rsplit("/", 1)[1])
                if found is None:
                    return Reply.json({"title": "Not found", "status": 404}, 404)
                return Reply.json(found)
            return self.route(path, params)

        return HostileServer(route)


def _joined(tmp_path: Path) -> tuple[MemberLog, MemberKey]:
    log = MemberLog().grow(1)  # genesis and the rules
    key = create_member_key(tmp_path / "me.key")
    body = {
        "member": key.member,
        "member_key": key.member_key,
        "request": 0,
        "age_band": "0-39",
        "identity_commitment": "cd" * 32,
    }
    log.signed(key, "member.joined", body, key.seed)
    return log, key


def _view(key: MemberKey, joined: int = 2, **seqs: int | None) -> dict[str, dict[str, Any]]:
    doc = {
        "member": key.member,
        "age_band": "0-39",
        "joined": "2026-01-01T00:00:02Z",
        "joined_seq": joined,
        "left_seq": None,
        "juror_seq": None,
        **seqs,
    }
    return {key.member: doc}


def _check(tmp_path: Path, log: MemberLog, key: MemberKey, view: Any, *extra: str) -> Any:
    with log.served(view) as server:
        return run_json(
            tmp_path / "state",
            "member",
            "check",
            "--key",
            str(key.path),
            "--server",
            server.url,
            "--log-key",
            log.key,
            *extra,
        )


def test_signed_actions_that_verify_pass(tmp_path: Path) -> None:
    log, key = _joined(tmp_path)
    juror = create_juror_key(tmp_path / "me.juror", key.member)
    juror_key, juror_signature = sign_juror_key(juror.seed, log.origin, key.member)
    enrolled = log.signed(
        key,
        "juror.enrolled",
        {
            "member": key.member,
            "juror_key": juror_key,
            "juror_signature": juror_signature,
            "request": 1,
        },
        key.seed,
    )
    code, doc = _check(
        tmp_path,
        log,
        key,
        _view(key, juror_seq=enrolled),
        "--juror-key",
        str(tmp_path / "me.juror"),
    )
    assert (code, doc["signed_actions"], doc["findings"]) == (0, [enrolled], []), doc
    assert doc["juror_key"] == juror_key

    other = create_juror_key(tmp_path / "other.juror", key.member)
    code, doc = _check(
        tmp_path,
        log,
        key,
        _view(key, juror_seq=enrolled),
        "--juror-key",
        str(tmp_path / "other.juror"),
    )
    assert code == 1
    assert [f["seq"] for f in doc["findings"]] == [enrolled]
    assert other.juror_key in doc["findings"][0]["message"]


def test_a_bad_signature_or_an_assisted_action_in_the_members_name_is_named(
    tmp_path: Path,
) -> None:
    log, key = _joined(tmp_path)
    claim = {"claim": "c-1", "objector": key.member, "reason_hash": "ef" * 32, "request": 1}
    forged = log.signed(key, "claim.objected", claim, b"\x09" * 32)
    assisted = log.add(
        "claim.objected", {"claim": "c-1", "objector": key.member, "reason_hash": "ef" * 32}
    )
    # Someone else's action is none of this member's business.
    log.add("member.left", {"member": "m-" + "0" * 20})
    code, doc = _check(tmp_path, log, key, _view(key))
    assert code == 1, doc
    assert [f["seq"] for f in doc["findings"]] == [forged, assisted], doc
    assert "bad signature" in doc["findings"][0]["message"]
    assert "did not sign" in doc["findings"][1]["message"]


def test_a_join_with_another_key_is_not_the_members(tmp_path: Path) -> None:
    log = MemberLog().grow(1)
    key = create_member_key(tmp_path / "me.key")
    imposter = create_member_key(tmp_path / "imposter.key")
    body = {
        "member": key.member,
        "member_key": imposter.member_key,
        "request": 0,
        "age_band": "0-39",
        "identity_commitment": "cd" * 32,
    }
    log.signed(key, "member.joined", body, imposter.seed)
    code, doc = _check(tmp_path, log, key, _view(key))
    assert code == 1, doc
    assert [f["seq"] for f in doc["findings"]] == [2], doc
    assert "not the key in" in doc["findings"][0]["message"]


def _receipt(log: MemberLog, key: MemberKey, seq: int, entry_hash: str, covered_by: str) -> None:
    body = f"tally/receipt/v1\n{log.origin}\n{seq}\n{entry_hash}\n{covered_by}\n"
    folder = key.receipts_dir
    folder.mkdir(exist_ok=True)
    note = sign_note(body, (log.origin, log.seed))
    (folder / f"{seq}.json").write_text(json.dumps({"seq": seq, "receipt": note}))


def test_every_kept_receipt_must_be_honoured(tmp_path: Path) -> None:
    log, key = _joined(tmp_path)
    left = log.signed(key, "member.left", {"member": key.member, "request": 1}, key.seed)
    true_hash = hashlib.sha256(log.entries[left]).hexdigest()
    _receipt(log, key, left, true_hash, PAST)
    _receipt(log, key, 50, "ab" * 32, LATER)  # not yet due
    code, doc = _check(tmp_path, log, key, _view(key, left_seq=left))
    assert (code, doc["receipts_honoured"], doc["receipts_pending"]) == (0, [left], [50]), doc

    _receipt(log, key, left, "ab" * 32, PAST)  # the log holds another entry there
    _receipt(log, key, 60, "ab" * 32, PAST)  # due, and not on the log
    code, doc = _check(tmp_path, log, key, _view(key, left_seq=left))
    assert code == 1, doc
    assert [f["seq"] for f in doc["findings"]] == [left, 60], doc
    assert all("tally-verify receipt" in f["message"] for f in doc["findings"])


def test_the_servers_member_view_must_match_the_log(tmp_path: Path) -> None:
    log, key = _joined(tmp_path)
    code, doc = _check(tmp_path, log, key, _view(key, left_seq=7))
    assert code == 1, doc
    assert "left_seq 7" in doc["findings"][0]["message"]


def test_a_request_the_server_does_not_take_uses_no_number(tmp_path: Path) -> None:
    """A server that answers a request with neither 201 nor a refusal: exit 4, nothing kept."""
    log, key = _joined(tmp_path)
    with log.served(_view(key)) as server:  # it answers no POST (501)
        code, doc = run_json(
            tmp_path / "state",
            "member",
            "leave",
            "--key",
            str(key.path),
            "--server",
            server.url,
            "--log-key",
            log.key,
        )
    assert (code, doc["error"]) == (4, "server_error"), doc
    assert json.loads(key.path.read_text())["last_request"] == 0
    assert not key.receipts_dir.exists()


# -- the key in force (plan.md §4.6) ---------------------------------------------------


def _time(seq: int) -> str:
    """The time of the fake log's entry at ``seq`` (one a second), there or to come."""
    return str(json.loads(FakeLog.make(seq, "0" * 64, "log.genesis", {}))["time"])


def _rotate(log: MemberLog, key: MemberKey, old_seed: bytes, new_seed: bytes, number: int) -> int:
    """A rotation of ``key``'s member from ``old_seed`` to ``new_seed``, signed by the old."""
    new_key, proof = sign_member_key(new_seed, log.origin, key.member)
    body: dict[str, Any] = {
        "member": key.member,
        "member_key": new_key,
        "key_signature": proof,
        "request": number,
    }
    signed = sign_request(old_seed, log.origin, "member.key_rotated", body)
    return log.add("member.key_rotated", signed, f"member:{key.member}")


def _recover(log: MemberLog, key: MemberKey, new_seed: bytes, effective: str) -> int:
    """The operator's recovery of ``key``'s member to ``new_seed``, in force at ``effective``."""
    new_key, proof = sign_member_key(new_seed, log.origin, key.member)
    body = {
        "member": key.member,
        "member_key": new_key,
        "key_signature": proof,
        "effective": effective,
        "rules_version": 1,
    }
    return log.add("member.key_recovery", body)


def _object(log: MemberLog, key: MemberKey, seed: bytes, number: int) -> int:
    body = {"claim": "c-1", "objector": key.member, "reason_hash": "ef" * 32, "request": number}
    return log.signed(key, "claim.objected", body, seed)


def test_a_rotation_puts_the_new_key_in_force_from_its_entry_on(tmp_path: Path) -> None:
    log, key = _joined(tmp_path)
    new_seed = b"\x21" * 32
    rotation = _rotate(log, key, key.seed, new_seed, 1)
    good = _object(log, key, new_seed, 2)
    old = _object(log, key, key.seed, 3)  # the old key signs nothing any more
    save_member_key(key.rotated(new_seed, rotation))
    code, doc = _check(tmp_path, log, key, _view(key))
    assert code == 1, doc
    assert [f["seq"] for f in doc["findings"]] == [old], doc
    assert "bad signature" in doc["findings"][0]["message"]
    assert (doc["signed_actions"], doc["rotations"]) == ([rotation, good], [rotation])
    assert doc["key_in_force"] == load_member_key(key.path).member_key

    # The key file that was not told of the rotation: the log holds a key it never held.
    save_member_key(key)
    code, doc = _check(tmp_path, log, key, _view(key))
    assert code == 1, doc
    assert [f["seq"] for f in doc["findings"]] == [old, None], doc
    assert "never held" in doc["findings"][1]["message"]


def test_a_rotation_the_old_key_did_not_sign_is_named(tmp_path: Path) -> None:
    log, key = _joined(tmp_path)
    forged = _rotate(log, key, b"\x09" * 32, b"\x21" * 32, 1)
    code, doc = _check(tmp_path, log, key, _view(key))
    assert code == 1, doc
    assert forged in [f["seq"] for f in doc["findings"]], doc
    assert "bad signature" in doc["findings"][0]["message"]


def test_a_rotation_whose_answer_was_lost_is_adopted(tmp_path: Path) -> None:
    log, key = _joined(tmp_path)
    new_seed = b"\x22" * 32
    save_member_key(key.with_pending(new_seed))
    rotation = _rotate(log, key, key.seed, new_seed, 1)
    code, doc = _check(tmp_path, log, key, _view(key))
    assert (code, doc["adopt_pending"], doc["findings"]) == (0, True, []), doc
    adopted = load_member_key(key.path)
    assert (adopted.seed, adopted.pending_seed, adopted.last_request) == (new_seed, None, 1)
    assert [(old.member_key, old.replaced_at) for old in adopted.history] == [
        (key.member_key, rotation)
    ]
    code, doc = _check(tmp_path, log, key, _view(key))
    assert (code, doc["adopt_pending"], doc["findings"]) == (0, False, []), doc


def test_an_unrefused_recovery_takes_force_at_its_effective_time(tmp_path: Path) -> None:
    log, key = _joined(tmp_path)
    before = _object(log, key, key.seed, 1)
    recovery = _recover(log, key, b"\x23" * 32, _time(before + 3))
    still = _object(log, key, key.seed, 2)  # before the effective time: the old key
    log.add("member.left", {"member": "m-" + "0" * 20})
    after = _object(log, key, key.seed, 3)  # after it: the old key is no longer in force
    code, doc = _check(tmp_path, log, key, _view(key))
    assert code == 1, doc
    assert [f["seq"] for f in doc["findings"]] == [after, recovery], doc
    assert "without you" in doc["findings"][1]["message"]
    assert doc["signed_actions"] == [before, still]
    assert [(r["seq"], r["status"]) for r in doc["recoveries"]] == [(recovery, "in force")]


def test_a_refused_or_voided_recovery_never_takes_force(tmp_path: Path) -> None:
    log, key = _joined(tmp_path)
    recovery = _recover(log, key, b"\x24" * 32, _time(6))
    body: dict[str, Any] = {"member": key.member, "recovery": recovery, "request": 1}
    refused = log.add(
        "member.key_recovery_refused",
        sign_request(key.seed, log.origin, "member.key_recovery_refused", body),
        f"member:{key.member}",
    )
    again = _recover(log, key, b"\x25" * 32, _time(9))
    new_seed = b"\x26" * 32
    rotation = _rotate(log, key, key.seed, new_seed, 2)
    while log.size < 10:
        log.add("member.left", {"member": "m-" + "0" * 20})
    after = _object(log, key, new_seed, 3)
    save_member_key(key.rotated(new_seed, rotation))
    code, doc = _check(tmp_path, log, key, _view(key))
    assert (code, doc["findings"]) == (0, []), doc
    assert doc["signed_actions"] == [refused, rotation, after]
    assert [(r["seq"], r["status"], r["by"]) for r in doc["recoveries"]] == [
        (recovery, "refused", refused),
        (again, "void", rotation),
    ]


def test_a_pending_recovery_is_shown_with_how_to_refuse_it(tmp_path: Path) -> None:
    log, key = _joined(tmp_path)
    recovery = _recover(log, key, b"\x27" * 32, LATER)
    code, doc = _check(tmp_path, log, key, _view(key))
    assert (code, doc["findings"]) == (0, []), doc
    assert [(r["seq"], r["status"]) for r in doc["recoveries"]] == [(recovery, "pending")]
    assert any(f"refuse-recovery --key {key.path} --recovery {recovery}" in n for n in doc["notes"])


def test_a_member_who_recovered_a_lost_key_checks_with_the_new_one(tmp_path: Path) -> None:
    log, lost = _joined(tmp_path)
    new_seed = b"\x28" * 32
    recovery = _recover(log, lost, new_seed, _time(5))
    while log.size < 6:
        log.add("member.left", {"member": "m-" + "0" * 20})
    after = _object(log, lost, new_seed, 1)
    key = MemberKey(tmp_path / "new.key", lost.member, new_seed, 0, None)
    save_member_key(key)
    code, doc = _check(tmp_path, log, key, _view(key))
    assert (code, doc["findings"]) == (0, []), doc
    assert doc["signed_actions"] == [after]
    assert any(f"the recovery at seq {recovery} gave you" in n for n in doc["notes"]), doc


def test_a_vote_in_the_members_name_is_checked_with_the_enrolled_juror_key(
    tmp_path: Path,
) -> None:
    log, key = _joined(tmp_path)
    juror = create_juror_key(tmp_path / "me.juror", key.member)
    juror_key, juror_signature = sign_juror_key(juror.seed, log.origin, key.member)
    body = {
        "member": key.member,
        "juror_key": juror_key,
        "juror_signature": juror_signature,
        "request": 1,
    }
    enrolled = log.signed(key, "juror.enrolled", body, key.seed)
    hashed = hashlib.sha256(b"why").hexdigest()
    votes = []
    for seed in (juror.seed, b"\x29" * 32):
        vote = {
            "claim": "c-1",
            "juror": key.member,
            "choice": "approve",
            "rationale_hash": hashed,
            "signature": sign_vote(seed, log.origin, "c-1", "approve", hashed),
        }
        votes.append(log.add("vote.cast", vote, f"juror:{key.member}"))
    code, doc = _check(tmp_path, log, key, _view(key, juror_seq=enrolled))
    assert code == 1, doc
    assert (doc["votes"], [f["seq"] for f in doc["findings"]]) == ([votes[0]], [votes[1]]), doc
