"""The verifier's reading of C2SP tiles (verifier.tiles): the vectors, paths, roots, bundles."""

from __future__ import annotations

import base64
import json
import os
import re
from pathlib import Path
from typing import Any

import pytest

from verifier.compact import consistency_proof
from verifier.errors import ServerError
from verifier.merkle import leaf_hash, node_hash, root_from_leaf_hashes
from verifier.tiles import (
    consistency_proof_from_tiles,
    root_from_tiles,
    split_bundle,
    split_tile,
    subtree_hash,
    tile_path,
    tile_width,
)

VECTORS = Path(__file__).resolve().parents[2] / "specs" / "vectors"
TILES: list[dict[str, Any]] = json.loads((VECTORS / "http" / "tiles.json").read_text())["examples"]
LOG_7: dict[str, Any] = json.loads((VECTORS / "log" / "log-7.json").read_text())
RAWS = [base64.b64decode(e) for e in LOG_7["entries_b64"]]
PATH = re.compile(r"/tile/(entries|[0-9]+)/((?:x[0-9]{3}/)*[0-9]{3})(?:\.p/([0-9]+))?")


def served(path: str) -> bytes:
    (example,) = [e for e in TILES if e["request"] == path]
    assert example["status"] == 200
    return base64.b64decode(example["body_b64"])


def test_every_served_path_is_the_one_the_verifier_writes() -> None:
    for example in TILES:
        match = PATH.fullmatch(example["request"])
        if example["status"] != 200 or match is None:
            continue
        level_text, n_text, w_text = match.groups()
        level: int | str = level_text if level_text == "entries" else int(level_text)
        n = int(n_text.replace("x", "").replace("/", ""))
        width = int(w_text) if w_text else 256
        assert "/" + tile_path(level, n, width) == example["request"]


def test_the_vector_tiles_are_the_vector_log() -> None:
    assert split_bundle(served("/tile/entries/000.p/7"), 7, "bundle") == RAWS
    assert split_bundle(served("/tile/entries/000.p/2"), 2, "bundle") == RAWS[:2]
    assert split_tile(served("/tile/0/000.p/7"), 7, "tile") == [leaf_hash(r) for r in RAWS]

    def read(level: int, n: int, width: int) -> list[bytes]:
        return split_tile(served("/" + tile_path(level, n, width)), width, "tile")

    for size in (3, 7):
        assert root_from_tiles(size, read) == base64.b64decode(LOG_7["roots"][str(size)])


def test_paths_beyond_the_log_or_not_canonical_are_404() -> None:
    missing = [e["request"] for e in TILES if e["status"] == 404]
    assert "/tile/0/000" in missing
    assert "/tile/0/x000/000.p/7" in missing
    assert all(e["status"] in (200, 404) for e in TILES)


def tiles_of(leaves: list[bytes]) -> dict[tuple[int, int, int], list[bytes]]:
    """Every full and partial tile of a tree, built by hand from its leaf hashes."""
    tiles: dict[tuple[int, int, int], list[bytes]] = {}
    level, hashes = 0, leaves
    while hashes:
        for n in range(0, len(hashes), 256):
            row = hashes[n : n + 256]
            for width in range(1, len(row) + 1):
                tiles[(level, n // 256, width)] = row[:width]
        hashes = [
            root_from_leaf_hashes(hashes[i : i + 256]) for i in range(0, len(hashes) - 255, 256)
        ]
        level += 1
    return tiles


@pytest.mark.parametrize("size", [1, 2, 255, 256, 257, 511, 600, 65535, 65536, 70000])
def test_root_from_tiles_asks_only_for_the_tiles_the_size_implies(size: int) -> None:
    leaves = [os.urandom(32) for _ in range(size)]
    tiles = tiles_of(leaves)
    asked: list[tuple[int, int, int]] = []

    def read(level: int, n: int, width: int) -> list[bytes]:
        asked.append((level, n, width))
        assert width == tile_width(level, n, size)
        return tiles[(level, n, width)]

    assert root_from_tiles(size, read) == root_from_leaf_hashes(leaves)
    if size == 70000:  # the C2SP example: the partial tiles of widths 112, 17 and 1
        assert set(asked) == {(0, 273, 112), (1, 1, 17), (2, 0, 1)}


def test_tile_widths() -> None:
    assert [tile_width(0, n, 70000) for n in (0, 272, 273, 274)] == [256, 256, 112, 0]
    assert [tile_width(1, n, 70000) for n in (0, 1)] == [256, 17]
    assert tile_width(2, 0, 70000) == 1
    assert tile_width(1, 0, 255) == 0


@pytest.mark.parametrize(
    ("data", "width", "says"),
    [
        (b"\x00\x03ab", 1, "claims 3 bytes"),
        (b"\x00", 1, "cut off"),
        (b"\x00\x00", 1, "claims 0 bytes"),
        (b"\x00\x01a\x00\x01b", 1, "expected 1 entries, found 2"),
        (b"", 1, "expected 1 entries, found 0"),
    ],
)
def test_malformed_bundles(data: bytes, width: int, says: str) -> None:
    with pytest.raises(ServerError, match=says):
        split_bundle(data, width, "bundle")


def test_a_tile_of_the_wrong_length() -> None:
    with pytest.raises(ServerError, match="expected 2 hashes"):
        split_tile(b"\x00" * 63, 2, "tile")
    assert split_tile(node_hash(b"a" * 32, b"b" * 32) * 2, 2, "tile")[0] == node_hash(
        b"a" * 32, b"b" * 32
    )


def _tiles_of(leaves: list[bytes]) -> Any:
    """``read_tile`` over a tree's leaf hashes, each hash computed from the leaves."""

    def read(level: int, n: int, width: int) -> list[bytes]:
        span = 256**level
        return [
            root_from_leaf_hashes(leaves[(n * 256 + i) * span : (n * 256 + i + 1) * span])
            for i in range(width)
        ]

    return read


@pytest.mark.parametrize("size", [1, 2, 3, 255, 256, 257, 611, 65_536 + 300])
def test_consistency_proofs_from_tiles_are_rfc_9162s(size: int) -> None:
    leaves = [leaf_hash(str(i).encode()) for i in range(size)]
    read = _tiles_of(leaves)
    assert subtree_hash(0, size, size, read) == root_from_leaf_hashes(leaves)
    for first in sorted({1, 2, size // 3 or 1, 256, 300, size - 1 or 1, size}):
        if first <= size:
            assert consistency_proof_from_tiles(first, size, read) == consistency_proof(
                leaves, first
            ), first
