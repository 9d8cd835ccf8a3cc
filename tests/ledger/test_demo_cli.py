"""`tally demo` (what `make demo` runs), on both backends: every address to try and a
member id, each time it runs, and on the port asked for."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

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
