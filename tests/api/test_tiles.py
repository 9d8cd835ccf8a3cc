"""C2SP tlog-tiles at the server's root (specs/http.md §Tiles), on both backends."""

from __future__ import annotations

import struct
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from ledger.instance import Ledger, init_ledger
from ledger.log.log import NewEntry
from ledger.log.tiles import Tile, TilePathError, parse_tile_path, tile_path
from ledger.log.tree import leaf_hash, node_hash
from tests.conftest import TEST_ORIGIN

SIZE = 600  # 2 full level-0 tiles and one of width 88; a level-1 tile of width 2


@pytest.fixture(scope="module")
def filled(module_db_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ledger]:
    """A log of SIZE entries, signed, once per backend for the whole module: the tests
    served from it only read."""
    key = tmp_path_factory.mktemp("tiles") / "keys" / "log.key"
    ledger, _ = init_ledger(module_db_url, key, TEST_ORIGIN)
    try:
        ledger.log.append_batch(
            [
                NewEntry("demo.thing", "operator", {"i": i, "pad": "x" * (i % 50)})
                for i in range(SIZE - 1)
            ]
        )
        ledger.publisher.publish()
        yield ledger
    finally:
        ledger.close()


@pytest.fixture
def client(filled: Ledger) -> Iterator[TestClient]:
    """A fresh app (and so a fresh rate limit) over the shared log."""
    with TestClient(create_app(filled.store)) as test_client:
        yield test_client


def perfect_root(hashes: list[bytes]) -> bytes:
    while len(hashes) > 1:
        hashes = [node_hash(a, b) for a, b in zip(hashes[::2], hashes[1::2], strict=True)]
    return hashes[0]


def test_checkpoint_at_the_root(client: TestClient) -> None:
    response = client.get("/checkpoint")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert response.text == client.get("/v1/checkpoint").text
    assert "max-age=1" in response.headers["cache-control"]


def test_hash_tiles_and_bundles_are_the_log(client: TestClient, filled: Ledger) -> None:
    raws = [raw for _, raw in filled.log.entries(0, SIZE)]
    leaves = [leaf_hash(raw) for raw in raws]
    level0 = b"".join(client.get(f"/tile/0/00{n}").content for n in (0, 1))
    last = client.get("/tile/0/002.p/88")
    assert last.headers["content-type"] == "application/octet-stream"
    assert "immutable" in last.headers["cache-control"]
    assert level0 + last.content == b"".join(leaves)

    bundle = client.get("/tile/entries/001").content
    at, found = 0, []
    while at < len(bundle):
        (length,) = struct.unpack(">H", bundle[at : at + 2])
        found.append(bundle[at + 2 : at + 2 + length])
        at += 2 + length
    assert found == raws[256:512]
    assert client.get("/tile/entries/002.p/3").content == b"".join(
        struct.pack(">H", len(r)) + r for r in raws[512:515]
    )

    level1 = client.get("/tile/1/000.p/2").content
    assert level1 == perfect_root(leaves[:256]) + perfect_root(leaves[256:512])
    assert client.get("/tile/1/000.p/1").content == level1[:32]


@pytest.mark.parametrize(
    "path",
    [
        "/tile/0/003",  # beyond the log
        "/tile/0/002",
        "/tile/0/002.p/89",
        "/tile/entries/002.p/89",
        "/tile/1/000",
        "/tile/1/000.p/3",
        "/tile/2/000.p/1",
        "/tile/0/x000/002.p/88",
        "/tile/0/2.p/88",
        "/tile/0/002.p/088",
        "/tile/0/002.p/0",
        "/tile/0/002.p/256",
        "/tile/64/000.p/1",
        "/tile/-1/000",
        "/tile/entries",
        "/tile/",
        "/tile/0/000/extra",
    ],
)
def test_no_such_tile_is_a_404_problem(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404, path
    assert response.headers["content-type"] == "application/problem+json"


def test_tile_paths_round_trip() -> None:
    for tile in (Tile(0, 0), Tile(3, 999, 1), Tile(0, 1000), Tile("entries", 1234067, 255)):
        assert parse_tile_path(tile_path(tile)) == tile
    assert tile_path(Tile(1, 1234067)) == "tile/1/x001/x234/067"
    with pytest.raises(TilePathError):
        parse_tile_path("tile/0/x000/000")
