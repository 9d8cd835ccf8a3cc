"""The members' page, measured in the browser: a busy statement checked, and the first load.

``python -m bench.web`` builds a demo plan with ``--claims`` ordinary claims a period
(so that its busiest period pays about 100), serves it with ``tally serve``, and drives
Debian's chromium (``/usr/bin/chromium``, through Playwright) to:

- open the page on a fresh profile and add up the bytes transferred until the plan
  view has rendered (``transferSize`` of the navigation and every resource: the
  page's own files, then the API's answers it asked for);
- check the statement of a member for the busiest period ``--repeats`` times, each on
  a fresh load of the page, reading the page's own ``performance.now()`` timing of
  the checks (the fetch of the bundle is timed apart).

The numbers, with the machine, are printed, and written with ``--json``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
from pathlib import Path
from typing import Any

import httpx

from bench.machine import describe_machine
from bench.serving import serving
from ledger.demo import build_demo
from ledger.instance import init_ledger

CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
BYTES = """() => {
  const all = [
    ...performance.getEntriesByType("navigation"),
    ...performance.getEntriesByType("resource"),
  ];
  const api = all.filter((e) => new URL(e.name).pathname.startsWith("/v1/"));
  const sum = (xs) => xs.reduce((n, e) => n + e.transferSize, 0);
  return { total: sum(all), page: sum(all) - sum(api), api: sum(api), requests: all.length };
}"""


def build(folder: Path, claims: int, members: int, periods: int) -> str:
    """A demo ledger with ``claims`` ordinary claims a period; its database URL."""
    url = f"sqlite:///{folder}/web.db"
    ledger, _ = init_ledger(
        url, folder / "web.key", "bench.tally.example/log", genesis_time="2025-01-01T00:00:00Z"
    )
    try:
        build_demo(ledger, seed=1, members=members, periods=periods, paid_claims=claims)
        ledger.publisher.publish()
    finally:
        ledger.close()
    return url


def busiest(base: str) -> tuple[str, str, int]:
    """(member, period, claims paid) for the period that paid the most claims."""
    with httpx.Client(base_url=base, timeout=60) as client:
        periods = client.get("/v1/periods").json()["periods"]
        top = max(periods, key=lambda p: len(p["body"]["claims"]))
        claim = client.get("/v1/claims", params={"period": top["period"], "limit": 1}).json()[
            "claims"
        ][0]
        return claim["member"], top["period"], len(top["body"]["claims"])


def measure(base: str, member: str, period: str, repeats: int) -> dict[str, Any]:
    """Drive chromium: first-load bytes, then the statement checked ``repeats`` times."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        context = browser.new_context()
        page = context.new_page()
        page.goto(f"{base}/#/plan")
        page.wait_for_selector("main[data-ready='true'] [data-testid=checkpoint]", timeout=120_000)
        first_load = page.evaluate(BYTES)
        runs = []
        for _ in range(repeats):
            page.goto(f"{base}/#/key")
            page.wait_for_selector("main[data-ready='true']")
            page.goto(f"{base}/#/statement?member={member}&period={period}")
            page.wait_for_selector("[data-testid=verified]", timeout=120_000)
            runs.append(
                {
                    k: float(page.evaluate(f"document.body.dataset.{k}"))
                    for k in ("lastCheckMs", "lastFetchMs")
                }
            )
            checks = int(page.get_attribute("[data-testid=verified]", "data-checks") or 0)
        browser.close()
    verify = [r["lastCheckMs"] for r in runs]
    return {
        "first_load": first_load,
        "statement": {
            "checks": checks,
            "runs_ms": verify,
            "median_ms": statistics.median(verify),
            "min_ms": min(verify),
            "fetch_median_ms": statistics.median(r["lastFetchMs"] for r in runs),
        },
    }


def main(argv: list[str] | None = None) -> int:
    """Build, serve, measure, print."""
    parser = argparse.ArgumentParser(prog="python -m bench.web", description=__doc__)
    parser.add_argument("--claims", type=int, default=97)
    parser.add_argument("--members", type=int, default=5_000)
    parser.add_argument("--periods", type=int, default=11)
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    machine = describe_machine()
    print(machine, flush=True)
    with tempfile.TemporaryDirectory(prefix="tally-bench-web-") as tmp:
        url = build(Path(tmp), args.claims, args.members, args.periods)
        with serving(url, Path(tmp)) as base:
            member, period, paid = busiest(base)
            with httpx.Client(base_url=base, timeout=60) as client:
                bundle = client.get(f"/v1/members/{member}/statement", params={"period": period})
            results = measure(base, member, period, args.repeats)
    results["statement"].update(
        period=period,
        claims_paid=paid,
        entries=len(bundle.json()["entries"]),
        bundle_bytes=len(bundle.content),
    )
    results["machine"] = machine.__dict__
    s, f = results["statement"], results["first_load"]
    print(
        f"statement of {period}: {s['claims_paid']} claims paid, {s['entries']} entries, "
        f"{s['bundle_bytes']:,} bytes, {s['checks']} checks"
    )
    print(
        f"  checked in {s['median_ms']:.1f} ms (median of {len(s['runs_ms'])}; "
        f"min {s['min_ms']:.1f}); fetched in {s['fetch_median_ms']:.1f} ms"
    )
    print(
        f"first load: {f['total']:,} bytes in {f['requests']} requests "
        f"(page {f['page']:,}, API answers {f['api']:,})"
    )
    if args.json is not None:
        args.json.write_text(json.dumps(results, indent=2, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
