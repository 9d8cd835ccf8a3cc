"""``tally serve`` in a child process, for the benchmarks that need a real server."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx


def free_port() -> int:
    """A loopback port nobody listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serving(db_url: str, folder: Path, workers: int = 1, key: Path | None = None) -> Iterator[str]:
    """Serve ``db_url`` (read-only unless the signing ``key`` is given; no rate limit to
    speak of) with ``workers`` processes; yield its base URL."""
    port = free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "ledger.cli",
            "serve",
            "--db",
            db_url,
            "--key",
            str(key or folder / "no-such-key"),
            "--port",
            str(port),
            "--rate-limit",
            "1000000",
            "--workers",
            str(workers),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                httpx.get(f"{base}/healthz", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            raise RuntimeError(f"tally serve did not answer on {base}")
        yield base
    finally:
        server.terminate()
        server.wait(timeout=30)
