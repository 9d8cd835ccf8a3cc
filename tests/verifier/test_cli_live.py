"""``tally-verify`` against a real Tally server: init, checkpoint, audit, dump."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ledger.instance import Ledger
from tests.ledger.tamper import tamper
from tests.verifier.cli_support import AppServer, run, run_json
from tests.verifier.live_log import ORIGIN, app_of, build_log, grow, key_of, serving
from verifier.state import StateDir

TALLY_VERIFY = Path(sys.executable).parent / "tally-verify"


@pytest.fixture
def key_file(tmp_path: Path) -> Path:
    return tmp_path / "log.key"


@pytest.fixture
def ledger(tmp_path: Path, key_file: Path) -> Iterator[Ledger]:
    """A log of 11 entries (genesis and 10)."""
    made = build_log(tmp_path, "log", key_file, entries=10)
    yield made
    made.close()


@pytest.fixture
def server(ledger: Ledger) -> Iterator[AppServer]:
    with serving(ledger) as served:
        yield served


@pytest.fixture
def state(tmp_path: Path) -> Path:
    return tmp_path / "state"


def saved(state: Path) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((state / "state.json").read_text())
    return doc


# -- init ------------------------------------------------------------------------


def test_init_pins_the_given_key(server: AppServer, key_file: Path, state: Path) -> None:
    key = key_of(key_file)
    result = run(state, "init", server.url + "/", "--key", key)
    assert result.exit_code == 0, result.output
    assert "Pinned the key you gave for the log test.example/log" in result.stdout
    assert "11 entries" in result.stdout
    assert "WARNING" not in result.stderr
    doc = saved(state)
    assert doc["url"] == server.url  # the trailing slash is dropped
    assert doc["verifier_key"] == key
    assert doc["trust"] == "pinned"
    assert doc["checkpoint"].startswith(f"{ORIGIN}\n11\n")
    assert doc["audit"] is None


def test_init_without_key_trusts_on_first_use_and_warns(
    server: AppServer, key_file: Path, state: Path
) -> None:
    result = run(state, "init", server.url)
    assert result.exit_code == 0, result.output
    assert "WARNING: key trusted on first use" in result.stderr
    assert "Compare it, character for character" in result.stderr
    assert key_of(key_file) in result.stderr
    assert saved(state)["trust"] == "tofu"

    code, doc = run_json(state, "init", server.url, "--key", key_of(key_file))
    assert code == 0
    assert doc["already_initialised"] is True
    assert saved(state)["trust"] == "pinned"


def test_init_fails_when_the_server_states_another_key(
    server: AppServer, tmp_path: Path, state: Path
) -> None:
    other = build_log(tmp_path, "other", tmp_path / "other.key")
    other.close()
    result = run(state, "init", server.url, "--key", key_of(tmp_path / "other.key"))
    assert result.exit_code == 1, result.output
    assert "Verification failed" in result.stderr
    assert "but the server states" in result.stderr
    assert not (state / "state.json").exists()


def test_init_refuses_another_key_over_a_state_unless_forced(
    server: AppServer, key_file: Path, tmp_path: Path, state: Path
) -> None:
    assert run(state, "init", server.url, "--key", key_of(key_file)).exit_code == 0
    other = build_log(tmp_path, "other", tmp_path / "other.key", entries=3)
    try:
        with serving(other) as other_server:
            refused = run(state, "init", other_server.url)
            assert refused.exit_code == 1, refused.output
            assert "run init again with --force" in refused.stderr
            assert saved(state)["verifier_key"] == key_of(key_file)

            forced = run(state, "init", other_server.url, "--force")
            assert forced.exit_code == 0, forced.output
    finally:
        other.close()
    assert saved(state)["verifier_key"] == key_of(tmp_path / "other.key")
    assert saved(state)["checkpoint"].startswith(f"{ORIGIN}\n4\n")


def test_init_with_a_malformed_key_is_a_usage_error(server: AppServer, state: Path) -> None:
    result = run(state, "init", server.url, "--key", "not-a-key")
    assert result.exit_code == 2
    assert "verifier key must be" in result.stderr


# -- checkpoint --------------------------------------------------------------------


def test_checkpoint_after_growth(
    ledger: Ledger, server: AppServer, key_file: Path, state: Path
) -> None:
    assert run(state, "init", server.url, "--key", key_of(key_file)).exit_code == 0
    same = run(state, "checkpoint")
    assert same.exit_code == 0
    assert same.stdout.strip() == (
        "The log still holds 11 entries, with the same signed root as before."
    )

    grow(ledger, 990)
    result = run(state, "checkpoint")
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == (
        "The log grew from 11 to 1,001 entries without rewriting any of them."
    )
    assert saved(state)["checkpoint"].startswith(f"{ORIGIN}\n1001\n")

    grow(ledger, 1500)
    code, doc = run_json(state, "checkpoint")
    assert code == 0
    assert doc["old_size"] == 1001
    assert doc["new_size"] == 2501
    assert doc["grew"] is True


def test_checkpoint_without_init_is_a_usage_error(state: Path) -> None:
    result = run(state, "checkpoint")
    assert result.exit_code == 2
    assert "run `tally-verify init URL` first" in result.stderr


# -- audit -----------------------------------------------------------------------


def test_audit_full_then_resumed(
    ledger: Ledger, server: AppServer, key_file: Path, state: Path
) -> None:
    grow(ledger, 2490)  # 2,501 entries: three pages
    assert run(state, "init", server.url, "--key", key_of(key_file)).exit_code == 0
    result = run(state, "audit")
    assert result.exit_code == 0, result.output
    assert "Replayed all 2,501 entries from genesis" in result.stdout
    assert saved(state)["audit"]["next_seq"] == 2501

    grow(ledger, 20)
    code, doc = run_json(state, "audit")
    assert code == 0, doc
    assert (doc["start_seq"], doc["entries_checked"], doc["tree_size"]) == (2501, 20, 2521)
    assert doc["checkpoint_grew"] is True

    code, doc = run_json(state, "audit", "--from-start")
    assert code == 0, doc
    assert (doc["start_seq"], doc["entries_checked"]) == (0, 2521)


def fail_once(app: Any, path: str, query: bytes) -> Any:
    """Wrap an ASGI app so that the first request for ``path`` with ``query`` gets a 503."""
    failed = False

    async def wrapped(scope: Any, receive: Any, send: Any) -> None:
        nonlocal failed
        if (
            scope["type"] == "http"
            and not failed
            and scope["path"] == path
            and query in scope["query_string"]
        ):
            failed = True
            await send(
                {
                    "type": "http.response.start",
                    "status": 503,
                    "headers": [(b"content-type", b"application/problem+json")],
                }
            )
            await send({"type": "http.response.body", "body": b'{"detail": "store down"}'})
            return
        await app(scope, receive, send)

    return wrapped


def test_audit_resumes_after_an_interruption(
    ledger: Ledger, server: AppServer, key_file: Path, state: Path
) -> None:
    """A server error on the second page: exit 4, the first page is kept, the rerun resumes."""
    grow(ledger, 2490)
    assert run(state, "init", server.url, "--key", key_of(key_file)).exit_code == 0
    server.app = fail_once(app_of(ledger), "/v1/entries", b"start=1000")
    result = run(state, "audit")
    assert result.exit_code == 4, result.output
    assert "store down" in result.stderr
    assert saved(state)["audit"]["next_seq"] == 1000

    code, doc = run_json(state, "audit")
    assert code == 0, doc
    assert (doc["start_seq"], doc["entries_checked"]) == (1000, 1501)
    assert saved(state)["audit"]["next_seq"] == 2501


def test_audit_log_only_online_leaves_the_resume_point_alone(
    ledger: Ledger, server: AppServer, key_file: Path, state: Path
) -> None:
    grow(ledger, 2490)
    assert run(state, "init", server.url, "--key", key_of(key_file)).exit_code == 0
    code, doc = run_json(state, "audit", "--log-only")
    assert code == 0, doc
    assert (doc["mode"], doc["entries_checked"], doc["tree_size"]) == ("log-only", 2501, 2501)
    assert saved(state)["audit"] is None  # a later full audit still checks every entry
    code, doc = run_json(state, "audit")
    assert code == 0, doc
    assert doc["entries_checked"] == 2501


@pytest.mark.parametrize("mode", [[], ["--log-only"]], ids=["full", "log-only"])
def test_an_entry_altered_in_the_database_is_named(
    ledger: Ledger, server: AppServer, key_file: Path, state: Path, mode: list[str]
) -> None:
    """The operator edits entry 4 behind the triggers' back; the signed root stays."""
    assert run(state, "init", server.url, "--key", key_of(key_file)).exit_code == 0
    ((_, raw),) = ledger.log.entries(4, 5)
    altered = raw.replace(b'"age_band":"0-39"', b'"age_band":"40-59"', 1)
    assert altered != raw
    tamper(ledger.store, "UPDATE entry SET data = :data WHERE seq = 4", {"data": altered})
    code, doc = run_json(state, "audit", *mode)
    assert code == 1, doc
    seqs = [v["seq"] for v in doc["violations"]]
    assert seqs == [5, None]  # entry 5 no longer chains to entry 4; the root differs
    assert "SHA-256 of entry 4" in doc["violations"][0]["message"]


def altered_body(app: Any, path_prefix: str) -> Any:
    """Wrap an ASGI app so that answers under ``path_prefix`` have their last byte flipped."""

    async def wrapped(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(path_prefix):
            await app(scope, receive, send)
            return

        async def flipping(message: Any) -> None:
            if message["type"] == "http.response.body" and message.get("body"):
                body = bytearray(message["body"])
                body[-1] ^= 1
                message = {**message, "body": bytes(body)}
            await send(message)

        await app(scope, receive, flipping)

    return wrapped


@pytest.mark.parametrize("mode", [[], ["--log-only"]], ids=["full", "log-only"])
def test_audit_from_the_tiles(
    ledger: Ledger, server: AppServer, key_file: Path, state: Path, mode: list[str]
) -> None:
    grow(ledger, 600)  # 611 entries: full and partial tiles at levels 0 and 1
    assert run(state, "init", server.url, "--key", key_of(key_file)).exit_code == 0
    code, doc = run_json(state, "audit", "--tiles", *mode)
    assert code == 0, doc
    assert (doc["read_from"], doc["entries_checked"]) == ("tiles", 611)
    assert "C2SP tiles" in run(state, "audit", "--tiles", *mode).stdout

    # Hash tiles that disagree with the signed root, behind honest entry bundles.
    server.app = altered_body(app_of(ledger), "/tile/1/")
    code, doc = run_json(state, "audit", "--tiles", *mode)
    assert code == 1, doc
    assert "hash tiles give the root" in doc["violations"][-1]["message"]

    # An entry bundle with a changed entry: the chain breaks after it.
    server.app = altered_body(app_of(ledger), "/tile/entries/001")
    code, doc = run_json(state, "audit", "--tiles", *mode, *([] if mode else ["--from-start"]))
    assert code == 1, doc
    assert doc["violations"][0]["seq"] in (511, 512)


def test_audit_of_another_url_of_the_same_log(
    ledger: Ledger, server: AppServer, key_file: Path, state: Path
) -> None:
    """A mirror of the same log is checked with the pinned key; the saved URL is kept."""
    assert run(state, "init", server.url, "--key", key_of(key_file)).exit_code == 0
    with serving(ledger) as mirror:
        code, doc = run_json(state, "audit", mirror.url)
    assert code == 0, doc
    assert doc["source"] == mirror.url
    assert saved(state)["url"] == server.url


# -- dump and offline audit -----------------------------------------------------------


def test_dump_then_audit_the_dump_offline(
    ledger: Ledger, server: AppServer, key_file: Path, state: Path, tmp_path: Path
) -> None:
    grow(ledger, 1200)
    key = key_of(key_file)
    assert run(state, "init", server.url, "--key", key).exit_code == 0
    folder = tmp_path / "dump"
    result = run(state, "dump", str(folder))
    assert result.exit_code == 0, result.output
    assert "Saved and checked all 1,211 entries" in result.stdout
    lines = (folder / "entries.jsonl").read_text().splitlines()
    assert len(lines) == 1211
    assert json.loads(lines[5])["seq"] == 5
    assert (folder / "checkpoint").read_text() == saved(state)["checkpoint"]
    assert saved(state)["audit"]["next_seq"] == 1211

    offline = run(state, "audit", "--dir", str(folder))
    assert offline.exit_code == 0, offline.output
    assert "Replayed all 1,211 entries from genesis" in offline.stdout
    assert "It is exactly the tree of your saved checkpoint." in offline.stdout

    # An auditor with no state of their own, given the key.
    code, doc = run_json(tmp_path / "auditor", "audit", "--dir", str(folder), "--key", key)
    assert code == 0, doc
    assert doc["entries_checked"] == 1211

    # Dumping again over it needs --force.
    again = run(state, "dump", str(folder))
    assert again.exit_code == 2
    assert "--force" in again.stderr
    assert run(state, "dump", str(folder), "--force").exit_code == 0


def test_audit_dir_names_a_tampered_entry(
    server: AppServer, key_file: Path, state: Path, tmp_path: Path
) -> None:
    assert run(state, "init", server.url, "--key", key_of(key_file)).exit_code == 0
    folder = tmp_path / "dump"
    assert run(state, "dump", str(folder)).exit_code == 0
    path = folder / "entries.jsonl"
    lines = path.read_text().splitlines()
    line = json.loads(lines[4])
    raw = base64.b64decode(line["leaf"]).replace(b'"age_band":"0-39"', b'"age_band":"40-59"')
    line["leaf"] = base64.b64encode(raw).decode()
    lines[4] = json.dumps(line)
    path.write_text("\n".join(lines) + "\n")

    code, doc = run_json(state, "audit", "--dir", str(folder))
    assert code == 1
    seqs = [v["seq"] for v in doc["violations"]]
    assert seqs == [5, None]  # entry 5's prev no longer matches entry 4; and the root
    assert "SHA-256 of entry 4" in doc["violations"][0]["message"]


def test_audit_dir_without_key_or_state_is_a_usage_error(tmp_path: Path) -> None:
    folder = tmp_path / "dump"
    folder.mkdir()
    (folder / "checkpoint").write_text("x")
    (folder / "entries.jsonl").write_text("")
    result = run(tmp_path / "state", "audit", "--dir", str(folder))
    assert result.exit_code == 2
    assert "pass --key" in result.stderr


# -- the installed command -------------------------------------------------------------


def test_installed_command_runs_and_documents_exit_codes(
    server: AppServer, key_file: Path, state: Path
) -> None:
    shown = subprocess.run(
        [str(TALLY_VERIFY), "--help"], capture_output=True, text=True, timeout=30, check=False
    )
    assert shown.returncode == 0
    for code in ("0 ", "1 ", "2 ", "3 ", "4 "):
        assert f"\n    {code}" in shown.stdout
    assert "fork" in shown.stdout

    args = [str(TALLY_VERIFY), "--state", str(state)]
    made = subprocess.run(
        [*args, "init", server.url, "--key", key_of(key_file)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert made.returncode == 0, made.stderr
    down = subprocess.run(
        [*args, "--timeout", "1", "audit", "http://127.0.0.1:9"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert down.returncode == 4
    assert "could not connect" in down.stderr
    assert "Traceback" not in down.stderr


def test_state_dir_from_the_environment(
    server: AppServer, key_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TALLY_VERIFY_STATE", str(tmp_path / "env-state"))
    from click.testing import CliRunner

    from verifier.cli import cli

    result = CliRunner().invoke(cli, ["init", server.url, "--key", key_of(key_file)])
    assert result.exit_code == 0, result.output
    assert StateDir(tmp_path / "env-state").load() is not None
