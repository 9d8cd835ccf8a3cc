"""The log as static files: C2SP tlog-tiles written to a folder for any web server or CDN.

:func:`export_tiles` writes, under a folder, exactly what the server serves at its
root (specs/http.md §Tiles; ADR 0010): ``checkpoint`` (the latest signed checkpoint
stored, so no key is needed), every hash tile ``tile/<L>/<N>[.p/<W>]`` and every
entry bundle ``tile/entries/<N>[.p/<W>]`` that checkpoint's size implies. The bytes
come from the same functions the server answers with (:mod:`ledger.log.tiles`).

It is incremental. The folder's own ``checkpoint`` says how far an earlier export
went, and only the tiles that were partial or absent at that size are considered;
of those, any file already present is kept, since a tile's path names its content
(a full tile never changes, and a partial one is named by its width). Older partial
tiles stay too: a reader holding an older checkpoint may still ask for them.

Every file is written to a temporary name, flushed to disk and renamed into place,
and the checkpoint is written last, once every tile it implies is on disk: a reader
never sees a checkpoint whose tiles are missing, even after a crash.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from ledger.errors import LedgerError
from ledger.log.store import Store
from ledger.log.tiles import (
    ENTRIES,
    TILE_HEIGHT,
    TILE_WIDTH,
    Tile,
    read_entry_bundle,
    read_hash_tile,
    tile_path,
)
from ledger.publish.checkpoint import Checkpoint, open_checkpoint
from ledger.publish.note import Verifier, parse_verifier_key
from ledger.publish.publisher import latest_checkpoint

CHECKPOINT = "checkpoint"
Progress = Callable[[int, int], None]


class TileExportError(LedgerError):
    """The folder cannot take the export (not a folder, not writable, another log's)."""


@dataclass
class ExportReport:
    """What one export did: the checkpoint's size, and the files written and kept."""

    tree_size: int
    previous_size: int
    written: list[str] = field(default_factory=list)
    kept: int = 0
    bytes_written: int = 0


def tiles_for(size: int, since: int = 0) -> Iterator[Tile]:
    """The tiles a tree of ``size`` implies that were partial or absent at size ``since``.

    Entry bundles first, then hash tiles level by level; each tile appears once,
    with its width at ``size``.
    """
    for level in (ENTRIES, *range(64)):
        shift = 0 if level == ENTRIES else TILE_HEIGHT * int(level)
        complete = size >> shift  # hashes (or entries) of this level the tree holds
        if complete == 0:
            break
        first = (since >> shift) // TILE_WIDTH  # the first tile not full at ``since``
        for n in range(first, -(-complete // TILE_WIDTH)):
            yield Tile(level, n, min(TILE_WIDTH, complete - n * TILE_WIDTH))


def export_tiles(store: Store, dest: Path, *, progress: Progress | None = None) -> ExportReport:
    """Write the log's tiles and latest checkpoint under ``dest`` (see the module doc)."""
    meta = store.require_meta()
    verifier = parse_verifier_key(meta.verifier_key)
    note = latest_checkpoint(store)
    if note is None:
        raise TileExportError("the log has no signed checkpoint yet: run 'tally publish' first")
    checkpoint = open_checkpoint(note, verifier)
    _check_folder(dest)
    previous = _previous_size(dest, note, checkpoint, verifier)
    report = ExportReport(checkpoint.size, previous)
    todo = list(tiles_for(checkpoint.size, previous))
    folders: set[Path] = set()
    for done, tile in enumerate(todo, 1):
        path = tile_path(tile)
        target = dest / path
        if target.is_file():
            report.kept += 1
        else:
            data = (
                read_entry_bundle(store, tile)
                if tile.level == ENTRIES
                else read_hash_tile(store, tile)
            )
            _write_atomically(dest, target, data)
            folders.add(target.parent)
            report.written.append(path)
            report.bytes_written += len(data)
        if progress is not None:
            progress(done, len(todo))
    for folder in sorted(folders):
        _sync_folder(dest, folder)  # the renames are durable before the checkpoint names them
    if previous != checkpoint.size or not (dest / CHECKPOINT).is_file():
        _write_atomically(dest, dest / CHECKPOINT, note.encode())
        _sync_folder(dest, dest)
        report.written.append(CHECKPOINT)
        report.bytes_written += len(note.encode())
    return report


def _check_folder(dest: Path) -> None:
    """``dest`` is a folder (made if missing, its parent existing) that this process can write."""
    if dest.exists() and not dest.is_dir():
        raise TileExportError(f"expected a folder at {dest}, found a file")
    if not dest.exists():
        parent = dest.parent if dest.parent != Path() else Path.cwd()
        if not parent.is_dir():
            raise TileExportError(f"expected the folder {parent} to exist, found none")
        try:
            dest.mkdir(mode=0o755)
        except OSError as exc:
            raise TileExportError(f"cannot make the folder {dest}: {exc.strerror}") from None
    if not os.access(dest, os.W_OK | os.X_OK):
        raise TileExportError(f"cannot write in the folder {dest}: permission denied")


def _previous_size(dest: Path, note: str, checkpoint: Checkpoint, verifier: Verifier) -> int:
    """The size of the checkpoint an earlier export left in ``dest`` (0 for none).

    Refuses a checkpoint that is not this log's, and one larger than the log's
    latest: the database read is behind the folder (a lagging replica, say).
    """
    file = dest / CHECKPOINT
    if not file.exists():
        return 0
    try:
        text = file.read_text(encoding="utf-8")
        found = open_checkpoint(text, verifier)
    except (OSError, UnicodeDecodeError) as exc:
        raise TileExportError(f"cannot read {file}: {exc}") from None
    except LedgerError as exc:
        raise TileExportError(
            f"{file} is not a checkpoint of the log {checkpoint.origin} signed by its key "
            f"({exc}): export into a folder of its own"
        ) from None
    if found.size > checkpoint.size:
        raise TileExportError(
            f"{file} is of {found.size:,} entries, but the database's latest checkpoint is of "
            f"{checkpoint.size:,}: is this database behind the one exported before?"
        )
    # Two notes of one size must at least agree on the root (else the log forked).
    if found.size == checkpoint.size and found.root != checkpoint.root:
        raise TileExportError(
            f"{file} has another root for {found.size:,} entries than the database"
        )
    return found.size


def _write_atomically(dest: Path, target: Path, data: bytes) -> None:
    """Write ``data`` at ``target`` by a synced temporary file renamed into place."""
    try:
        target.parent.mkdir(parents=True, exist_ok=True, mode=0o755)
        handle, temp = tempfile.mkstemp(prefix=".tmp-", dir=target.parent)
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.chmod(temp, 0o644)
            os.replace(temp, target)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise
    except OSError as exc:
        rel = target.relative_to(dest)
        raise TileExportError(f"cannot write {rel} in {dest}: {exc.strerror}") from None


def _sync_folder(dest: Path, folder: Path) -> None:
    """Flush a folder's entries (the renames into it) to disk."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError as exc:
        raise TileExportError(f"cannot sync {folder} in {dest}: {exc.strerror}") from None
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
