"""The dump format and its parallel scan (verifier.dump)."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path

import pytest

from verifier import dump as dump_module
from verifier.dump import (
    DUMP_ENTRIES,
    DumpError,
    read_dump_entries,
    scan_dump,
    write_dump_line,
)
from verifier.entry import ZERO_PREV
from verifier.links import LinkReplay
from verifier.merkle import leaf_hash, root_from_leaf_hashes


def chain(n: int) -> list[bytes]:
    out: list[bytes] = []
    prev = ZERO_PREV
    for seq in range(n):
        doc = {
            "actor": "operator",
            "body": {"i": seq, "pad": "x" * (seq % 97)},
            "prev": prev,
            "seq": seq,
            "time": "2026-01-01T00:00:00Z",
            "type": "log.genesis" if seq == 0 else "demo.thing",
            "version": 1,
        }
        raw = json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()
        out.append(raw)
        prev = hashlib.sha256(raw).hexdigest()
    return out


def write(folder: Path, raws: list[bytes]) -> Path:
    folder.mkdir(exist_ok=True)
    with (folder / DUMP_ENTRIES).open("wb") as out:
        for seq, raw in enumerate(raws):
            write_dump_line(out, seq, raw)
    return folder


@pytest.fixture
def small_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dump_module, "RUN_BYTES", 2_000)


@pytest.mark.parametrize("processes", [1, 2])
def test_a_dump_scanned_in_runs_gives_the_root(
    tmp_path: Path, small_runs: None, processes: int
) -> None:
    raws = chain(300)
    folder = write(tmp_path / "d", raws)
    links = LinkReplay()
    segments = list(scan_dump(folder, len(raws), processes))
    assert len(segments) > 10
    for segment in segments:
        links.join(segment)
    assert links.break_count == 0
    assert links.tree.root() == root_from_leaf_hashes([leaf_hash(r) for r in raws])
    assert list(read_dump_entries(folder, len(raws))) == raws


def test_a_run_with_a_tampered_entry_is_named(tmp_path: Path, small_runs: None) -> None:
    raws = chain(200)
    raws[120] = raws[120].replace(b'"i":120', b'"i":121')
    links = LinkReplay()
    for segment in scan_dump(write(tmp_path / "d", raws), 200, 2):
        links.join(segment)
    assert [b.seq for b in links.breaks] == [121]


@pytest.mark.parametrize("size", [199, 201])
def test_more_or_fewer_entries_than_signed(tmp_path: Path, small_runs: None, size: int) -> None:
    folder = write(tmp_path / "d", chain(200))
    with pytest.raises(DumpError, match="holds"):
        list(scan_dump(folder, size, 1))


def test_a_skipped_line_is_a_dump_error(tmp_path: Path, small_runs: None) -> None:
    folder = write(tmp_path / "d", chain(100))
    path = folder / DUMP_ENTRIES
    lines = path.read_bytes().splitlines(keepends=True)
    path.write_bytes(b"".join(lines[:40] + lines[41:]))
    with pytest.raises(DumpError, match="expected seq 40"):
        list(scan_dump(folder, 99, 2))


@pytest.mark.parametrize(
    "line",
    [
        b"not json\n",
        b'{"seq":0}\n',
        b'{"seq":0,"leaf":"QR=="}\n',  # non-zero padding bits: not canonical base64
        b'{"seq":0,"leaf":"@@@@"}\n',
    ],
)
def test_bad_lines_are_dump_errors(tmp_path: Path, line: bytes) -> None:
    folder = tmp_path / "d"
    folder.mkdir()
    (folder / DUMP_ENTRIES).write_bytes(line)
    with pytest.raises(DumpError):
        list(scan_dump(folder, 1, 1))
    with pytest.raises(DumpError):
        list(read_dump_entries(folder, 1))


def test_other_json_spellings_of_a_line_are_read(tmp_path: Path) -> None:
    raw = chain(1)[0]
    leaf = base64.b64encode(raw).decode()
    folder = tmp_path / "d"
    folder.mkdir()
    (folder / DUMP_ENTRIES).write_text(json.dumps({"leaf": leaf, "seq": 0}, indent=1) + "\n")
    # indent=1 spreads one object over lines: that is not one entry per line.
    with pytest.raises(DumpError):
        list(read_dump_entries(folder, 1))
    (folder / DUMP_ENTRIES).write_text(json.dumps({"leaf": leaf, "seq": 0}) + "\n")
    assert list(read_dump_entries(folder, 1)) == [raw]
    assert next(scan_dump(folder, 1, 1)).count == 1


def test_canonical_padding_matches_a_round_trip() -> None:
    alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    for raw in (b"", b"a", b"ab", b"abc", b"abcd", b"abcde"):
        leaf = base64.b64encode(raw)
        at = -3 if leaf.endswith(b"==") else -2 if leaf.endswith(b"=") else None
        if at is None:
            assert dump_module._canonical_padding(leaf)
            continue
        for digit in alphabet:
            variant = leaf[:at] + bytes([digit]) + leaf[at + 1 :]
            decoded = base64.b64decode(variant)
            canonical = base64.b64encode(decoded) == variant
            assert dump_module._canonical_padding(variant) == canonical


def test_a_line_longer_than_any_entry_is_refused_without_reading_it_whole(
    tmp_path: Path, small_runs: None
) -> None:
    folder = write(tmp_path / "d", chain(30))
    path = folder / DUMP_ENTRIES
    lines = path.read_bytes().splitlines(keepends=True)
    path.write_bytes(b"".join([*lines[:10], b"A" * 300_000 + b"\n", *lines[10:]]))
    with pytest.raises(DumpError, match="a line of more than 100,000 bytes"):
        list(read_dump_entries(folder, 31))
    with pytest.raises(DumpError):
        list(scan_dump(folder, 31, 1))
