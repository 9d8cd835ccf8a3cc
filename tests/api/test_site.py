"""The members' page as files: served at / with the API around it, exported, self-contained.

The page's behaviour is tested in a real browser (tests/web/); these tests need none.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from api.app import create_app
from api.site import WWW, SiteExportError, export_site, site_files
from ledger.cli import EXIT_REFUSED, main
from ledger.instance import init_ledger

IMPORT = re.compile(
    r"""(?:^|\n)\s*(?:import|export)\s[^;]*?\sfrom\s+["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)"""
)


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    folder = tmp_path_factory.mktemp("site")
    ledger, _ = init_ledger(f"sqlite:///{folder}/s.db", folder / "s.key", "site.example/log")
    try:
        with TestClient(create_app(ledger.store)) as test_client:
            yield test_client
    finally:
        ledger.close()


def test_the_page_is_served_at_the_root(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert page.text == (WWW / "index.html").read_text()
    for rel in site_files():
        if rel.parts[0] == "site":
            answer = client.get("/" + rel.as_posix())
            assert answer.status_code == 200, rel
            assert answer.content == (WWW / rel).read_bytes()
            assert answer.headers["cache-control"] == "no-cache"
    assert client.get("/site/js/main.js").headers["content-type"].startswith("text/javascript")
    assert client.get("/site/../api/app.py").status_code == 404
    assert client.get("/site/nothing.js").status_code == 404
    assert client.get("/v1/log").status_code == 200


def test_docs_need_no_cdn(client: TestClient) -> None:
    docs = client.get("/docs").text
    urls = re.findall(r"""(?:src|href)=["']([^"']+)["']""", docs) + re.findall(
        r"""url: ['"]([^'"]+)""", docs
    )
    assert urls
    for url in urls:
        assert url.startswith("/"), url
        assert client.get(url).status_code == 200, url
    assert "cdn" not in docs.lower()
    assert client.get("/redoc").status_code == 404


def test_the_page_asks_only_its_own_origin() -> None:
    for rel in site_files():
        text = (WWW / rel).read_text(encoding="utf-8")
        assert not re.search(r"https?://", text.replace("http://www.w3.org/2000/svg", "")), rel
        if rel.suffix != ".js":
            continue
        for a, b in IMPORT.findall(text):
            spec = a or b
            assert spec.startswith(("./", "../")), f"{rel} imports {spec}"
            target = ((WWW / rel).parent / spec).resolve()
            assert target.is_file(), f"{rel} imports {spec}"
            assert (WWW / "site" / "js") in target.parents, f"{rel} imports {spec}"


def test_export_writes_the_site_and_refuses_a_folder_in_use(tmp_path: Path) -> None:
    written = export_site(tmp_path / "out")
    assert written == site_files()
    for rel in written:
        assert (tmp_path / "out" / rel).read_bytes() == (WWW / rel).read_bytes()
    with pytest.raises(SiteExportError, match="new or empty folder"):
        export_site(tmp_path / "out")
    with pytest.raises(SiteExportError, match="to exist"):
        export_site(tmp_path / "missing" / "out")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_site_export_command(tmp_path: Path) -> None:
    runner = CliRunner()
    done = runner.invoke(main, ["site", "export", str(tmp_path / "www")])
    assert done.exit_code == 0, done.output
    assert "Wrote the members' page" in done.output
    assert (tmp_path / "www" / "index.html").is_file()
    again = runner.invoke(main, ["site", "export", str(tmp_path / "www")])
    assert again.exit_code == EXIT_REFUSED
    assert "new or empty folder" in again.output
