"""The deployment files in deploy/: the systemd unit is valid, and nginx with the given
configuration proxies the server and serves the log's tiles from its cache.

Each runs the real tool (systemd-analyze, nginx) when the machine has it (.ci/run
installs nginx); the configuration is used as shipped, with only the addresses, the
cache folder and the certificates swapped for a test's.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from ledger.instance import init_ledger
from ledger.log.log import NewEntry
from tests.conftest import REPO
from tests.test_end_to_end import free_port

UNIT = REPO / "deploy" / "systemd" / "tally.service"
NGINX_CONF = REPO / "deploy" / "nginx" / "tally.conf"


def tool(name: str) -> str:
    found = shutil.which(name) or next(
        (str(p) for p in (Path("/usr/sbin") / name, Path("/sbin") / name) if p.exists()), None
    )
    if found is None:
        pytest.skip(f"{name} is not installed here")
    return found


def test_the_systemd_unit_is_valid(tmp_path: Path) -> None:
    analyze = tool("systemd-analyze")
    text = UNIT.read_text()
    assert "ExecStart=/opt/tally/.venv/bin/tally serve --host 127.0.0.1 --port 8000" in text
    assert "LoadCredential=tally.key:/etc/tally/tally.key" in text
    # The program must exist for systemd to accept the unit: point it at this one.
    unit = tmp_path / "tally.service"
    unit.write_text(
        text.replace("/opt/tally/.venv/bin/tally", str(Path(sys.executable).parent / "tally"))
    )
    result = subprocess.run([analyze, "verify", str(unit)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "tally.service" not in result.stderr, result.stderr


@pytest.fixture
def served(tmp_path: Path) -> Iterator[int]:
    """`tally serve` on a log of 300 entries (one full tile, one partial)."""
    db = f"sqlite:///{tmp_path}/tally.db"
    ledger, _ = init_ledger(db, tmp_path / "tally.key", "deploy.example/log")
    ledger.log.append_batch([NewEntry("demo.note", "operator", {"n": n}) for n in range(299)])
    ledger.publisher.publish()
    ledger.close()
    port = free_port()
    server = subprocess.Popen(
        [
            *(sys.executable, "-m", "ledger.cli", "--db", db),
            *("--key", str(tmp_path / "tally.key"), "serve", "--port", str(port)),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(f"http://127.0.0.1:{port}/healthz")
        yield port
    finally:
        server.terminate()
        server.wait(timeout=30)


def wait_for(url: str, tries: int = 200) -> None:
    """Until ``url`` answers (anything but a 5xx), polling every 50 ms."""
    for _ in range(tries):
        try:
            if httpx.get(url, timeout=2).status_code < 500:
                return
        except httpx.TransportError:
            time.sleep(0.05)
    raise AssertionError(f"nothing answered at {url}")


@pytest.mark.slow
def test_nginx_serves_the_tiles_from_its_cache(tmp_path: Path, served: int) -> None:
    nginx = tool("nginx")
    front, redirect = free_port(), free_port()
    cache = tmp_path / "cache"
    cache.mkdir()
    conf = (
        NGINX_CONF.read_text()
        .replace("/var/cache/nginx/tally", str(cache))
        .replace("127.0.0.1:8000", f"127.0.0.1:{served}")
        .replace("listen 443 ssl http2;", f"listen 127.0.0.1:{front};")
        .replace("listen 80;", f"listen 127.0.0.1:{redirect};")
    )
    conf = "\n".join(
        line
        for line in conf.splitlines()
        if "ssl_certificate" not in line and "listen [::]" not in line
    )
    (tmp_path / "tally.conf").write_text(conf)
    (tmp_path / "logs").mkdir()
    (tmp_path / "nginx.conf").write_text(
        ""
        # Run as root, nginx's workers would be "nobody", who cannot enter tmp_path.
        + ("user root;\n" if os.geteuid() == 0 else "")
        + "daemon off;\nworker_processes 1;\n"
        f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/logs/error.log;\n"
        "events { worker_connections 64; }\n"
        f"http {{ access_log off; client_body_temp_path {tmp_path}/body;\n"
        f"proxy_temp_path {tmp_path}/proxy;\ninclude {tmp_path}/tally.conf; }}\n"
    )
    checked = subprocess.run(
        [nginx, "-t", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")],
        capture_output=True,
        text=True,
    )
    assert checked.returncode == 0, checked.stderr
    proxy = subprocess.Popen(
        [nginx, "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        base, direct = f"http://127.0.0.1:{front}", f"http://127.0.0.1:{served}"
        wait_for(f"{base}/healthz")
        for path in ("/tile/0/000", "/tile/0/001.p/44", "/tile/entries/000"):
            first = httpx.get(base + path)
            again = httpx.get(base + path)
            assert first.status_code == 200, (path, first.text)
            assert first.content == again.content == httpx.get(direct + path).content
            assert (first.headers["X-Cache-Status"], again.headers["X-Cache-Status"]) == (
                "MISS",
                "HIT",
            ), path
        assert httpx.get(base + "/checkpoint").text == httpx.get(direct + "/checkpoint").text
        assert httpx.get(base + "/v1/log").json()["tree_size"] == 300
        # The admin API is passed through, uncached: its gate answers.
        assert httpx.post(base + "/admin/v1/periods/close").status_code == 401
        assert httpx.get(base + "/metrics").status_code == 403
        moved = httpx.get(f"http://127.0.0.1:{redirect}/v1/log")
        assert moved.status_code == 301
    finally:
        proxy.terminate()
        proxy.wait(timeout=30)
