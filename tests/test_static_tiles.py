"""`tally tiles export DIR` on both backends: a static copy of the log that audits.

The folder is served by the standard library's plain file server, which knows
nothing of the log, and ``tally-verify audit --tiles`` is pointed at it. Exports are
incremental: a second one writes only the tiles the log's growth made, never a full
tile again, and the checkpoint last.
"""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result
from fastapi.testclient import TestClient

from api.app import create_app
from ledger.cli import EXIT_REFUSED, main
from ledger.instance import Ledger
from ledger.log.tiles import parse_tile_path, tile_path
from ledger.publish.checkpoint import Checkpoint
from ledger.publish.note import sign_note
from ledger.publish.static_tiles import export_tiles, tiles_for
from tests.verifier.cli_support import run_json
from tests.verifier.live_log import grow, key_of, serving


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *_: Any) -> None:
        """No access log on the test's output."""


@contextmanager
def static_server(folder: Path) -> Iterator[str]:
    """A plain static file server for ``folder`` on loopback; yields its base URL."""
    handler = functools.partial(_Quiet, directory=str(folder))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def export(db_url: str, folder: Path) -> Result:
    """Run ``tally tiles export FOLDER`` against ``db_url``."""
    return CliRunner().invoke(main, ["--db", db_url, "tiles", "export", str(folder)])


def files_of(folder: Path) -> dict[str, int]:
    """Every file under ``folder`` (relative path: inode), temporary ones included."""
    return {str(p.relative_to(folder)): p.stat().st_ino for p in folder.rglob("*") if p.is_file()}


def test_export_is_what_the_server_serves_and_audits(
    ledger: Ledger, db_url: str, key_path: Path, tmp_path: Path
) -> None:
    grow(ledger, 610)  # 611 entries: full and partial tiles at levels 0 and 1
    out = tmp_path / "www"
    done = export(db_url, out)
    assert done.exit_code == 0, done.output
    assert "Exported the checkpoint of 611 entries" in done.output
    first = files_of(out)
    # Exactly the tiles of 611 entries, each byte for byte as the server serves it.
    expected = {"checkpoint"} | set(_paths(611))
    assert set(first) == expected
    client = TestClient(create_app(ledger.store))
    for path in first:
        assert (out / path).read_bytes() == client.get("/" + path).content, path

    state = tmp_path / "state"
    with serving(ledger) as api:
        assert run_json(state, "init", api.url, "--key", key_of(key_path))[0] == 0
    with static_server(out) as url:
        code, doc = run_json(state, "audit", url, "--tiles")
        assert code == 0, doc
        assert (doc["read_from"], doc["entries_checked"]) == ("tiles", 611)

        # The log grows past a full tile; the next export adds only what is new.
        grow(ledger, 300)  # 911 entries
        again = export(db_url, out)
        assert again.exit_code == 0, again.output
        second = files_of(out)
        assert not any(name.rsplit("/", 1)[-1].startswith(".tmp-") for name in second)
        full_before = {p for p in first if p != "checkpoint" and ".p/" not in p}
        assert all(second[p] == first[p] for p in full_before)  # never rewritten
        new = set(second) - set(first)
        assert new == set(_paths(911, since=611)) - set(first)
        assert "tile/entries/002" in new  # the partial bundle of 611 became full
        assert "tile/entries/002.p/99" in second  # and its partial copy stays for old readers
        # The audit resumes: the new checkpoint's consistency with the saved one is
        # proved from the static hash tiles.
        code, doc = run_json(state, "audit", url, "--tiles")
        assert code == 0, doc
        assert doc["entries_checked"] == 300  # resumed at 611

        # Nothing new: nothing written.
        same = export(db_url, out)
        assert same.exit_code == 0
        assert "already holds" in same.output
        assert files_of(out) == second


def _paths(size: int, since: int = 0) -> list[str]:
    return [tile_path(t) for t in tiles_for(size, since)]


def test_tiles_for_names_each_tile_once_with_its_width() -> None:
    paths = _paths(65_537)
    assert len(paths) == len(set(paths))
    assert all(parse_tile_path(p) is not None for p in paths)
    assert {"tile/2/000.p/1", "tile/1/000", "tile/0/256.p/1"} <= set(paths)
    assert _paths(512, since=512) == ["tile/1/000.p/2"]  # only the partial tile above


def test_export_refuses_bad_folders(ledger: Ledger, db_url: str, tmp_path: Path) -> None:
    file = tmp_path / "a-file"
    file.write_text("x")
    result = export(db_url, file)
    assert result.exit_code == EXIT_REFUSED
    assert "found a file" in result.output
    result = export(db_url, tmp_path / "missing" / "www")
    assert result.exit_code == EXIT_REFUSED
    assert "to exist" in result.output

    other = tmp_path / "other"
    other.mkdir()
    (other / "checkpoint").write_text("another.example/log\n3\nAAAA\n\n— x y\n")
    result = export(db_url, other)
    assert result.exit_code == EXIT_REFUSED
    assert "folder of its own" in result.output

    if os.geteuid() != 0:  # root writes anywhere
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o555)
        result = export(db_url, locked)
        assert result.exit_code == EXIT_REFUSED
        assert "cannot write" in result.output

    missing = export("sqlite:///" + str(tmp_path / "none.db"), tmp_path / "www")
    assert missing.exit_code == 4


def test_export_refuses_a_folder_ahead_of_the_database(
    ledger: Ledger, db_url: str, tmp_path: Path
) -> None:
    """A folder exported from further along (the database is a lagging replica, say)."""
    grow(ledger, 10)
    out = tmp_path / "www"
    assert export_tiles(ledger.store, out).tree_size == 11
    ahead = Checkpoint(ledger.signer.name, 100, bytes(32)).to_body()
    (out / "checkpoint").write_text(sign_note(ahead, [ledger.signer]))
    result = export(db_url, out)
    assert result.exit_code == EXIT_REFUSED, result.output
    assert "behind the one exported before" in result.output
