"""``tally-verify`` replays a real plan: the ledger's demo, built and served for real.

The ledger builds the plan and the API serves it (see ``test_independence.py``, which
names this file as one of the live-server tests); everything expected here comes
from the verifier's own replay and from fixed facts of the build (its size, its
number of periods), never from the ledger's code.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from ledger.demo import build_demo
from ledger.instance import Ledger, init_ledger
from tests.verifier.cli_support import AppServer, run, run_json
from tests.verifier.live_log import key_of, serving
from verifier.audit import Replayer, fetch_pages
from verifier.client import LogClient
from verifier.money import yuan
from verifier.note import parse_verifier_key

PERIODS = 8


@pytest.fixture(scope="module")
def plan_key(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("plan") / "plan.key"


@pytest.fixture(scope="module")
def plan_ledger(plan_key: Path) -> Iterator[Ledger]:
    """A demo plan of 300 members over 8 periods, in a fresh SQLite ledger."""
    url = f"sqlite:///{plan_key.parent}/plan.db"
    ledger, _ = init_ledger(
        url, plan_key, "plan.test.example/log", genesis_time="2025-01-01T00:00:00Z"
    )
    build_demo(ledger, seed=1, members=300, periods=PERIODS)
    ledger.publisher.publish()
    yield ledger
    ledger.close()


@pytest.fixture(scope="module")
def plan_server(plan_ledger: Ledger) -> Iterator[AppServer]:
    with serving(plan_ledger) as server:
        yield server


def test_init_and_audit_a_real_plan(plan_server: AppServer, plan_key: Path, tmp_path: Path) -> None:
    state = tmp_path / "state"
    init = run(state, "init", plan_server.url, "--key", key_of(plan_key))
    assert init.exit_code == 0, init.output

    result = run(state, "audit")
    assert result.exit_code == 0, result.output
    assert "The plan's rules hold for all " in result.stdout
    assert f"{PERIODS} closed periods: " in result.stdout

    code, doc = run_json(state, "audit", "--from-start")
    assert code == 0, json.dumps(doc)
    plan = doc["plan"]
    assert plan["entries"] == doc["tree_size"]
    assert plan["periods_closed"] == PERIODS
    assert 0 < plan["members"] <= plan["members_joined"] <= 300
    assert plan["claims"] >= plan["paid"] + plan["denied"]
    assert plan["rules_version"] >= 1
    sentence = (
        f"The plan's rules hold for all {plan['entries']:,} entries: {plan['members']:,} "
        f"members, {plan['claims']:,} claims ({plan['paid']:,} paid, {plan['denied']:,} "
        f"denied, {plan['reversed']:,} reversed for fraud with "
        f"{yuan(plan['recovered_fen'])} recovered), {plan['periods_closed']:,} closed periods: "
        f"{yuan(plan['aid_fen'])} of aid, {yuan(plan['fee_fen'])} of fees, "
        f"{yuan(plan['subsidy_fen'])} of subsidies."
    )
    assert sentence in run(state, "audit").stdout


def test_a_larger_demo_replays_every_kind_of_claim(tmp_path: Path) -> None:
    """3,000 members over 14 periods: objections, pooled and drawn panels both ways, a
    reversal, leavers."""
    ledger, _ = init_ledger(
        f"sqlite:///{tmp_path}/big.db",
        tmp_path / "big.key",
        "big.test.example/log",
        genesis_time="2025-01-01T00:00:00Z",
    )
    try:
        build_demo(ledger, seed=1, members=3000, periods=14)
        ledger.publisher.publish()
        with serving(ledger) as server, LogClient(server.url) as client:
            size = client.log_info().tree_size
            replayer = Replayer(parse_verifier_key(key_of(tmp_path / "big.key")), check_plan=True)
            for page in fetch_pages(client, 0, size):
                for item in page:
                    replayer.add(item.raw, item.shown)
    finally:
        ledger.close()
    replayer.raise_if_failed()
    plan = replayer.plan
    assert plan is not None
    claims = list(plan.claims.values())
    assert any(c.objectors and c.basis == "panel" for c in claims), "an approval appealed"
    assert any(c.decision == "deny" and c.outcome == "approved" for c in claims), "overturned"
    drawn = [c for c in claims if c.jurors is not None]
    assert drawn, "a panel drawn"
    for c in drawn:  # the pool's signature on the log before the secret (§6)
        types = [t for _, t in c.history]
        assert types.index("claim.appealed") < types.index("panel.pooled")
        assert types.index("panel.pooled") < types.index("panel.drawn")
        assert c.pooled_seq is not None
        assert c.pool_signature is not None
    assert any(c.recovered_fen for c in claims), "a reversal"
    assert any(m.left_seq is not None for m in plan.members.values()), "a member who left"
    assert len(plan.rules.versions) >= 2
    assert plan.summary().periods_closed == 14
