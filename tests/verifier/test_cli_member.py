"""``tally-verify member``: a member's own key, signed requests and their check.

The live tests build a plan with the ``tally`` command and serve it with ``tally
serve``, each in its own process, so nothing of the log side is imported here; what
they expect comes from the verifier's own request checks (``verify_request``) and
fixed facts (exit codes, rule ids of specs/plan.md §10).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner

from ledger.cli import main as tally_main
from tests.verifier.cli_support import run, run_json
from verifier.member_key import load_member_key
from verifier.plan.errors import RequestSignatureError
from verifier.plan.requests import public_key, request_document, sign_request, verify_request

REPO = Path(__file__).resolve().parents[2]
ORIGIN = "member.test.example/plan"
T0 = "2025-01-01T00:00:00Z"
CLOCK = "2025-01-05T00:00:00Z"
"""The rehearsal's clock: every --at below is before it, and the server dates by it."""


def test_keygen_writes_a_private_key_file_once(tmp_path: Path) -> None:
    out = tmp_path / "me.key"
    code, doc = run_json(tmp_path / "state", "member", "keygen", "--out", str(out))
    assert code == 0, doc
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    saved = json.loads(out.read_text())
    assert saved["format"] == "tally-member-key/1"
    assert re.fullmatch(r"m-[0-9a-f]{20}", saved["member"])
    assert saved["last_request"] == 0
    seed = base64.b64decode(saved["seed"])
    assert len(seed) == 32
    assert base64.b64encode(public_key(seed)).decode() == saved["member_key"] == doc["member_key"]
    assert doc["member"] == saved["member"]

    result = run(tmp_path / "state", "member", "keygen", "--out", str(tmp_path / "other.key"))
    assert result.exit_code == 0
    assert saved["seed"] not in result.output
    assert json.loads((tmp_path / "other.key").read_text())["member"] != saved["member"]

    before = out.read_bytes()
    again = run(tmp_path / "state", "member", "keygen", "--out", str(out))
    assert again.exit_code == 2
    assert "never overwritten" in again.output
    assert out.read_bytes() == before


def test_the_join_request_is_signed_for_one_log(tmp_path: Path) -> None:
    key = tmp_path / "me.key"
    state = tmp_path / "state"
    assert run(state, "member", "keygen", "--out", str(key)).exit_code == 0
    out = tmp_path / "join.json"
    result = run(
        state, "member", "join-request", "--key", str(key), "--origin", ORIGIN, "--out", str(out)
    )
    assert result.exit_code == 0, result.output
    assert "tally member join --request" in result.output
    document = json.loads(out.read_text())
    body = document["body"]
    saved = json.loads(key.read_text())
    assert document["type"] == "member.joined"
    assert set(body) == {"member", "member_key", "request", "signature"}
    assert (body["member"], body["member_key"], body["request"]) == (
        saved["member"],
        saved["member_key"],
        0,
    )
    assert saved["origin"] == ORIGIN
    # Proof of possession: it verifies with its own key, for this log only.
    verify_request(ORIGIN, "member.joined", body, base64.b64decode(body["member_key"]))
    with pytest.raises(RequestSignatureError):
        verify_request("other.example/plan", "member.joined", body, public_key(b"\x01" * 32))
    with pytest.raises(RequestSignatureError):
        verify_request(
            "other.example/plan", "member.joined", body, base64.b64decode(saved["member_key"])
        )

    other = run(
        state,
        "member",
        "join-request",
        "--key",
        str(key),
        "--origin",
        "other.example/plan",
        "--out",
        str(tmp_path / "other.json"),
    )
    assert other.exit_code == 2
    assert not (tmp_path / "other.json").exists()


# -- live: a plan built and served by `tally` ------------------------------------------


@dataclass(frozen=True)
class Plan:
    """A ledger made with the ``tally`` command, in ``folder``."""

    folder: Path

    @property
    def db(self) -> str:
        return f"sqlite:///{self.folder}/plan.db"

    @property
    def key(self) -> Path:
        return self.folder / "op.key"

    def tally(self, *args: str) -> str:
        """Run the operator's ``tally`` on the plan (in this process); its standard output."""
        done = CliRunner().invoke(
            tally_main,
            ["--db", self.db, "--key", str(self.key), *args],
            env={"TALLY_CLOCK": CLOCK},
        )
        assert done.exit_code == 0, done.output
        return done.stdout


def new_plan(folder: Path, signatures: str | None, **rules_changed: int) -> tuple[Plan, str]:
    """A plan with rules from T0 (juror tenure 0, ``member_signatures`` as given, and
    ``rules_changed``); returns it and the log's verifier key."""
    plan = Plan(folder)
    out = plan.tally("init", "--origin", ORIGIN, "--at", T0)
    found = re.search(r"Its verifier key \(give this to members\): (\S+)", out)
    assert found is not None, out
    rules = json.loads(plan.tally("rules", "reference", "--effective", T0))
    rules["juror_tenure_days"] = 0
    rules.update(rules_changed)
    if signatures is None:
        del rules["member_signatures"]  # as versions written before the key existed
    else:
        rules["member_signatures"] = signatures
    (folder / "rules.json").write_text(json.dumps(rules))
    plan.tally("rules", "announce", str(folder / "rules.json"), "--at", T0)
    return plan, found.group(1)


def join(plan: Plan, state: Path, name: str, at: str) -> Path:
    """A member makes a key and a join request; the operator appends it. The key file."""
    key = plan.folder / f"{name}.key"
    request = plan.folder / f"{name}-join.json"
    assert run(state, "member", "keygen", "--out", str(key)).exit_code == 0
    result = run(
        state,
        "member",
        "join-request",
        "--key",
        str(key),
        "--origin",
        ORIGIN,
        "--out",
        str(request),
    )
    assert result.exit_code == 0, result.output
    identity = plan.folder / f"{name}-id.json"
    identity.write_text(json.dumps({"name": name}))
    plan.tally(
        "member",
        "join",
        "--request",
        str(request),
        "--identity",
        str(identity),
        "--age-band",
        "0-39",
        "--at",
        at,
    )
    return key


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextmanager
def serving(plan: Plan) -> Iterator[str]:
    """``tally serve`` on the plan (with its key, so it takes requests); its base URL."""
    port = _free_port()
    log = open(plan.folder / "serve.log", "wb")  # noqa: SIM115
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "ledger.cli",
            "--db",
            plan.db,
            "--key",
            str(plan.key),
            "serve",
            "--port",
            str(port),
            "--rate-limit",
            "1000",
        ],
        cwd=REPO,
        env={**os.environ, "TALLY_CLOCK": CLOCK, "PYTHONUNBUFFERED": "1"},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, (plan.folder / "serve.log").read_text()
            try:
                if httpx.get(url + "/v1/log", timeout=5).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "the server did not come up"
            time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def signed_claim(plan: Plan, key_file: Path, number: int) -> Path:
    """The member's signed claim.filed request, as their own tool would write it."""
    key = load_member_key(key_file)
    body: dict[str, Any] = {
        "member": key.member,
        "condition": "ACC",
        "amount_fen": 100_000,
        "diagnosed": "2025-01-02T12:00:00Z",
        "evidence_commitment": "ab" * 32,
        "request": number,
    }
    path = plan.folder / "claim.json"
    path.write_text(
        json.dumps(
            request_document("claim.filed", sign_request(key.seed, ORIGIN, "claim.filed", body))
        )
    )
    return path


def claim_disclosed(plan: Plan, key_file: Path, claim: str = "c-4") -> None:
    """The member files a claim with their own tool (request 1, seq 4 with two members:
    ``claim`` is its id); the operator appends it, assesses it (approve) and discloses it."""
    plan.tally(
        "request", "append", str(signed_claim(plan, key_file, 1)), "--at", "2025-01-03T00:00:00Z"
    )
    report = plan.folder / "report.pdf"
    report.write_bytes(b"%PDF report")
    plan.tally(
        "claim",
        "assess",
        claim,
        "approve",
        "--amount",
        "1000",
        "--reason",
        "covered",
        "--report",
        str(report),
        "--at",
        "2025-01-03T01:00:00Z",
    )
    plan.tally("claim", "disclose", claim, "--at", "2025-01-03T02:00:00Z")


def test_a_member_signs_their_own_actions_and_checks_them(tmp_path: Path) -> None:
    plan, log_key = new_plan(tmp_path, "required")
    state = tmp_path / "state"
    alice = join(plan, state, "alice", "2025-01-02T00:00:00Z")
    bob = join(plan, state, "bob", "2025-01-02T00:00:00Z")
    claim_disclosed(plan, alice)

    with serving(plan) as url:
        assert run(state, "init", url, "--key", log_key).exit_code == 0
        juror_file = tmp_path / "bob.juror"
        code, doc = run_json(
            state, "member", "enrol-juror", "--key", str(bob), "--juror-key-out", str(juror_file)
        )
        assert (code, doc["type"], doc["request"], doc["seq"]) == (0, "juror.enrolled", 1, 7), doc
        assert stat.S_IMODE(juror_file.stat().st_mode) == 0o600

        result = run(
            state,
            "member",
            "object",
            "--key",
            str(bob),
            "--claim",
            "c-4",
            "--reason",
            "not an accident",
        )
        assert result.exit_code == 0, result.output
        assert "seq 8" in result.output
        objection = json.loads((tmp_path / "bob.key.receipts" / "8.json").read_text())
        assert objection["reason"] == "not an accident"
        assert objection["body"]["reason_hash"] == hashlib.sha256(b"not an accident").hexdigest()
        code, doc = run_json(state, "member", "appeal", "--key", str(bob), "--claim", "c-4")
        assert (code, doc["seq"], doc["request"]) == (0, 9, 3), doc

        # The secret stays home: only its SHA-256 was sent, and the file is private.
        secret_file = Path(doc["secret_file"])
        assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
        secret = json.loads(secret_file.read_text())["secret"]
        assert hashlib.sha256(bytes.fromhex(secret)).hexdigest() == doc["secret_commitment"]
        kept = json.loads(Path(doc["receipt_file"]).read_text())
        assert kept["body"]["secret_commitment"] == doc["secret_commitment"]
        assert secret not in json.dumps(kept)
        assert json.loads(bob.read_text())["last_request"] == 3

        # Each kept receipt is a write receipt `tally-verify receipt` checks.
        code, checked = run_json(state, "receipt", doc["receipt_file"])
        assert (code, checked["status"], checked["seq"]) == (0, "included", 9), checked

        # Alice's key file does not know her claim's number: the log refuses a replay,
        # naming the rule, and the number is not used up.
        code, refused = run_json(state, "member", "leave", "--key", str(alice))
        assert (code, refused["error"], refused["rule"]) == (1, "refused", "request.replay")
        assert json.loads(alice.read_text())["last_request"] == 0
        code, doc = run_json(state, "member", "check", "--key", str(alice))
        assert (code, doc["highest_request"], doc["signed_actions"]) == (0, 1, [4]), doc
        assert any("above the key file's last 0" in note for note in doc["notes"])
        code, doc = run_json(state, "member", "leave", "--key", str(alice), "--request", "2")
        assert (code, doc["seq"]) == (0, 10), doc

        for who, signed in ((alice, [4, 10]), (bob, [7, 8, 9])):
            extra = ["--juror-key", str(juror_file)] if who == bob else []
            code, doc = run_json(state, "member", "check", "--key", str(who), *extra)
            assert code == 0, doc
            assert (doc["signed_actions"], doc["findings"]) == (signed, []), doc
            # Alice's claim was handed to the operator: no receipt of it is kept.
            assert doc["receipts_honoured"] == (signed[1:] if who == alice else signed)
        result = run(state, "member", "check", "--key", str(bob))
        assert "Everything in your name is yours" in result.output

        refusals_and_a_misfiled_receipt(state, tmp_path, alice, bob)


def refusals_and_a_misfiled_receipt(state: Path, tmp_path: Path, alice: Path, bob: Path) -> None:
    """After Alice left: her enrolment is refused; Bob's receipt under another name fails."""
    # A member who left cannot enrol: refused (exit 1), and the juror key made for
    # it is not kept.
    other = tmp_path / "other.juror"
    code, doc = run_json(
        state, "member", "enrol-juror", "--key", str(alice), "--juror-key-out", str(other)
    )
    assert (code, doc["error"], doc["status"]) == (1, "refused", 409), doc
    assert not other.exists()
    assert json.loads(alice.read_text())["last_request"] == 2

    # A receipt kept under another seq's name is not honoured.
    (bob.parent / "bob.key.receipts" / "8.json").rename(bob.parent / "bob.key.receipts" / "5.json")
    code, doc = run_json(state, "member", "check", "--key", str(bob))
    assert code == 1
    assert [f["seq"] for f in doc["findings"]] == [5], doc


def test_an_action_the_operator_wrote_in_a_members_name_fails_the_check(tmp_path: Path) -> None:
    plan, log_key = new_plan(tmp_path, None)  # member_signatures optional
    state = tmp_path / "state"
    alice = join(plan, state, "alice", "2025-01-02T00:00:00Z")
    member = load_member_key(alice).member
    out = plan.tally("member", "leave", member, "--at", "2025-01-03T00:00:00Z")
    seq = int(re.findall(r"seq (\d+)", out)[-1])
    with serving(plan) as url:
        code, doc = run_json(
            state, "member", "check", "--key", str(alice), "--server", url, "--log-key", log_key
        )
        assert code == 1, doc
        assert [f["seq"] for f in doc["findings"]] == [seq], doc
        assert "did not sign" in doc["findings"][0]["message"]
        result = run(
            state, "member", "check", "--key", str(alice), "--server", url, "--log-key", log_key
        )
        assert result.exit_code == 1
        assert f"seq {seq}" in result.output

        # Without --log-key or a pinned key, the server's stated key is used, with a warning.
        code, doc = run_json(state, "member", "check", "--key", str(alice), "--server", url)
        assert code == 1, doc
        assert doc["log_key_warning"], doc
