"""``tally-verify statement`` against a real server: the ledger's demo, built and served.

The ledger builds the plan and the API serves it (named in ``test_independence.py``
as a live-server test); what is expected comes from the verifier's own replay.
"""

from __future__ import annotations

from pathlib import Path

from ledger.demo import build_demo
from ledger.domain.plan import Plan
from ledger.instance import init_ledger
from tests.verifier.cli_support import run, run_json
from tests.verifier.live_log import key_of, serving
from verifier.audit import Replayer, fetch_pages
from verifier.client import LogClient
from verifier.note import parse_verifier_key


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
            parts = sum(c["part_fen"] for c in doc["claims"]) + doc["fee_part_fen"]
            assert parts == doc["charge_fen"]
            assert doc["checkpoint_compared"].startswith("the same as your saved checkpoint")
            # A larger checkpoint (three more members): checked with a consistency proof, saved.
            Plan(ledger).join_many([("0-39", {"n": i}) for i in range(3)])
            ledger.publisher.publish()
            result = run(state, "statement", "--member", member)
            assert result.exit_code == 0, result.output
            assert "checks passed." in result.stdout
            assert "which it replaces" in result.stdout
            code, doc = run_json(state, "checkpoint")
            assert (code, doc["grew"]) == (0, False), doc
            unknown = run(state, "statement", "--member", "m-" + "f" * 20, "--period", period)
            assert unknown.exit_code == 4, unknown.output
    finally:
        ledger.close()
