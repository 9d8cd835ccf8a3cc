"""A member's statement from the demo, checked in chromium: every check green, and the
same numbers as the Python verifier (tally-verify) gives for the same bundle."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.web.test_views import yuan
from verifier.note import parse_verifier_key
from verifier.statement import StatementReport, parse_bundle_bytes, verify_bundle


def python_report(api: httpx.Client, member: str, period: str) -> StatementReport:
    data = api.get(f"v1/members/{member}/statement", params={"period": period}).content
    key = parse_verifier_key(api.get("v1/log").json()["verifier_key"])
    return verify_bundle(parse_bundle_bytes(data), key)[0]


def cases(api: httpx.Client) -> dict[str, tuple[str, str]]:
    """(member, period) of the demo's interesting statements: the last period, a period
    paying a claim a drawn panel decided, and one crediting a claim reversed for fraud."""
    claims = api.get("v1/claims", params={"limit": 500}).json()["claims"]
    last = api.get("v1/periods").json()["periods"][-1]["period"]
    paid_last = next(c for c in claims if c["paid_period"] == last)
    out = {"last": (paid_last["member"], last)}
    for c in claims:
        history = api.get(f"v1/claims/{c['claim']}").json()["history"]
        if (
            c["paid_period"]
            and any(s["type"] == "vote.cast" for s in history)
            and "panel" not in out
        ):
            out["panel"] = (c["member"], c["paid_period"])
        if c["status"] == "reversed":
            reversed_at = next(s for s in history if s["type"] == "claim.reversed")
            period = next(
                p["period"]
                for p in api.get("v1/periods").json()["periods"]
                if p["body"]["cutoff"] > reversed_at["time"]
            )
            out["reversed"] = (paid_last["member"], period)
    assert set(out) == {"last", "panel", "reversed"}, out
    return out


@pytest.mark.parametrize("which", ["last", "panel", "reversed"])
def test_statement_verifies_with_every_check_green(
    open_page: Any, api: httpx.Client, artifacts: Path, which: str
) -> None:
    member, period = cases(api)[which]
    w = open_page()
    w.open("#/plan")  # the first visit pins the key and remembers a checkpoint
    page = w.open(f"#/statement?member={member}&period={period}")
    page.wait_for_selector("[data-testid=verified], [data-testid=failed]", timeout=60_000)
    assert page.locator("[data-testid=failed]").count() == 0, page.inner_text(
        "[data-testid=result]"
    )
    report = python_report(api, member, period)
    checks = int(page.get_attribute("[data-testid=verified]", "data-checks") or 0)
    assert page.inner_text("[data-testid=passed]") == f"✓ All {checks} checks passed."
    assert page.locator("ul.checks li").count() == checks
    assert page.locator("ul.checks li:not(.ok)").count() == 0
    assert (
        page.inner_text("[data-testid=paid]")
        == f"You paid {yuan(report.charge_fen)} in period {period}."
    )
    assert page.inner_text("[data-testid=share]") == yuan(report.share_fen)
    parts = page.locator("[data-claim-part]").evaluate_all(
        "els => els.map(e => e.dataset.claimPart)"
    )
    assert parts == [c.claim for c in report.claims]
    for c in report.claims:
        assert f"your part {yuan(c.part_fen)}" in page.inner_text(f"[data-claim-part='{c.claim}']")
    assert (
        f"your part {yuan(report.fee_part_fen)}" in page.inner_text("[data-fee-part]")
        if report.claims
        else True
    )
    w.shot(artifacts, f"statement-{which}")
