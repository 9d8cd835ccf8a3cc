"""The verifier installs on its own: its wheel holds only verifier/ and needs four libraries."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from email.parser import Parser
from pathlib import Path

VERIFIER = Path(__file__).resolve().parents[2] / "verifier"


def test_the_verifier_wheel_stands_alone(tmp_path: Path) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
            str(VERIFIER),
        ],
        check=True,
    )
    (wheel,) = tmp_path.glob("tally_verify-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        metadata = next(n for n in names if n.endswith("METADATA"))
        meta = Parser().parsestr(archive.read(metadata).decode())
        entry_points = archive.read(
            next(n for n in names if n.endswith("entry_points.txt"))
        ).decode()
    code = [n for n in names if not n.startswith("tally_verify-")]
    assert code
    assert all(n.startswith("verifier/") for n in code), code
    assert "verifier/cli.py" in code
    assert "verifier/plan/state.py" in code
    requires = sorted(
        r.split(">")[0].split("=")[0].strip() for r in meta.get_all("Requires-Dist") or []
    )
    assert requires == ["click", "cryptography", "httpx", "rich"]
    assert "tally-verify = verifier.cli:main" in entry_points
