"""``tally-verify statement`` against a real server: the ledger's demo, built and served.

The ledger builds the plan and the API serves it (named in ``test_independence.py``
as a live-server test); what is expected comes from the verifier's own replay.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import httpx

from ledger.demo import build_demo
from ledger.domain.plan import Plan
from ledger.domain.requests import RequestDocument, public_key, sign_request
from ledger.instance import init_ledger
from tests.verifier.cli_support import run, run_json
from tests.verifier.live_log import key_of, serving
from verifier.audit import Replayer, fetch_pages
from verifier.client import LogClient
from verifier.note import parse_verifier_key


def keyed_join(origin: str, n: int) -> RequestDocument:
    """A newcomer's signed join request (the demo's rules require member signatures)."""
    seed = hashlib.sha256(b"statement newcomer %d" % n).digest()
    member = "m-" + hashlib.sha256(b"statement newcomer id %d" % n).hexdigest()[:20]
    body = {"member": member, "member_key": public_key(seed), "request": 0}
    return RequestDocument("member.joined", sign_request(seed, origin, "member.joined", body))


def test_statement_from_a_real_server(tmp_path: Path) -> None:
    key_file = tmp_path / "plan.key"
    ledger, _ = init_ledger(
        f"sqlite:///{tmp_path}/plan.db",
        key_file,
        "statement.test.example/log",
        genesis_time="2025-01-01T00:00:00Z",
    )
    try:
        build_demo(ledger, seed=1, members=200, periods=6)
        ledger.publisher.publish()
        with serving(ledger) as server:
            with LogClient(server.url) as client:
                size = client.log_info().tree_size
                replayer = Replayer(parse_verifier_key(key_of(key_file)), check_plan=True)
                for page in fetch_pages(client, 0, size):
                    for item in page:
                        replayer.add(item.raw, item.shown)
            replayer.raise_if_failed()
            plan = replayer.plan
            assert plan is not None
            period, closed = next(
                (p, c) for p, c in reversed(plan.periods.items()) if c.body["claims"]
            )
            member = next(
                m.member
                for m in plan.members.values()
                if plan.charge_of(m.member, period) is not None
            )
            state = tmp_path / "state"
            init = run(state, "init", server.url, "--key", key_of(key_file))
            assert init.exit_code == 0, init.output
            code, doc = run_json(state, "statement", "--member", member, "--period", period)
            assert code == 0, doc
            assert doc["charge_fen"] == plan.charge_of(member, period)
            assert [c["claim"] for c in doc["claims"]] == closed.body["claims"]
            parts = (
                sum(c["part_fen"] for c in doc["claims"])
                + sum(r["part_fen"] for r in doc["recoveries"])
                + doc["fee_part_fen"]
                + doc["carry_in_part_fen"]
                + doc["carry_out_part_fen"]
            )
            assert parts == doc["charge_fen"]
            assert doc["checkpoint_compared"].startswith("the same as your saved checkpoint")
            # A larger checkpoint (three more members): checked with a consistency proof, saved.
            Plan(ledger).join_many(
                [("0-39", {"n": i}) for i in range(3)],
                requests=[keyed_join(ledger.publisher.origin, i) for i in range(3)],
            )
            ledger.publisher.publish()
            result = run(state, "statement", "--member", member)
            assert result.exit_code == 0, result.output
            assert "checks passed." in result.stdout
            assert "which it replaces" in result.stdout
            code, doc = run_json(state, "checkpoint")
            assert (code, doc["grew"]) == (0, False), doc
            unknown = run(state, "statement", "--member", "m-" + "f" * 20, "--period", period)
            assert unknown.exit_code == 2, unknown.output
    finally:
        ledger.close()


def _served_member(url: str) -> str:
    """A member id that joined, read from the served entries (not from the ledger)."""
    with LogClient(url) as client:
        for page in fetch_pages(client, 0, client.log_info().tree_size):
            for item in page:
                entry = json.loads(item.raw)
                if entry["type"] == "member.joined":
                    return str(entry["body"]["member"])
    raise AssertionError("no member.joined served")


def test_a_member_or_period_the_log_does_not_know_is_a_usage_error(
    db_url: str, tmp_path: Path
) -> None:
    """Not "server error, try again later": exit 2, naming what the log does not hold."""
    key_file = tmp_path / "plan.key"
    ledger, _ = init_ledger(
        db_url, key_file, "unknown.test.example/log", genesis_time="2025-01-01T00:00:00Z"
    )
    try:
        build_demo(ledger, seed=2, members=40, periods=2)
        ledger.publisher.publish()
        with serving(ledger) as server:
            state = tmp_path / "state"
            assert run(state, "init", server.url, "--key", key_of(key_file)).exit_code == 0
            member, nobody = _served_member(server.url), "m-" + "f" * 20
            assert run(state, "statement", "--member", member).exit_code == 0

            result = run(state, "statement", "--member", nobody)
            assert result.exit_code == 2, result.output
            assert f"Error: the log has no member {nobody}" in result.stderr
            assert "try again later" not in result.stderr
            code, doc = run_json(state, "statement", "--member", nobody, "--period", "2025-01a")
            assert (code, doc["error"]) == (2, "usage_error"), doc
            assert f"the log has no member {nobody}" in doc["message"]

            result = run(state, "statement", "--member", member, "--period", "2099-12b")
            assert result.exit_code == 2, result.output
            assert "Error: the log has no closed period 2099-12b" in result.stderr

            # The same 404, saved to a file and given to `bundle`, is named for what it is.
            answer = httpx.get(f"{server.url}/v1/members/{nobody}/statement")
            assert answer.status_code == 404
            saved = tmp_path / "statement.json"
            saved.write_bytes(answer.content)
            result = run(state, "bundle", str(saved))
            assert result.exit_code == 2, result.output
            assert "this file is the server's error answer" in result.stderr
            assert f"404 Not found: no member {nobody} has joined" in result.stderr
            assert "verification failed" not in result.stderr.lower()
    finally:
        ledger.close()


def test_no_closed_period_yet_is_a_usage_error(db_url: str, tmp_path: Path) -> None:
    key_file = tmp_path / "plan.key"
    ledger, _ = init_ledger(
        db_url, key_file, "early.test.example/log", genesis_time="2025-01-01T00:00:00Z"
    )
    try:
        build_demo(ledger, seed=2, members=10, periods=0)
        ledger.publisher.publish()
        with serving(ledger) as server:
            state = tmp_path / "state"
            assert run(state, "init", server.url, "--key", key_of(key_file)).exit_code == 0
            result = run(state, "statement", "--member", _served_member(server.url))
            assert result.exit_code == 2, result.output
            assert "Error: the log has no closed period yet" in result.stderr
    finally:
        ledger.close()
