"""Reading the log as C2SP tlog-tiles: tile paths, entry bundles, roots from hash tiles.

The server also serves the log as static tiles (specs/http.md §Tiles): the hash
tile at level L, index N holds up to 256 hashes, hash i being the root of the
complete subtree of 256^L leaves that starts at leaf (N·256 + i)·256^L; the entry
bundle N holds the entries of the level-0 tile N, each as a big-endian u16 length
and the entry's bytes. A partial tile (``.p/W``) holds the first W of them.

This module writes tile paths, splits bundles and tiles strictly, and recomputes a
tree's root from the tiles a tree of that size needs (:func:`root_from_tiles`), so
that the tiles can be held to a signed checkpoint like any other answer.
"""

from __future__ import annotations

from collections.abc import Callable

from verifier.errors import ServerError
from verifier.merkle import EMPTY_ROOT, HASH_SIZE, node_hash

WIDTH = 256
HEIGHT = 8


def tile_path(level: int | str, n: int, width: int = WIDTH) -> str:
    """``tile/<level>/<N>[.p/<W>]``: N in 3-digit groups, all but the last prefixed ``x``."""
    if not 1 <= width <= WIDTH or n < 0:
        raise ValueError(f"expected 0 <= n and 1 <= width <= 256, found {n} and {width}")
    groups: list[str] = []
    while True:
        groups.append(f"{n % 1000:03d}")
        n //= 1000
        if n == 0:
            break
    groups.reverse()
    text = "/".join([*("x" + g for g in groups[:-1]), groups[-1]])
    return f"tile/{level}/{text}" + (f".p/{width}" if width < WIDTH else "")


def tile_width(level: int, n: int, size: int) -> int:
    """How many hashes tile ``n`` of ``level`` holds in a tree of ``size`` leaves (0: none)."""
    span = 1 << (HEIGHT * level)  # leaves under one hash of this level
    complete = size // span  # complete hashes of this level in the tree
    return max(0, min(WIDTH, complete - n * WIDTH))


def split_bundle(data: bytes, width: int, where: str) -> list[bytes]:
    """The ``width`` entries of an entry bundle; :class:`ServerError` if it holds anything else."""
    entries: list[bytes] = []
    at = 0
    while at < len(data):
        if at + 2 > len(data):
            raise ServerError(f"{where}: a length prefix is cut off at byte {at}")
        length = int.from_bytes(data[at : at + 2], "big")
        if length == 0 or at + 2 + length > len(data):
            raise ServerError(
                f"{where}: entry {len(entries)} claims {length} bytes at byte {at}, "
                f"but the bundle has {len(data) - at - 2} left"
            )
        entries.append(data[at + 2 : at + 2 + length])
        at += 2 + length
    if len(entries) != width:
        raise ServerError(f"{where}: expected {width} entries, found {len(entries)}")
    return entries


def split_tile(data: bytes, width: int, where: str) -> list[bytes]:
    """The ``width`` hashes of a hash tile; :class:`ServerError` if it is not that long."""
    if len(data) != width * HASH_SIZE:
        raise ServerError(
            f"{where}: expected {width} hashes ({width * HASH_SIZE} bytes), found {len(data)} bytes"
        )
    return [data[i : i + HASH_SIZE] for i in range(0, len(data), HASH_SIZE)]


def root_from_tiles(size: int, read_tile: Callable[[int, int, int], list[bytes]]) -> bytes:
    """The RFC 9162 root of the first ``size`` leaves, from hash tiles.

    ``read_tile(level, n, width)`` returns the tile's hashes. The tree is the
    complete subtrees of its size's binary digits, largest first; one of 2^k leaves
    starting at leaf p is, with k = 8L + r, the fold of 2^r consecutive level-L
    hashes from index p / 256^L, all in one tile (they are aligned), so each costs
    one tile, and the partial ones are exactly those the size implies.
    """
    if size < 0:
        raise ValueError(f"expected a size >= 0, found {size}")
    if size == 0:
        return EMPTY_ROOT
    subtrees: list[bytes] = []
    start = 0
    for k in range(size.bit_length() - 1, -1, -1):
        if not size >> k & 1:
            continue
        level, r = divmod(k, HEIGHT)
        first = start >> (HEIGHT * level)  # index of the first level-L hash it covers
        n = first // WIDTH
        hashes = read_tile(level, n, tile_width(level, n, size))
        nodes = hashes[first % WIDTH : first % WIDTH + (1 << r)]
        while len(nodes) > 1:
            nodes = [node_hash(a, b) for a, b in zip(nodes[::2], nodes[1::2], strict=True)]
        subtrees.append(nodes[0])
        start += 1 << k
    root = subtrees[-1]
    for left in reversed(subtrees[:-1]):
        root = node_hash(left, root)
    return root


TileReader = Callable[[int, int, int], list[bytes]]


def cached(read_tile: TileReader) -> TileReader:
    """``read_tile`` that asks for each tile once (proofs reuse the same few tiles)."""
    seen: dict[tuple[int, int, int], list[bytes]] = {}

    def read(level: int, n: int, width: int) -> list[bytes]:
        if (level, n, width) not in seen:
            seen[level, n, width] = read_tile(level, n, width)
        return seen[level, n, width]

    return read


def subtree_hash(lo: int, hi: int, size: int, read_tile: TileReader) -> bytes:
    """MTH(D[lo:hi]) for a node ``[lo, hi)`` of the tree of ``size`` leaves, from hash tiles.

    A complete subtree (``hi - lo`` a power of two, ``lo`` a multiple of it) is one
    tile's run of hashes folded, as in :func:`root_from_tiles`; any other node of
    the tree splits at the largest power of two below its width (RFC 9162 §2.1.1)
    into two nodes that are.
    """
    n = hi - lo
    if not 0 <= lo < hi <= size:
        raise ValueError(f"expected 0 <= lo < hi <= size, found {lo}, {hi}, {size}")
    if n & (n - 1) == 0 and lo % n == 0:
        level, r = divmod(n.bit_length() - 1, HEIGHT)
        first = lo >> (HEIGHT * level)
        t = first // WIDTH
        hashes = read_tile(level, t, tile_width(level, t, size))
        nodes = hashes[first % WIDTH : first % WIDTH + (1 << r)]
        while len(nodes) > 1:
            nodes = [node_hash(a, b) for a, b in zip(nodes[::2], nodes[1::2], strict=True)]
        return nodes[0]
    k = 1 << ((n - 1).bit_length() - 1)
    return node_hash(
        subtree_hash(lo, lo + k, size, read_tile), subtree_hash(lo + k, hi, size, read_tile)
    )


def consistency_proof_from_tiles(first: int, second: int, read_tile: TileReader) -> list[bytes]:
    """PROOF(first, D[0:second]) of RFC 9162 §2.1.4.1, its nodes read from hash tiles.

    The hashes are whatever the tiles say: the caller verifies the proof against
    both signed roots, so tiles that lie make it fail, as a lying proof would.
    """
    if not 0 < first <= second:
        raise ValueError(f"expected 0 < first <= second, found {first} and {second}")
    read = cached(read_tile)
    proof: list[bytes] = []
    lo, hi, m, complete = 0, second, first, True
    # SUBPROOF(m, D[lo:hi], b), unrolled: each step adds one node, at the end of the
    # list in RFC order (the recursion appends after its inner call returns).
    tail: list[bytes] = []
    while m != hi - lo:
        k = 1 << ((hi - lo - 1).bit_length() - 1)
        if m <= k:
            tail.append(subtree_hash(lo + k, hi, second, read))
            hi = lo + k
        else:
            tail.append(subtree_hash(lo, lo + k, second, read))
            lo, m, complete = lo + k, m - k, False
    if not complete:
        proof.append(subtree_hash(lo, hi, second, read))
    return proof + tail[::-1]
