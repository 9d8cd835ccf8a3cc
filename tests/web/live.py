"""A live ``tally serve`` on a demo ledger, for the browser tests."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

TALLY = [str(Path(sys.executable).parent / "tally")]
DEMO_SEED = "1"


def free_port() -> int:
    """A TCP port on loopback that nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass(frozen=True)
class Demo:
    """The demo ledger: its database URL and key file."""

    db: str
    key: Path

    def tally(self, *args: str) -> str:
        """Run ``tally`` on this ledger; its standard output."""
        done = subprocess.run(
            [*TALLY, "--db", self.db, "--key", str(self.key), *args],
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
        )
        return done.stdout


def build_demo(folder: Path) -> Demo:
    """``tally demo --no-serve`` into ``folder`` (the demo every reader of the README sees)."""
    demo = Demo(f"sqlite:///{folder}/demo.db", folder / "demo.key")
    demo.tally("demo", "--seed", DEMO_SEED, "--no-serve")
    return demo


@contextmanager
def serving(demo: Demo) -> Iterator[str]:
    """``tally serve`` on a free port; yields its base URL (ending in /)."""
    port = free_port()
    log = open(Path(demo.key).parent / f"serve-{port}.log", "wb")  # noqa: SIM115
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    cmd = [*TALLY, "--db", demo.db, "--key", str(demo.key), "serve", "--port", str(port)]
    proc = subprocess.Popen(
        [*cmd, "--rate-limit", "1000"], stdout=log, stderr=subprocess.STDOUT, env=env
    )
    base = f"http://127.0.0.1:{port}/"
    try:
        wait_until_up(base, proc)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def wait_until_up(base: str, proc: subprocess.Popen[bytes] | None = None) -> None:
    """Wait (at most 60 s) until ``base`` answers /healthz and its plan view is replayed."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"the server exited with {proc.returncode}")
        try:
            if httpx.get(base + "v1/stats", timeout=30).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{base} did not come up within 60 s")
