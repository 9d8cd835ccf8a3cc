"""A period close over the stored members in bounded memory (specs/plan.md §8.2, §9).

A plan of tens of millions of members cannot hold a period's members, their charges
and its sum tree in memory. :func:`spool_close` takes the counted members in id
order as a stream of ``(member, charged earlier this year)``, charges each as it
comes, and writes what the close must store to temporary files as it goes: the
contribution rows, and each level of the tree's complete subtrees (the level above
gets a node each time the one below completes a pair). It keeps only one unpaired
node per level, so its memory does not grow with the members; the root folds the
right edge, one node per set bit of the member count, as :func:`sumtree.root` does.
A large close hashes each full range of :data:`RANGE` leaves (an aligned complete
subtree) in a worker process, one per core but one, and takes their levels in order.

:class:`SpooledClose` reads its files back in batches: in the transaction that
appends the ``period.closed`` entry the charges are added to the year's rows
(:meth:`SpooledClose.charges`) and the rows stored
(:func:`ledger.domain.store.store_chunks`), as :func:`~ledger.domain.store.store_tree`
stores a tree held in memory.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import shutil
import struct
import tempfile
import weakref
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from ledger.domain import sumtree
from ledger.domain.apportion import (
    ApportionError,
    Apportionment,
    capped_charge,
    check_conservation,
    shares,
)
from ledger.domain.store import NODES_PER_CHUNK

ROWS_PER_BATCH = 50_000
"""Contribution rows read back and written at a time."""
_ROW = struct.Struct(">10sQ")
"""A spooled contribution row: the member id's 10 bytes (specs/plan.md §1), the charge."""


def _row(member: str, charge: int) -> bytes:
    try:
        raw = bytes.fromhex(member[2:]) if member.startswith("m-") else b""
    except ValueError:
        raw = b""
    if len(raw) != 10 or "m-" + raw.hex() != member:
        raise ApportionError(f"expected a member id m- and 20 hex digits, found {member!r}")
    return _ROW.pack(raw, charge)


@dataclass
class SpooledClose:
    """A close computed by :func:`spool_close`: its figures, root, and rows on disk."""

    apportionment: Apportionment
    """The close's figures (``charges`` empty: they are in the files)."""
    root: sumtree.Node
    folder: Path

    def __post_init__(self) -> None:
        # A close computed and then dropped (another writer appended first) leaves
        # nothing behind.
        self._cleanup = weakref.finalize(self, shutil.rmtree, self.folder, True)

    def charges(self) -> Iterator[list[tuple[str, int]]]:
        """Each counted member's charge, in id order, in batches."""
        with (self.folder / "leaves").open("rb") as data:
            while chunk := data.read(_ROW.size * ROWS_PER_BATCH):
                yield [("m-" + raw.hex(), charge) for raw, charge in _ROW.iter_unpack(chunk)]

    def levels(self) -> Iterator[tuple[int, Iterator[bytes]]]:
        """Each level of the tree's complete subtrees: (level, its chunks of packed nodes,
        :data:`~ledger.domain.store.NODES_PER_CHUNK` nodes each)."""
        level = 0
        while (path := self.folder / f"level-{level}").exists():
            yield level, _chunks(path)
            level += 1

    def discard(self) -> None:
        """Remove the files."""
        self._cleanup()


def _chunks(path: Path) -> Iterator[bytes]:
    with path.open("rb") as data:
        while chunk := data.read(NODES_PER_CHUNK * sumtree.NODE_SIZE):
            yield chunk


class _Levels:
    """The complete-subtree nodes of a tree whose leaves arrive in order, to files."""

    def __init__(self, folder: Path) -> None:
        self._folder = folder
        self._files: list[BinaryIO] = []
        self._pending: list[bytes | None] = []  # the unpaired last node of each level

    def _file(self, level: int) -> BinaryIO:
        while level >= len(self._files):
            self._files.append((self._folder / f"level-{len(self._files)}").open("wb"))
            self._pending.append(None)
        return self._files[level]

    def add(self, node: bytes, level: int = 0) -> None:
        """Add the next node of ``level`` (every level below it complete: no node unpaired)."""
        while True:
            self._file(level).write(node)
            left = self._pending[level]
            if left is None:
                self._pending[level] = node
                return
            self._pending[level] = None
            node = sumtree.interior_packed(left, node)
            level += 1

    def add_range(self, levels: list[bytes]) -> None:
        """Add the next :data:`RANGE` leaves' complete subtree, given as its levels'
        nodes (:func:`subtree`); the leaves so far fill whole ranges."""
        for level, nodes in enumerate(levels[:-1]):
            self._file(level).write(nodes)
            if self._pending[level] is not None:
                raise ValueError(f"a range added after an unpaired node of level {level}")
        self.add(levels[-1], RANGE_LEVELS)

    def close(self) -> None:
        """Close the files."""
        for file in self._files:
            file.close()

    def root(self) -> sumtree.Node:
        """The root: the unpaired nodes folded right to left."""
        right = [n for n in self._pending if n is not None]  # lowest level first
        if not right:
            return sumtree.EMPTY
        current = right[0]
        for left in right[1:]:
            current = sumtree.interior_packed(left, current)
        return sumtree.Node.unpack(current)


RANGE_LEVELS = 14
RANGE = 1 << RANGE_LEVELS
"""Leaves a worker process hashes at a time: a complete subtree (RFC 9162's shape puts
the leaves of any aligned power-of-two range under one node)."""
PARALLEL_FROM = 16 * RANGE
"""Members from which a close hashes its ranges in other processes (below, starting
them costs more than it saves)."""


def subtree(period: str, members: list[tuple[str, int]]) -> list[bytes]:
    """The levels of the complete subtree over ``members``' leaves (a power of two of
    them), each level's packed nodes joined, the leaves first and the root last."""
    level = [sumtree.leaf_packed(period, member, charge) for member, charge in members]
    out = [b"".join(level)]
    while len(level) > 1:
        pair = sumtree.interior_packed
        level = [pair(level[i], level[i + 1]) for i in range(0, len(level), 2)]
        out.append(b"".join(level))
    return out


class _Hashers:
    """Full ranges of leaves hashed by worker processes, their levels taken in order."""

    def __init__(self, period: str, levels: _Levels, workers: int) -> None:
        self._period = period
        self._levels = levels
        self._workers = workers
        self._pool: ProcessPoolExecutor | None = None
        if workers > 0:
            try:  # not forked: a worker must hold none of this process's connections
                self._pool = ProcessPoolExecutor(
                    workers, mp_context=multiprocessing.get_context("forkserver")
                )
            except (OSError, ValueError):
                self._pool = None
        self._waiting: deque[tuple[Future[list[bytes]], list[tuple[str, int]]]] = deque()

    def add(self, members: list[tuple[str, int]]) -> None:
        """Hash a full range (:data:`RANGE` members) here or in a worker."""
        if self._pool is None:
            self._levels.add_range(subtree(self._period, members))
            return
        try:
            future = self._pool.submit(subtree, self._period, members)
        except BrokenProcessPool:  # the ranges handed out first are taken first, in order
            self.finish()
            self._pool = None
            self.add(members)
            return
        self._waiting.append((future, members))
        while len(self._waiting) > 2 * self._workers:
            self._take()

    def _take(self) -> None:
        future, members = self._waiting.popleft()
        try:
            levels = future.result()
        except BrokenProcessPool:  # a worker lost: this range is hashed here
            levels = subtree(self._period, members)
        self._levels.add_range(levels)

    def finish(self) -> None:
        """Take every range handed out, in order."""
        while self._waiting:
            self._take()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)


def spool_close(
    period: str,
    counted: Iterable[tuple[str, int]],
    count: int,
    *,
    aid_fen: int,
    fee_bp: int,
    carry_in_fen: int,
    annual_cap_fen: int,
) -> SpooledClose:
    """Apportion a period over the ``count`` members of ``counted`` (each with what they
    were charged earlier in the calendar year, in strictly increasing id order), and
    spool its rows: the same figures and tree as :func:`ledger.domain.apportion.apportion`
    and :func:`sumtree.levels` over the same members."""
    fee_fen, due, share = shares(aid_fen, fee_bp, carry_in_fen, count)
    folder = Path(tempfile.mkdtemp(prefix="tally-close-"))
    try:
        levels = _Levels(folder)
        total = subsidy = capped = seen = 0
        previous = ""
        batch: list[tuple[str, int]] = []
        workers = (os.cpu_count() or 1) - 1 if count >= PARALLEL_FROM else 0
        hashers = _Hashers(period, levels, workers)
        with (
            (folder / "leaves").open("wb") as leaves,
            contextlib.closing(levels),
            contextlib.closing(hashers),
        ):
            for member, before in counted:
                if not previous < member:
                    raise ApportionError(
                        f"expected members in increasing id order, found {member} after {previous}"
                    )
                previous = member
                charge = capped_charge(share, annual_cap_fen, before)
                if charge < share:
                    capped += 1
                    subsidy += share - charge
                total += charge
                seen += 1
                leaves.write(_row(member, charge))
                batch.append((member, charge))
                if len(batch) == RANGE:
                    hashers.add(batch)
                    batch = []
            hashers.finish()
            for member, charge in batch:  # the last range, not full: here
                levels.add(sumtree.leaf_packed(period, member, charge))
        if seen != count:
            raise ApportionError(f"expected {count} members counted, found {seen}")
        root = levels.root()
        result = Apportionment(
            aid_fen=aid_fen,
            fee_fen=fee_fen,
            carry_in_fen=carry_in_fen,
            due_fen=due,
            members=count,
            share_fen=share,
            carry_out_fen=share * count - due,
            subsidy_fen=subsidy,
            capped_members=capped,
            charges={},
        )
        check_conservation(result, total)
        return SpooledClose(result, root, folder)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
