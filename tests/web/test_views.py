"""Each view of the members' page, in chromium, showing the demo's numbers as the API gives them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from tests.web.conftest import PHONE


def yuan(fen: int) -> str:
    """The page's English spelling of an amount of fen."""
    sign = "\u2212" if fen < 0 else ""  # the page writes a minus sign
    return f"{sign}¥{abs(fen) // 100:,}.{abs(fen) % 100:02d}"


def test_plan(open_page: Any, api: httpx.Client, artifacts: Path) -> None:
    w = open_page()
    page = w.open("#/plan")
    periods = api.get("v1/periods").json()["periods"]
    last = periods[-1]
    assert page.inner_text("[data-testid=members-covered]") == f"{last['body']['members']:,}"
    for p in periods:
        row = page.locator(f"tr[data-period='{p['period']}']")
        for key in ("share_fen", "aid_fen", "fee_fen", "subsidy_fen"):
            assert row.locator(f"td[data-k={key}]").inner_text() == yuan(p["body"][key])
        assert row.locator("td[data-k=members]").inner_text() == f"{p['body']['members']:,}"
    assert set(
        page.locator("tr[data-period]").evaluate_all("els => els.map(e => e.dataset.proof)")
    ) == {"ok"}
    rules = api.get("v1/rules").json()["rules"]
    assert set(
        page.locator("tr[data-version]").evaluate_all("els => els.map(e => e.dataset.proof)")
    ) == {"ok"}
    assert page.locator("[data-testid=rules] tbody tr").count() == len(rules)
    assert page.locator("[data-testid=rules] tr.current").count() == 1
    checkpoint = api.get("v1/checkpoint").text.split("\n")
    assert int(page.inner_text("[data-testid=checkpoint-size]")) >= int(checkpoint[1])
    assert page.locator("figure.chart rect.bar-share").count() == len(periods)
    w.shot(artifacts, "plan")


def test_claims_list_matches_the_api(open_page: Any, api: httpx.Client, artifacts: Path) -> None:
    w = open_page()
    page = w.open("#/claims")
    first = api.get("v1/claims", params={"limit": 50}).json()["claims"]
    assert page.locator("[data-claim-card]").evaluate_all(
        "els => els.map(e => e.dataset.claimCard)"
    ) == [c["claim"] for c in first]
    w.shot(artifacts, "claims")
    page.select_option("select[data-filter=status]", "paid")
    page.wait_for_url("**status=paid**")
    w.ready()
    paid = api.get("v1/claims", params={"status": "paid", "limit": 50}).json()["claims"]
    cards = page.locator("[data-claim-card]")
    assert cards.evaluate_all("els => els.map(e => e.dataset.claimCard)") == [
        c["claim"] for c in paid
    ]
    one = paid[0]
    card = page.locator(f"[data-claim-card='{one['claim']}']")
    assert card.locator("dd[data-k=amount]").inner_text() == yuan(one["disclosure"]["amount_fen"])
    assert "closed" in card.locator(".window").inner_text()
    period = one["paid_period"]
    page.select_option("select[data-filter=period]", period)
    page.wait_for_url(f"**period={period}**")
    w.ready()
    in_period = api.get("v1/claims", params={"status": "paid", "period": period}).json()["claims"]
    assert page.locator("[data-claim-card]").evaluate_all(
        "els => els.map(e => e.dataset.claimCard)"
    ) == [c["claim"] for c in in_period]
    page.select_option("select[data-filter=category]", "accident")
    w.ready()
    expected = api.get(
        "v1/claims", params={"status": "paid", "period": period, "category": "accident"}
    ).json()["claims"]
    assert page.locator("[data-claim-card]").count() == len(expected)


def panel_claim(api: httpx.Client) -> dict[str, Any]:
    """A claim decided by a drawn panel (the demo's overturned denial), with its history."""
    for claim in api.get("v1/claims", params={"limit": 500}).json()["claims"]:
        detail = api.get(f"v1/claims/{claim['claim']}").json()
        if any(step["type"] == "vote.cast" for step in detail["history"]):
            return detail  # type: ignore[no-any-return]
    raise AssertionError("the demo has no claim with votes")


def test_claim_history_matches_the_api_and_verifies(
    open_page: Any, api: httpx.Client, artifacts: Path
) -> None:
    claim = panel_claim(api)
    w = open_page()
    page = w.open(f"#/claim/{claim['claim']}")
    steps = page.locator("ol.history > li")
    assert steps.evaluate_all("els => els.map(e => [Number(e.dataset.seq), e.dataset.type])") == [
        [s["seq"], s["type"]] for s in claim["history"]
    ]
    assert set(steps.evaluate_all("els => els.map(e => e.dataset.proof)")) == {"ok"}
    votes = [s for s in claim["history"] if s["type"] == "vote.cast"]
    assert page.locator("li[data-type='vote.cast'][data-signature=ok]").count() == len(votes)
    assert page.locator("li[data-type='panel.pooled'][data-signature=ok]").count() == 1
    first = claim["history"][0]["seq"]
    link = page.locator(f"li[data-seq='{first}'] a.seq")
    assert link.get_attribute("href") == f"v1/entries?start={first}&end={first + 1}"
    w.shot(artifacts, "claim")


def test_key_page_and_languages(open_page: Any, api: httpx.Client, artifacts: Path) -> None:
    w = open_page()
    page = w.open("#/key")
    assert page.inner_text("[data-testid=pinned-key]") == api.get("v1/log").json()["verifier_key"]
    assert "✓" in page.inner_text("[data-testid=server-key]")
    w.shot(artifacts, "key")
    page.click("button[lang=zh-CN]")
    w.ready()
    assert page.evaluate("document.documentElement.lang") == "zh-CN"
    assert page.inner_text("#nav a[href='#/plan']") == "计划"
    assert page.inner_text("main h1") == "日志公钥"
    page.goto(w.origin + "#/plan")
    w.ready()
    assert "最新检查点" in page.inner_text("main")
    w.shot(artifacts, "plan-zh")
    page.click("button[lang=en]")
    w.ready()
    assert page.inner_text("#nav a[href='#/plan']") == "The plan"


def test_every_view_fits_a_phone(open_page: Any, api: httpx.Client, artifacts: Path) -> None:
    claim = api.get("v1/claims", params={"status": "paid", "limit": 1}).json()["claims"][0]
    w = open_page(viewport=PHONE, locale="zh-CN")
    for name, fragment in [
        ("plan", "#/plan"),
        ("claims", "#/claims"),
        ("claim", f"#/claim/{claim['claim']}"),
        ("statement", f"#/statement?member={claim['member']}&period={claim['paid_period']}"),
        ("key", "#/key"),
    ]:
        page = w.open(fragment)
        if name == "statement":
            page.wait_for_selector("[data-testid=verified]", timeout=60_000)
        assert page.evaluate("document.documentElement.lang") == "zh-CN"
        wide = page.evaluate("document.documentElement.scrollWidth")
        assert wide <= PHONE["width"], f"{name} is {wide} px wide on a {PHONE['width']} px phone"
        w.shot(artifacts, f"phone-{name}")
