"""Browser tests of the members' page: Playwright driving Debian's chromium.

One demo ledger (``tally demo --seed 1``) is built per session and served by a live
``tally serve``; every page opened records each request it makes and each console
message, and a test fails if any request leaves the log's own origin or anything is
logged as an error. Screenshots go to ``test-artifacts/web/`` (printed at the end).
Playwright never downloads a browser here: it launches ``/usr/bin/chromium``, and
without it the tests skip, except under ``CI=true``, where they fail.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import REPO
from tests.web.live import Demo, build_demo, serving

CHROMIUM = Path(os.environ.get("TALLY_CHROMIUM", "/usr/bin/chromium"))
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = REPO / "test-artifacts" / "web"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}

os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Keep every browser test on one xdist worker (they share one demo and server)."""
    for item in items:
        if "tests/web/" in str(item.path).replace(os.sep, "/"):
            item.add_marker(pytest.mark.xdist_group("web"))
            item.add_marker(pytest.mark.browser)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Say where the screenshots are."""
    if ARTIFACTS.is_dir() and any(ARTIFACTS.iterdir()):
        terminalreporter.write_line(f"Screenshots of the members' page: {ARTIFACTS}")


@pytest.fixture(scope="session")
def chromium() -> Path:
    """Debian's chromium, or a skip (a failure under CI=true)."""
    if not os.access(CHROMIUM, os.X_OK):
        reason = f"chromium not found at {CHROMIUM} (apt-get install chromium; .ci/run does)"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    return CHROMIUM


@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    """The demo ledger, built once per session."""
    return build_demo(tmp_path_factory.mktemp("web-demo"))


@pytest.fixture(scope="session")
def server(demo: Demo) -> Iterator[str]:
    """A live ``tally serve`` of the demo; its base URL."""
    with serving(demo) as base:
        yield base


@pytest.fixture(scope="session")
def api(server: str) -> Iterator[httpx.Client]:
    """An HTTP client of the live server."""
    with httpx.Client(base_url=server, timeout=30) as client:
        yield client


@pytest.fixture(scope="session")
def browser(chromium: Path) -> Iterator[Any]:
    """Chromium, launched by Playwright with a fresh profile of its own."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=str(chromium), args=FLAGS, headless=True)
        yield launched
        launched.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """The screenshot folder, emptied once per session."""
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    ARTIFACTS.mkdir(parents=True)
    return ARTIFACTS


@dataclass
class Watched:
    """A page, with every request it made and every console error it logged."""

    page: Any
    origin: str
    requests: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def open(self, fragment: str) -> Any:
        """Go to the page at ``fragment`` and wait until its view has rendered anew."""
        target = self.origin + fragment
        if self.page.url.startswith(self.origin):
            self.page.evaluate("document.querySelector('main').dataset.ready = 'stale'")
        if self.page.url == target:
            self.page.reload()
        else:
            self.page.goto(target)
        return self.ready()

    def ready(self) -> Any:
        """Wait for the current view to finish rendering."""
        self.page.wait_for_selector("main[data-ready='true']", timeout=60_000)
        return self.page

    def shot(self, folder: Path, name: str) -> None:
        """Save a full-page screenshot."""
        self.page.screenshot(path=str(folder / f"{name}.png"), full_page=True)

    def check_clean(self) -> None:
        """No request off the log's origin, and no console error."""
        off = [u for u in self.requests if not u.startswith((self.origin, f"blob:{self.origin}"))]
        assert off == [], f"requests off the log's origin: {off}"
        assert self.errors == [], f"console errors: {self.errors}"


def watch(context: Any, origin: str) -> Watched:
    """A new page in ``context`` whose requests and console errors are recorded."""
    page = context.new_page()
    watched = Watched(page, origin)
    page.on("request", lambda r: watched.requests.append(r.url))
    page.on("console", lambda m: watched.errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: watched.errors.append(str(e)))
    return watched


@pytest.fixture
def open_page(browser: Any, server: str) -> Iterator[Any]:
    """``open_page(viewport=..., origin=...)``: a page on a fresh profile, checked at the end."""
    opened: list[tuple[Any, Watched]] = []

    def make(
        viewport: dict[str, int] = DESKTOP, origin: str = server, locale: str = "en-US"
    ) -> Watched:
        context = browser.new_context(viewport=viewport, locale=locale)
        watched = watch(context, origin)
        opened.append((context, watched))
        return watched

    yield make
    for context, _ in opened:
        context.close()
    for _, watched in opened:
        watched.check_clean()
