"""`tally demo` (what `make demo` runs), on both backends: every address to try and a
member id, each time it runs, and on the port asked for."""

from __future__ import annotations

import base64
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from ledger.cli import main
from tests.test_deploy import wait_for
from tests.test_end_to_end import free_port


def serve_demo(db: str, key: Path, port: int) -> str:
    """Run the demo until it says it serves; check it answers; stop it; its output."""
    process = subprocess.Popen(
        [
            *(sys.executable, "-m", "ledger.cli", "--db", db, "--key", str(key), "demo"),
            *("--members", "200", "--periods", "3", "--port", str(port)),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    lines = []
    try:
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line)
            if line.startswith("Press Ctrl+C"):
                break
        for _ in range(100):
            try:
                assert httpx.get(f"http://127.0.0.1:{port}/v1/log", timeout=2).status_code == 200
                break
            except httpx.TransportError:
                time.sleep(0.1)
    finally:
        process.terminate()
        process.wait(timeout=30)
        assert process.stdout is not None
        process.stdout.close()
    return "".join(lines)


@pytest.mark.slow
def test_the_demo_says_where_to_look_every_time(db_url: str, tmp_path: Path) -> None:
    key = tmp_path / "demo.key"
    for run in ("built now", "built before"):
        port = free_port()
        out = serve_demo(db_url, key, port)
        base = f"http://127.0.0.1:{port}"
        assert f"at {base}" in out, (run, out)
        member = re.search(r"A member to try: (m-[0-9a-f]{20})", out)
        assert member is not None, (run, out)
        for address in (
            f"curl {base}/v1/log",
            f"curl {base}/checkpoint",
            f"open {base}/docs",
            f"curl '{base}/v1/members/{member.group(1)}/statement'",
            f"tally-verify statement --member {member.group(1)}",
            "plan status",
        ):
            assert address in out, (run, address, out)
        if run == "built before":
            assert "already holds a log" in out


@pytest.mark.slow
def test_a_server_on_a_simulated_clock_dates_its_writes_by_it(db_url: str, tmp_path: Path) -> None:
    key = tmp_path / "k.key"
    base = ["--db", db_url, "--key", str(key)]
    env = {"TALLY_CLOCK": "2026-01-01T00:00:00Z"}

    def tally(*args: str, clock: str = "2026-01-01T00:00:00Z") -> str:
        result = CliRunner().invoke(main, [*base, *args], env={"TALLY_CLOCK": clock})
        assert result.exit_code == 0, result.output
        return result.stdout

    tally("init")
    rules = tmp_path / "rules.json"
    rules.write_text(
        tally(
            "rules",
            "reference",
            "--effective",
            env["TALLY_CLOCK"],
            "--member-signatures",
            "optional",
        )
    )
    tally("rules", "announce", str(rules))
    token = tally("token", "create", "--role", "operator", "--name", "rehearsal").strip()
    port = free_port()
    server = subprocess.Popen(
        [
            *(sys.executable, "-m", "ledger.cli", *base, "--clock", "2026-06-01T00:00:00Z"),
            *("serve", "--port", str(port)),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(f"http://127.0.0.1:{port}/healthz")
        joined = httpx.post(
            f"http://127.0.0.1:{port}/admin/v1/members",
            json={"age_band": "0-39", "identity": {"name": "Wu"}},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert joined.status_code == 201, joined.text
        entry = httpx.get(
            f"http://127.0.0.1:{port}/v1/entries",
            params={"start": joined.json()["seq"], "end": joined.json()["seq"] + 1},
        ).json()["entries"][0]
        raw = base64.b64decode(entry["leaf"])
        assert b'"time":"2026-06-01T00:00:00Z"' in raw
    finally:
        server.terminate()
        server.wait(timeout=30)
