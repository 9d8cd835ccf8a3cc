"""The admin API's guards for the operator, on both backends: amounts in yuan or fen, one
person joins once, a period is closed by name, entry times in order."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ledger.domain.rules import reference_rules
from ledger.log.entry import parse_entry
from ledger.publish.note import Signer
from ledger.retirement import retire
from tests.api.admin_support import PROBLEM, START, Admin, b64, running_admin

JAN2 = "2025-01-02T00:00:00Z"


@pytest.fixture
def admin(db_url: str, tmp_path: Path) -> Iterator[Admin]:
    with running_admin(db_url, tmp_path) as made:
        made.ok(
            "/rules",
            {"rules": reference_rules(START, member_signatures=None).to_body(), "at": START},
        )
        yield made


def problem(admin: Admin, path: str, body: Any, status: int) -> dict[str, Any]:
    size = admin.ledger.log.size()
    response = admin.post(path, body)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    assert admin.ledger.log.size() == size
    found: dict[str, Any] = response.json()
    return found


def body_of(admin: Admin, seq: int) -> dict[str, Any]:
    return dict(parse_entry(admin.ledger.log.entries(seq, seq + 1)[0][1]).body)


def test_amounts_in_yuan_or_fen(admin: Admin) -> None:
    member = admin.ok("/members", {"age_band": "0-39", "identity": {"n": "Wu"}, "at": JAN2})
    claim = {
        "member": member["member"],
        "condition": "ACC",
        "diagnosed": JAN2,
        "evidence": b64(b"x-ray"),
        "at": "2025-01-03T00:00:00Z",
    }
    filed = admin.ok("/claims", {**claim, "amount_yuan": "1000.29"})
    assert body_of(admin, filed["seq"])["amount_fen"] == 100_029  # never 100028.99...
    for bad in (
        {**claim},  # neither
        {**claim, "amount_yuan": "1", "amount_fen": 100},  # both
        {**claim, "amount_yuan": 1000.5},  # a JSON number: floats are refused
        {**claim, "amount_yuan": "1000.505"},
        {**claim, "amount_yuan": "1,000"},
        {**claim, "amount_yuan": "0"},
        {**claim, "amount_yuan": "-1"},
    ):
        detail = problem(admin, "/claims", bad, 400)["detail"]
        assert "amount" in detail
    assessed = admin.ok(
        f"/claims/{filed['claim']}/assess",
        {"decision": "approve", "amount_yuan": "1000", "reason": "ok", "report": b64(b"r")},
    )
    assert body_of(admin, assessed["seq"])["amount_fen"] == 100_000
    # Another accident (one diagnosis is claimed once, plan.md §5.1).
    other = admin.ok(
        "/claims", {**claim, "amount_fen": 5_000, "diagnosed": "2025-01-02T12:00:00Z", "at": None}
    )
    denied = admin.ok(
        f"/claims/{other['claim']}/assess",
        {"decision": "deny", "reason": "not covered", "report": b64(b"r")},
    )
    assert body_of(admin, denied["seq"])["amount_fen"] == 0


def test_a_person_already_a_member_is_refused_naming_them(admin: Admin) -> None:
    wu = {"age_band": "0-39", "identity": {"name": "Wu", "phone": "138"}, "at": JAN2}
    first = admin.ok("/members", wu)["member"]
    refused = problem(admin, "/members", {**wu, "age_band": "40-59"}, 409)
    assert (refused["member"], refused["index"]) == (first, 0)
    assert "rule" not in refused  # the operator's own check, not a rule of the plan
    assert first in refused["detail"]
    people = [
        {"age_band": "0-39", "identity": {"name": "Li"}},
        {k: wu[k] for k in ("age_band", "identity")},
    ]
    refused = problem(admin, "/members/bulk", {"members": people, "at": JAN2}, 409)
    assert (refused["member"], refused["index"]) == (first, 1)
    repeat = [people[0], people[0]]
    refused = problem(admin, "/members/bulk", {"members": repeat, "at": JAN2}, 409)
    assert refused["index"] == 1
    assert "member" not in refused


def test_a_period_is_closed_by_name(admin: Admin) -> None:
    missing = problem(admin, "/periods/close", {"at": "2025-01-14T00:00:00Z"}, 400)
    assert "the next is 2025-01a (cutoff 2025-01-14T00:00:00Z)" in missing["detail"]
    assert "2025-01a" in problem(admin, "/periods/close", None, 400)["detail"]
    wrong = problem(
        admin, "/periods/close", {"period": "2025-01b", "at": "2025-01-28T00:00:00Z"}, 409
    )
    assert wrong["rule"] == "period.order"
    closed = admin.ok("/periods/close", {"period": "2025-01a", "at": "2025-01-14T00:00:00Z"})
    twice = problem(
        admin, "/periods/close", {"period": "2025-01a", "at": "2025-01-28T00:00:00Z"}, 409
    )
    assert f"it was closed at seq {closed['seq']}" in twice["detail"]
    assert "2025-01b (cutoff 2025-01-28T00:00:00Z)" in twice["detail"]
    malformed = problem(admin, "/periods/close", {"period": "2025-13a"}, 400)
    assert "period" in malformed["detail"]


def test_entry_times_go_forward_and_not_ahead(admin: Admin) -> None:
    admin.ok("/members", {"age_band": "0-39", "identity": {"n": 1}, "at": JAN2})
    back = problem(admin, "/members", {"age_band": "0-39", "identity": {"n": 2}, "at": START}, 409)
    assert back["kind"] == "backwards"
    assert "in time order" in back["detail"]
    admin.clock.set("2025-02-01T00:00:00Z")
    ahead = problem(
        admin,
        "/members",
        {"age_band": "0-39", "identity": {"n": 2}, "at": "2025-02-01T00:00:01Z"},
        422,
    )
    assert "no later than now (2025-02-01T00:00:00Z)" in ahead["detail"]


def test_a_retired_log_refuses_every_write(admin: Admin) -> None:
    successor = Signer("next.admin.example/log", b"\x09" * 32)
    retire(admin.ledger, successor.name, successor.verifier().to_string(), clock=admin.clock)
    refused = problem(admin, "/members", {"age_band": "0-39", "identity": {"n": 1}}, 409)
    assert "retired at seq" in refused["detail"]
