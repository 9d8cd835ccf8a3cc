"""The log as C2SP tlog-tiles: hash tiles and entry bundles (specs/http.md §Tiles).

A tile at level L is up to 256 consecutive hashes of complete subtrees of 256^L
leaves: hash i of tile N is ``MTH(D[(N·256 + i)·256^L : (N·256 + i + 1)·256^L])``,
which is the stored hash of binary level 8L, index N·256 + i (specs/tree.md §3), so
a tile is one read of stored hashes and nothing is computed. A full tile has 256
hashes; a partial one 1 to 255 (``.p/W``). An entry bundle is the level-0 tile's
entries, each as a big-endian u16 length and the entry's exact bytes.

:func:`tile_path` and :func:`parse_tile_path` are the path format: ``tile/<L>/<N>``
or ``tile/entries/<N>``, N in 3-digit groups, all but the last prefixed ``x``, then
``.p/<W>`` for a partial tile; every number without extra leading zeros, so that
each tile has exactly one path.
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass

from ledger.errors import TreeError
from ledger.log import tree
from ledger.log.store import MissingHashError, Store

TILE_HEIGHT = 8
TILE_WIDTH = 1 << TILE_HEIGHT
MAX_LEVEL = 63
ENTRIES = "entries"

_GROUP = re.compile(r"x[0-9]{3}")
_LAST = re.compile(r"[0-9]{3}")
_NUMBER = re.compile(r"0|[1-9][0-9]*")


@dataclass(frozen=True)
class Tile:
    """A tile's coordinates: ``level`` (an int, or ``"entries"``), index ``n`` and ``width``."""

    level: int | str
    n: int
    width: int = TILE_WIDTH

    @property
    def start(self) -> int:
        """The first hash (or entry) index the tile holds, at its level."""
        return self.n * TILE_WIDTH


class TilePathError(TreeError):
    """A path is not the one canonical path of any tile."""


def tile_path(tile: Tile) -> str:
    """The tile's path, ``tile/<L or entries>/<N>[.p/<W>]``."""
    digits = f"{tile.n:03d}"
    digits = "0" * (-len(digits) % 3) + digits
    groups = [digits[i : i + 3] for i in range(0, len(digits), 3)]
    n = "/".join([*("x" + g for g in groups[:-1]), groups[-1]])
    partial = f".p/{tile.width}" if tile.width < TILE_WIDTH else ""
    return f"tile/{tile.level}/{n}{partial}"


def parse_tile_path(path: str) -> Tile:
    """The tile a path names; raises :class:`TilePathError` unless it is the canonical path."""
    parts = path.split("/")
    if len(parts) < 3 or parts[0] != "tile":
        raise TilePathError(f"expected tile/<L>/<N>[.p/<W>], found {path[:100]!r}")
    level_text, rest = parts[1], parts[2:]
    level: int | str
    if level_text == ENTRIES:
        level = ENTRIES
    elif _NUMBER.fullmatch(level_text) and int(level_text) <= MAX_LEVEL:
        level = int(level_text)
    else:
        raise TilePathError(
            f"expected a level from 0 to 63 or 'entries', found {level_text[:20]!r}"
        )
    width = TILE_WIDTH
    if len(rest) >= 2 and rest[-2].endswith(".p"):
        w = rest[-1]
        if not _NUMBER.fullmatch(w) or not 1 <= int(w) < TILE_WIDTH:
            raise TilePathError(f"expected a partial width from 1 to 255, found {w[:20]!r}")
        width = int(w)
        rest = [*rest[:-2], rest[-2][: -len(".p")]]
    if not rest or not _LAST.fullmatch(rest[-1]) or not all(_GROUP.fullmatch(g) for g in rest[:-1]):
        raise TilePathError(
            f"expected N as 3-digit groups, all but the last with 'x': {path[:100]!r}"
        )
    n = int("".join(g.lstrip("x") for g in rest))
    tile = Tile(level, n, width)
    if tile_path(tile) != path:  # a leading zero group, say x000/001
        raise TilePathError(
            f"expected the canonical path {tile_path(tile)!r}, found {path[:100]!r}"
        )
    return tile


def read_hash_tile(store: Store, tile: Tile) -> bytes:
    """The tile's hashes, concatenated; :class:`TreeError` if the log does not hold them all."""
    if not isinstance(tile.level, int):
        raise TilePathError(f"expected a hash tile, found an entry bundle ({tile_path(tile)})")
    level = TILE_HEIGHT * tile.level
    positions = [tree.stored_hash_index(level, tile.start + i) for i in range(tile.width)]
    try:
        return b"".join(store.fetch_hashes(positions))
    except MissingHashError:
        raise TreeError(f"the log does not hold all of {tile_path(tile)} yet") from None


def read_entry_bundle(store: Store, tile: Tile) -> bytes:
    """The bundle's entries, each as u16be(length) ‖ bytes; :class:`TreeError` if not all exist."""
    if tile.level != ENTRIES:
        raise TilePathError(f"expected an entry bundle, found {tile_path(tile)}")
    with store.reader() as conn:
        rows = store.entry_bytes(conn, tile.start, tile.start + tile.width)
    if len(rows) != tile.width:
        raise TreeError(f"the log does not hold all of {tile_path(tile)} yet")
    return b"".join(struct.pack(">H", len(raw)) + raw for _, raw in rows)
