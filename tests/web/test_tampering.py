"""A hostile server, in front of the real one, is caught by the page and the check named.

Each case pins the real key on a first visit through the proxy (passing everything
through), then turns the proxy hostile and asks for a statement: the page must show
the failed check in red and nothing green.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from ledger.publish.keyfile import load_key_file
from tests.web.live import Demo
from tests.web.proxy import ProxyServer, TamperingProxy
from tests.web.test_views import yuan


@pytest.fixture(scope="module")
def proxy(server: str, demo: Demo) -> Iterator[TamperingProxy]:
    hostile = TamperingProxy(server, load_key_file(demo.key))
    with ProxyServer(hostile) as running:
        hostile.base = running.base  # type: ignore[attr-defined]
        yield hostile
    hostile.mode = None


@pytest.fixture(scope="module")
def member_period(api: httpx.Client) -> tuple[str, str]:
    last = api.get("v1/periods").json()["periods"][-1]["period"]
    claim = api.get("v1/claims", params={"period": last, "limit": 1}).json()["claims"][0]
    return claim["member"], last


def failed_check(w: Any, member: str, period: str) -> tuple[str, str]:
    page = w.open(f"#/statement?member={member}&period={period}")
    page.wait_for_selector("[data-testid=verified], [data-testid=failed]", timeout=60_000)
    result = page.locator("[data-testid=result]")
    assert page.locator("[data-testid=verified]").count() == 0, result.inner_text()
    assert result.locator(".pass, .ok, .checks").count() == 0, (
        "a failed statement shows nothing green"
    )
    failed = page.locator("[data-testid=failed]")
    return failed.get_attribute("data-check") or "", failed.inner_text()


@pytest.mark.parametrize(
    ("mode", "check"),
    [
        ("proof", "entry.inclusion"),
        ("signature", "checkpoint.signature"),
        ("charge", "contribution.proof"),
        ("claim", "entry.inclusion"),
        ("forged", "plan.rules"),
    ],
)
def test_a_tampered_statement_fails_naming_the_check(
    open_page: Any,
    proxy: TamperingProxy,
    member_period: tuple[str, str],
    artifacts: Path,
    mode: str,
    check: str,
) -> None:
    proxy.mode = None
    w = open_page(origin=proxy.base)  # type: ignore[attr-defined]
    w.open("#/key")  # pins the real key
    proxy.mode = mode
    try:
        got, text = failed_check(w, *member_period)
    finally:
        proxy.mode = None
    assert got == check, text
    assert f"Check {check} failed" in text
    if mode == "forged":
        assert "paid.approved" in text or "amount_fen" in text, text
    w.shot(artifacts, f"tampered-{mode}")


def test_a_forged_history_contradicts_the_checkpoint_seen_before(
    open_page: Any, proxy: TamperingProxy, member_period: tuple[str, str], artifacts: Path
) -> None:
    proxy.mode = None
    w = open_page(origin=proxy.base)  # type: ignore[attr-defined]
    w.open("#/plan")  # sees (and remembers) the real checkpoint
    proxy.mode = "forged"
    try:
        got, text = failed_check(w, *member_period)
    finally:
        proxy.mode = None
    assert got == "checkpoint.consistency", text
    w.shot(artifacts, "tampered-fork")


def test_a_server_with_another_key_is_refused(
    open_page: Any, proxy: TamperingProxy, member_period: tuple[str, str], artifacts: Path
) -> None:
    proxy.mode = None
    w = open_page(origin=proxy.base)  # type: ignore[attr-defined]
    w.open("#/plan")
    proxy.mode = "other-key"
    try:
        page = w.open("#/plan")
        assert "not the one this browser pinned" in page.inner_text("#banner")
        assert page.locator("[data-testid=checkpoint-failed]").count() == 1
        assert page.locator("[data-testid=checkpoint]").count() == 0
        w.shot(artifacts, "other-key-plan")
        got, text = failed_check(w, *member_period)
    finally:
        proxy.mode = None
    assert got == "bundle.key", text
    w.shot(artifacts, "other-key-statement")


def test_a_summary_that_differs_from_its_entry_is_flagged(
    open_page: Any, proxy: TamperingProxy, api: httpx.Client
) -> None:
    last = api.get("v1/periods").json()["periods"][-1]
    proxy.mode = "periods"
    try:
        w = open_page(origin=proxy.base)  # type: ignore[attr-defined]
        page = w.open("#/plan")
        row = page.locator(f"tr[data-period='{last['period']}']")
        assert row.get_attribute("data-proof") == "differs"
        assert row.locator("td[data-k=share_fen]").inner_text() == yuan(last["body"]["share_fen"])
    finally:
        proxy.mode = None
