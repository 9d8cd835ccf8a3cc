"""A period close over the stored members in bounded memory (specs/plan.md §8.2, §9).

A plan of tens of millions of members cannot hold a period's members, their charges
and its sum tree in memory. :func:`spool_close` takes the counted members in id
order as a stream of ``(member, charged earlier this year)``, charges each as it
comes, and writes what the close must store to temporary files as it goes: the
contribution rows, and each level of the tree's complete subtrees (the level above
gets a node each time the one below completes a pair). It keeps only one unpaired
node per level, so its memory does not grow with the members; the root folds the
right edge, one node per set bit of the member count, as :func:`sumtree.root` does.

:class:`SpooledClose` then writes those rows in the transaction that appends the
``period.closed`` entry (:meth:`SpooledClose.store`) and adds the charges to the
year's rows (:meth:`SpooledClose.charges`), reading its files back in batches.
"""

from __future__ import annotations

import contextlib
import shutil
import struct
import tempfile
import weakref
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from ledger.domain import sumtree
from ledger.domain.apportion import ApportionError, Apportionment, fee
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

    def add(self, node: bytes) -> None:
        level = 0
        while True:
            if level == len(self._files):
                self._files.append((self._folder / f"level-{level}").open("wb"))
                self._pending.append(None)
            self._files[level].write(node)
            left = self._pending[level]
            if left is None:
                self._pending[level] = node
                return
            self._pending[level] = None
            node = sumtree.interior_packed(left, node)
            level += 1

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
    fee_fen = fee(aid_fen, fee_bp)
    due = aid_fen + fee_fen - carry_in_fen
    share = -(-due // count) if due > 0 and count > 0 else 0
    folder = Path(tempfile.mkdtemp(prefix="tally-close-"))
    try:
        levels = _Levels(folder)
        total = subsidy = capped = seen = 0
        previous = ""
        with (folder / "leaves").open("wb") as leaves, contextlib.closing(levels):
            for member, before in counted:
                if not previous < member:
                    raise ApportionError(
                        f"expected members in increasing id order, found {member} after {previous}"
                    )
                previous = member
                charge = min(share, max(0, annual_cap_fen - before))
                if charge < share:
                    capped += 1
                    subsidy += share - charge
                total += charge
                seen += 1
                leaves.write(_row(member, charge))
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
        expected = aid_fen + fee_fen - carry_in_fen + result.carry_out_fen - subsidy
        if total != expected:
            raise ApportionError(f"expected members to be charged {expected} fen, found {total}")
        return SpooledClose(result, root, folder)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
