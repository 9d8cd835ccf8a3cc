"""``tally-verify member``: reveals, votes, key rotation and recovery, against ``tally serve``.

Like :mod:`tests.verifier.test_cli_member`, a plan is built with the ``tally``
command and served with ``tally serve`` in its own process; the operator's key
recovery is ``tally member recover-key`` (:func:`recover`).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from tests.verifier.cli_support import run, run_json
from tests.verifier.test_cli_member import (
    CLOCK,
    ORIGIN,
    T0,
    Plan,
    claim_disclosed,
    join,
    new_plan,
    serving,
)
from verifier.b64 import encode
from verifier.member_key import load_member_key
from verifier.plan.requests import member_key_message, public_key


def recover(plan: Plan, member: str, at: str, effective: str = "") -> int:
    """The operator gives ``member`` a new key (plan.md §4.6, ``tally member
    recover-key``); the entry's seq."""
    seed = os.urandom(32)
    new = encode(public_key(seed))
    proof = encode(
        Ed25519PrivateKey.from_private_bytes(seed).sign(member_key_message(ORIGIN, member, new))
    )
    when = ("--effective", effective) if effective else ()
    out = plan.tally(
        "member", "recover-key", member, "--new-key", new, "--key-signature", proof, *when,
        "--at", at,
    )  # fmt: skip
    return int(out.split(" at seq ", 1)[1].split(":", 1)[0])


def entry_types(url: str) -> list[str]:
    """The types of the entries the server holds, in order."""
    size = httpx.get(url + "/v1/log", timeout=10).json()["tree_size"]
    page = httpx.get(url + "/v1/entries", params={"start": 0, "end": size}, timeout=10).json()
    return [item["entry"]["type"] for item in page["entries"]]


def member_cmd(state: Path, url: str, log_key: str, *args: str) -> tuple[int, Any]:
    """``tally-verify --json member ARGS --server URL --log-key KEY``."""
    return run_json(state, "member", *args, "--server", url, "--log-key", log_key)


def test_the_appellant_reveals_only_once_the_pool_is_signed_and_a_juror_votes(
    tmp_path: Path,
) -> None:
    plan, log_key = new_plan(tmp_path, "required", panel_size=2, quorum=1)
    state = tmp_path / "state"
    at = "2025-01-02T00:00:00Z"
    alice, bob, carol, dave = (join(plan, state, name, at) for name in ("a", "b", "c", "d"))
    claim_disclosed(plan, alice, "c-6")
    jurors = {carol: tmp_path / "c.juror", dave: tmp_path / "d.juror"}

    with serving(plan) as url:
        for who, juror_file in jurors.items():
            code, doc = member_cmd(
                state, url, log_key, "enrol-juror", "--key", str(who), "--juror-key-out",
                str(juror_file),
            )  # fmt: skip
            assert code == 0, doc
        reason = ("--reason", "not an accident")
        code, doc = member_cmd(
            state, url, log_key, "object", "--key", str(bob), "--claim", "c-6", *reason
        )
        assert code == 0, doc
        code, doc = member_cmd(state, url, log_key, "appeal", "--key", str(bob), "--claim", "c-6")
        assert code == 0, doc

        # No pool on the log yet: nothing is sent, and the log holds no draw.
        code, doc = member_cmd(state, url, log_key, "reveal", "--key", str(bob), "--claim", "c-6")
        assert (code, doc["error"]) == (4, "not_yet"), doc
        assert "Nothing was sent" in doc["message"]
        assert "panel.drawn" not in entry_types(url)
        # Only the appellant's tool holds the secret.
        code, doc = member_cmd(state, url, log_key, "reveal", "--key", str(carol), "--claim", "c-6")
        assert code == 2, doc

    plan.tally("claim", "pool", "c-6")
    with serving(plan) as url:
        code, doc = member_cmd(state, url, log_key, "reveal", "--key", str(bob), "--claim", "c-6")
        assert code == 0, doc
        drawn_seq = doc["seq"]
        members = {load_member_key(who).member: who for who in jurors}
        assert sorted(doc["jurors"]) == sorted(members), doc
        assert entry_types(url)[drawn_seq] == "panel.drawn"
        kept = json.loads(Path(doc["receipt_file"]).read_text())
        assert kept["seq"] == drawn_seq
        assert run(state, "init", url, "--key", log_key).exit_code == 0
        code, checked = run_json(state, "receipt", doc["receipt_file"])
        assert (code, checked["status"]) == (0, "included"), checked

        # Revealed once: asked again, it sends nothing and shows the draw.
        code, again = member_cmd(state, url, log_key, "reveal", "--key", str(bob), "--claim", "c-6")
        assert (code, again["drawn_seq"], again["jurors"]) == (0, drawn_seq, doc["jurors"]), again

        code, doc = member_cmd(
            state, url, log_key, "vote", "--key", str(carol), "--juror-key", str(jurors[carol]),
            "--claim", "c-6", "--choice", "deny", "--rationale", "the report shows no accident",
        )  # fmt: skip
        assert (code, doc["type"], doc["request"]) == (0, "vote.cast", None), doc
        vote_seq = doc["seq"]
        kept = json.loads(Path(doc["receipt_file"]).read_text())
        assert kept["rationale"] == "the report shows no accident"
        assert kept["body"]["juror"] == load_member_key(carol).member

        # A juror votes once: the log refuses a second vote, naming the rule.
        code, doc = member_cmd(
            state, url, log_key, "vote", "--key", str(carol), "--juror-key", str(jurors[carol]),
            "--claim", "c-6", "--choice", "approve", "--rationale", "changed my mind",
        )  # fmt: skip
        assert (code, doc["error"], doc["status"]) == (1, "refused", 409), doc

        code, doc = member_cmd(
            state, url, log_key, "check", "--key", str(carol), "--juror-key", str(jurors[carol])
        )
        assert (code, doc["votes"], doc["findings"]) == (0, [vote_seq], []), doc
        assert vote_seq in doc["receipts_honoured"]
        code, doc = member_cmd(state, url, log_key, "check", "--key", str(bob))
        assert (code, doc["findings"]) == (0, []), doc
        assert drawn_seq in doc["receipts_honoured"]


def test_a_member_rotates_their_key_refuses_a_recovery_and_sees_one_in_force(
    tmp_path: Path,
) -> None:
    plan, log_key = new_plan(tmp_path, "required")
    state = tmp_path / "state"
    alice = join(plan, state, "alice", "2025-01-02T00:00:00Z")
    member = load_member_key(alice).member
    first_key = load_member_key(alice).member_key
    # A recovery the member did not ask for, with a long notice.
    pending = recover(plan, member, "2025-01-03T00:00:00Z", "2999-01-01T00:00:00Z")

    with serving(plan) as url:
        code, doc = member_cmd(state, url, log_key, "check", "--key", str(alice))
        assert (code, doc["findings"]) == (0, []), doc
        assert [(r["seq"], r["status"]) for r in doc["recoveries"]] == [(pending, "pending")]
        assert any(f"--recovery {pending}" in note for note in doc["notes"]), doc
        result = run(
            state, "member", "check", "--key", str(alice), "--server", url, "--log-key", log_key
        )
        assert f"RECOVERY of your key by the operator at seq {pending}" in result.output
        assert "PENDING" in result.output

        code, doc = member_cmd(
            state, url, log_key, "refuse-recovery", "--key", str(alice), "--recovery", str(pending)
        )
        assert (code, doc["type"], doc["request"]) == (0, "member.key_recovery_refused", 1), doc
        refusal = doc["seq"]

        # A recovery that is not pending cannot be refused: the log names the rule.
        code, doc = member_cmd(
            state, url, log_key, "refuse-recovery", "--key", str(alice), "--recovery", "1"
        )
        assert (code, doc["rule"]) == (1, "member.key_recovery_refused.pending"), doc

        code, doc = member_cmd(state, url, log_key, "rotate", "--key", str(alice))
        assert (code, doc["type"], doc["old_key"]) == (0, "member.key_rotated", first_key), doc
        rotation = doc["seq"]
        saved = json.loads(alice.read_text())
        assert saved["member_key"] == doc["new_key"] != first_key
        assert saved["history"] == [{"member_key": first_key, "replaced_at": rotation}]
        assert saved["pending_seed"] is None

        # An action signed with the new key is taken; the check follows the key change.
        code, doc = member_cmd(
            state, url, log_key, "enrol-juror", "--key", str(alice), "--juror-key-out",
            str(tmp_path / "alice.juror"),
        )  # fmt: skip
        assert code == 0, doc
        enrolled = doc["seq"]
        code, doc = member_cmd(state, url, log_key, "check", "--key", str(alice))
        assert code == 0, doc
        assert doc["signed_actions"] == [refusal, rotation, enrolled], doc
        assert doc["rotations"] == [rotation]
        assert doc["key_in_force"] == saved["member_key"]
        assert [(r["seq"], r["status"], r["by"]) for r in doc["recoveries"]] == [
            (pending, "refused", refusal)
        ]

    # The operator recovers the key again, and this time nobody refuses: once in force,
    # the member's check fails, naming the recovery.
    taken = recover(plan, member, CLOCK)
    with serving(plan) as url:
        code, doc = member_cmd(state, url, log_key, "check", "--key", str(alice))
        assert code == 1, doc
        assert [f["seq"] for f in doc["findings"]] == [taken], doc
        assert "without you" in doc["findings"][0]["message"]
        assert doc["recoveries"][-1]["status"] == "in force"
        result = run(
            state, "member", "check", "--key", str(alice), "--server", url, "--log-key", log_key
        )
        assert result.exit_code == 1
        assert f"RECOVERY of your key by the operator at seq {taken}" in result.output
        assert "IN FORCE" in result.output


def test_a_member_who_lost_their_key_asks_for_a_new_one(tmp_path: Path) -> None:
    plan, _ = new_plan(tmp_path, "required")
    state = tmp_path / "state"
    lost = join(plan, state, "wu", T0)
    member = load_member_key(lost).member
    lost.unlink()  # the key is gone
    new_file = tmp_path / "wu-new.key"
    code, doc = run_json(
        state, "member", "recovery-request", "--member", member, "--origin", ORIGIN,
        "--out", str(new_file),
    )  # fmt: skip
    assert code == 0, doc
    assert new_file.stat().st_mode & 0o777 == 0o600
    made = load_member_key(new_file)
    assert (made.member, made.member_key) == (member, doc["member_key"])
    again = run(state, "member", "recovery-request", "--member", member, "--origin", ORIGIN,
                "--out", str(new_file))  # fmt: skip
    assert again.exit_code != 0, "the key file is never overwritten"
    out = plan.tally(
        "member", "recover-key", member, "--new-key", doc["member_key"],
        "--key-signature", doc["key_signature"], "--at", T0,
    )  # fmt: skip
    assert f"Recovery of {member}'s key written at seq" in out
    bad = run(state, "member", "recovery-request", "--member", "m-x", "--origin", ORIGIN,
              "--out", str(tmp_path / "x.key"))  # fmt: skip
    assert bad.exit_code == 2, bad.output
