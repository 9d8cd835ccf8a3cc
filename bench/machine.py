"""What the numbers were measured on: CPU, cores, RAM, load, software versions.

Rates from this bench are only comparable between runs on the same machine and
software, so the report carries all of it, including the load average at the
start (other work on the machine skews every number).
"""

from __future__ import annotations

import os
import platform
import sqlite3
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

LIBRARIES = ("sqlalchemy", "sqlmodel", "psycopg", "cryptography", "rfc8785")


@dataclass
class Machine:
    """The machine and software a run measured."""

    started_at: str
    cpu_model: str
    cores: int
    usable_cores: int
    ram_gib: float
    load_average: str
    kernel: str
    python: str
    sqlite: str
    libraries: dict[str, str]
    tally_commit: str


def _read(path: str) -> str:
    try:
        return Path(path).read_text()
    except OSError:
        return ""


def cpu_model() -> str:
    """The first ``model name`` in /proc/cpuinfo."""
    for line in _read("/proc/cpuinfo").splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def ram_gib() -> float:
    """MemTotal from /proc/meminfo, in GiB."""
    for line in _read("/proc/meminfo").splitlines():
        if line.startswith("MemTotal:"):
            return round(int(line.split()[1]) / 1024**2, 1)
    return 0.0


def _library_versions() -> dict[str, str]:
    found = {}
    for name in LIBRARIES:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = "not installed"
    return found


def _commit() -> str:
    root = Path(__file__).resolve().parent.parent
    try:
        head = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return f"{head}{' (modified)' if dirty else ''}"


def describe_machine() -> Machine:
    """Read everything about this machine and its software the report needs."""
    return Machine(
        started_at=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        cpu_model=cpu_model(),
        cores=os.cpu_count() or 0,
        usable_cores=len(os.sched_getaffinity(0)),
        ram_gib=ram_gib(),
        load_average=" ".join(_read("/proc/loadavg").split()[:3]) or "unknown",
        kernel=platform.release(),
        python=platform.python_version(),
        sqlite=sqlite3.sqlite_version,
        libraries=_library_versions(),
        tally_commit=_commit(),
    )
