"""Every command the README suggests, run as printed.

The README's ``sh`` blocks are commands to run (``text`` blocks show syntax). This
test does what a newcomer does: in a fresh folder holding the project's Makefile,
pyproject.toml and .venv, it starts ``make demo`` (in the background, as in a first
terminal) and runs every other block in order in one shell (a second terminal).
Three things differ from a newcomer's machine, and only these: the demo's port
(8000 may be taken where tests run), the verifier's state folder
(``TALLY_VERIFY_STATE``, so that the user's own is not touched), and ``make`` is told
not to reinstall the project, which this suite already runs in. ``make test`` is not
run: it is this suite.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.test_deploy import wait_for
from tests.test_end_to_end import free_port

README = (REPO / "README.md").read_text()
BLOCKS = re.findall(r"^```sh\n(.*?)^```$", README, flags=re.DOTALL | re.MULTILINE)
MARK = "@@@ block"


def test_the_readme_has_its_blocks() -> None:
    assert BLOCKS[0].splitlines()[0].startswith("make demo")
    assert BLOCKS[0].splitlines()[1].startswith("make test")
    assert len(BLOCKS) >= 7
    assert not re.search(r"^```(bash|shell|console)$", README, flags=re.MULTILINE)


@pytest.mark.slow
def test_every_command_in_the_readme_runs_as_printed(tmp_path: Path) -> None:
    for name in ("Makefile", "pyproject.toml", ".venv"):
        (tmp_path / name).symlink_to(REPO / name)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("TALLY_")}
    env["TALLY_VERIFY_STATE"] = str(tmp_path / "verifier-state")

    def ours(text: str) -> str:
        return text.replace("127.0.0.1:8000", f"127.0.0.1:{port}")

    demo = subprocess.Popen(
        # -o: the project is installed already (this suite runs in it); never reinstall.
        ["make", "-o", ".venv/.installed-stamp", "demo", f"PORT={port}"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        wait_for(f"http://127.0.0.1:{port}/healthz", tries=1200)
        script = "set -eu\n" + "".join(
            f"echo '{MARK} {n}'\n{ours(block)}" for n, block in enumerate(BLOCKS[1:], start=1)
        )
        ran = subprocess.run(
            ["bash", "-c", script],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert ran.returncode == 0, (ran.stdout[-3000:], ran.stderr[-3000:])
    finally:
        demo.terminate()
        out, _ = demo.communicate(timeout=30)
    assert re.search(
        rf"Serving the demo log localhost/tally \([0-9,]+ entries\) at http://127.0.0.1:{port}\n",
        out,
    ), out[-2000:]
    assert "A member to try: m-" in out
    outputs = dict(
        (int(part.split("\n", 1)[0]), part.split("\n", 1)[1])
        for part in ran.stdout.split(MARK + " ")[1:]
    )
    expect(outputs, tmp_path)


def expect(outputs: dict[int, str], folder: Path) -> None:
    """What each block shows when it worked (curl answers 0 even to an error)."""
    joined = "\n".join(outputs.values())
    assert '"origin":"localhost/tally"' in joined  # GET /v1/log
    assert '"tree_size":5001' in joined  # the inclusion proof asked for
    statement = json.loads((folder / "statement.json").read_text())
    assert statement["contributions"], statement
    assert re.search(r"All \d+ checks passed\.", joined)  # tally-verify statement
    rehearsal = next(o for o in outputs.values() if "rehearsal.example/plan is ready" in o)
    assert re.search(r"Paid c-\d+: 25,000.00 yuan \(2,500,000 fen\) to m-", rehearsal)
    assert "Closed 2025-01a" in rehearsal
    assert "OK: the plan's rules hold" in rehearsal
    history = next(o for o in outputs.values() if "history.example/plan is ready" in o)
    assert "from 2024-01-01T00:00:00Z" in history
    assert "Closed 2024-01a" in history
    admin = next(o for o in outputs.values() if "readme-join" in o or '"receipt"' in o)
    answers = [line for line in admin.splitlines() if line.startswith("{")]
    assert len(answers) == 2
    assert answers[0] == answers[1]
    assert json.loads(answers[0])["member"].startswith("m-")
