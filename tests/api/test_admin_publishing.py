"""The server signs its own checkpoints: after each admin write, on an interval, despite errors.

On both backends: a write's receipt verifies with the log's verifier key (from
GET /v1/log) and names the entry's seq and hash (from GET /v1/entries); a write
wakes the publisher, so a signed checkpoint covers it without waiting for the
interval; entries appended behind the server's back are covered on the interval;
the loop survives a database outage and stops with the app. (Latency is measured by
the benchmarks, never asserted here.)
"""

from __future__ import annotations

import base64
import hashlib
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine

from api.admin.service import AdminService
from ledger.errors import NoteError
from ledger.instance import Ledger
from ledger.log.entry import parse_time
from ledger.log.log import NewEntry
from ledger.publish.checkpoint import open_checkpoint
from ledger.publish.loop import PublishLoop
from ledger.publish.note import Signer, parse_verifier_key
from ledger.publish.publisher import latest_checkpoint
from ledger.publish.receipt import open_receipt
from tests.api.admin_support import START, Admin, running_admin

WAIT_LIMIT = 60.0  # a bound so a broken loop fails the test, not a timing claim


def wait_for(condition: Callable[[], bool], limit: float = WAIT_LIMIT) -> float:
    """Poll until ``condition`` holds (fail after ``limit``); return the seconds it took."""
    began = time.monotonic()
    while not condition():
        if time.monotonic() - began > limit:
            pytest.fail(f"still not true after {limit} s")
        time.sleep(0.02)
    return time.monotonic() - began


def served_size(admin: Admin) -> int:
    """The size of the checkpoint GET /v1/checkpoint serves, verified with the log's key."""
    key = parse_verifier_key(admin.client.get("/v1/log").json()["verifier_key"])
    return open_checkpoint(admin.client.get("/v1/checkpoint").text, key).size


def test_a_receipt_names_the_entry_and_verifies(db_url: str, tmp_path: Path) -> None:
    with running_admin(db_url, tmp_path) as admin:
        before = datetime.now(UTC).replace(microsecond=0)
        response = admin.post("/rules", {"rules": _rules(), "at": START})
        assert response.status_code == 201
        assert response.headers["cache-control"] == "no-store"
        answer = response.json()
        info = admin.client.get("/v1/log").json()
        receipt = open_receipt(answer["receipt"], parse_verifier_key(info["verifier_key"]))
        assert receipt.origin == info["origin"]
        assert receipt.seq == answer["seq"] == 1
        page = admin.client.get("/v1/entries", params={"start": 1, "end": 2}).json()
        raw = base64.b64decode(page["entries"][0]["leaf"])
        assert receipt.entry_hash == answer["entry_hash"] == hashlib.sha256(raw).hexdigest()
        # Covered-by is on the wall clock (the entry's own time is in 2025), two seconds on.
        covered_by = parse_time(receipt.covered_by)
        assert (covered_by - before).total_seconds() >= 1
        # Another key with the same name does not open it.
        other = Signer(info["origin"], b"\x09" * 32).verifier()
        with pytest.raises(NoteError, match="expected a signature by"):
            open_receipt(answer["receipt"], other)


def test_a_write_wakes_the_publisher(db_url: str, tmp_path: Path) -> None:
    # With an interval of an hour, only the write itself can wake the publisher.
    with running_admin(db_url, tmp_path, publish_interval=3600.0) as admin:
        answer = admin.ok("/rules", {"rules": _rules(), "at": START})
        wait_for(lambda: served_size(admin) > answer["seq"])
        # A bulk write: one checkpoint covers every entry of it.
        many = admin.ok(
            "/members/bulk",
            {
                "members": [{"age_band": "0-39", "identity": {"n": i}} for i in range(50)],
                "at": "2025-01-02T00:00:00Z",
            },
        )["members"]
        wait_for(lambda: served_size(admin) > many[-1]["seq"])


def test_entries_appended_elsewhere_are_covered_by_the_interval(
    db_url: str, tmp_path: Path
) -> None:
    with running_admin(db_url, tmp_path, publish_interval=0.2) as admin:
        admin.ledger.log.append(NewEntry("demo.thing", "operator", {"i": 1}))
        wait_for(lambda: served_size(admin) == admin.ledger.log.size())
        service: AdminService = admin.client.app.state.admin  # type: ignore[attr-defined]
        assert service.publishing.running
    assert not service.publishing.running, "the loop stops with the app"


def test_publishing_survives_a_database_outage(
    ledger: Ledger, caplog: pytest.LogCaptureFixture
) -> None:
    ledger.log.append(NewEntry("demo.thing", "operator", {"i": 1}))
    working = ledger.store.engine
    loop = PublishLoop(ledger.publisher, 0.02, max_delay=0.05)
    with caplog.at_level(logging.INFO, logger="tally.publish"):
        ledger.store.engine = create_engine("sqlite:////nonexistent-dir/gone.db")
        try:
            loop.start()
            wait_for(lambda: loop.failures >= 3)
            assert loop.running, "a failure never stops the loop"
        finally:
            ledger.store.engine.dispose()
            ledger.store.engine = working
        wait_for(lambda: loop.failures == 0 and loop.published == 1)
        loop.stop()
    assert not loop.running
    note = latest_checkpoint(ledger.store)
    assert note is not None
    assert open_checkpoint(note, ledger.signer.verifier()).size == ledger.log.size()
    messages = [r.getMessage() for r in caplog.records if r.name == "tally.publish"]
    assert any("signing a checkpoint failed (attempt 1, retrying)" in m for m in messages)
    assert any("signing checkpoints again" in m for m in messages)


def test_the_loop_wakes_at_once_and_checks_its_interval(ledger: Ledger) -> None:
    with pytest.raises(ValueError, match="expected a publish interval"):
        PublishLoop(ledger.publisher, 0)
    loop = PublishLoop(ledger.publisher, 3600)  # the interval alone would never fire
    loop.start()
    try:
        wait_for(lambda: loop.running)
        time.sleep(0.05)  # the first round found nothing to sign
        ledger.log.append(NewEntry("demo.thing", "operator", {"i": 2}))
        loop.wake()
        wait_for(lambda: loop.published == 1, limit=2.0)
    finally:
        loop.stop()
    assert not loop.running


def _rules() -> dict[str, object]:
    from ledger.domain.rules import reference_rules

    return reference_rules(START, member_signatures=None).to_body()
