"""/docs renders offline; an open objection window counts down on the 公示 list."""

from __future__ import annotations

import base64
import hashlib
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from ledger.demo import demo_member_seed
from ledger.domain.requests import sign_request
from tests.web.live import DEMO_SEED, Demo


def test_docs_render_with_nothing_off_origin(open_page: Any, server: str, artifacts: Path) -> None:
    w = open_page()
    w.page.goto(server + "docs")
    w.page.wait_for_selector(".swagger-ui .opblock", timeout=60_000)
    assert w.page.locator(".opblock-summary-path", has_text="/v1/checkpoint").count() >= 1
    assert any(u.endswith("/docs-assets/swagger-ui-bundle.js") for u in w.requests)
    w.shot(artifacts, "docs")
    # check_clean (at teardown) fails on any request off the origin: no CDN, no fonts.


def disclose_a_claim_now(demo: Demo, api: httpx.Client) -> str:
    """File, assess and disclose a claim at the current time, through the admin API."""
    token = demo.tally("token", "create", "--role", "operator", "--name", "web-test").strip()
    headers = {"Authorization": f"Bearer {token}"}
    claims = api.get("v1/claims", params={"status": "paid", "limit": 500}).json()["claims"]
    member = next(
        c["member"]
        for c in claims
        if api.get(f"v1/members/{c['member']}").json()["left_seq"] is None
    )
    diagnosed = (datetime.now(UTC) - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    doc = base64.b64encode(b"hospital report").decode()
    # The demo's rules require member signatures: the member files, with their demo key.
    origin = api.get("v1/log").json()["origin"]
    body = {
        "member": member,
        "condition": "C50",
        "amount_fen": 1_000_000,
        "diagnosed": diagnosed,
        "evidence_commitment": hashlib.sha256(b"hospital report").hexdigest(),
        "request": 1_000,
    }
    signed = sign_request(demo_member_seed(int(DEMO_SEED), member), origin, "claim.filed", body)
    filed = api.post("v1/requests", json={"type": "claim.filed", "body": signed})
    assert filed.status_code == 201, filed.text
    claim = f"c-{filed.json()['seq']}"
    for step, body in (
        (
            "assess",
            {"decision": "approve", "amount_fen": 1_000_000, "reason": "covered", "report": doc},
        ),
        ("disclose", {}),
    ):
        answer = api.post(f"admin/v1/claims/{claim}/{step}", headers=headers, json=body)
        assert answer.status_code == 201, answer.text
    return str(claim)


def test_an_open_objection_window_counts_down(
    open_page: Any, demo: Demo, api: httpx.Client, artifacts: Path
) -> None:
    claim = disclose_a_claim_now(demo, api)
    w = open_page()
    page = w.open("#/claims?status=disclosed")
    window = page.locator(f"[data-claim-card='{claim}'] .window")
    first = window.inner_text()
    assert re.fullmatch(r"open: closes in 2 d \d\d:\d\d:\d\d", first), first
    page.wait_for_function(
        "([el, was]) => el.textContent !== was", arg=[window.element_handle(), first], timeout=5000
    )
    assert window.inner_text() != first
    w.shot(artifacts, "claims-open-window")
