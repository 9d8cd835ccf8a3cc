"""The log: one sequencer appends entries; anyone reads entries, roots and proofs.

Appending (specs/log.md §3): inside one write transaction that holds the
sequencer lock, read the last entry and the tree's frontier, assign each new
entry the next seq, ``prev`` = SHA-256 of the entry before and a time no earlier
than the one before, serialise it canonically, and insert the entries with every
complete-subtree hash they create. The transaction is the batch: it commits whole
(group commit, one fsync) or not at all. A retired log (§7: its last entry is
``log.retired``) takes nothing more.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.engine import Connection

from ledger.errors import ChainError, RetiredError, TreeError
from ledger.log import tree
from ledger.log.entry import (
    RETIRED_TYPE,
    ZERO_HASH,
    Entry,
    encode_entry,
    entry_hash,
    format_time,
    parse_entry,
)
from ledger.log.store import MissingHashError, Store, StoreHashReader, entry_table, hash_table

MAX_BATCH = 10_000
MAX_AHEAD = timedelta(seconds=600)
"""How far ahead of the sequencer's clock an entry may be dated (specs/log.md §3)."""
_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class NewEntry:
    """What a caller asks to append; the sequencer fills in seq, prev and time.

    ``time`` may be given (``YYYY-MM-DDTHH:MM:SSZ``) for replayed or simulated
    history; it must not be earlier than the entry before it.
    """

    type: str
    actor: str
    body: Mapping[str, Any] = field(default_factory=dict)
    time: str | None = None


Guard = Callable[[Connection, list[Entry]], None]


@dataclass(frozen=True, slots=True)
class Appended:
    """An entry as the log stored it."""

    seq: int
    hash: str
    raw: bytes


def _utc_now() -> datetime:
    return datetime.now(UTC)


class Log:
    """The append-only log over a :class:`Store`."""

    def __init__(self, store: Store, *, clock: Callable[[], datetime] = _utc_now) -> None:
        self.store = store
        self._clock = clock

    # -- writing --------------------------------------------------------------

    def append(self, new: NewEntry) -> Appended:
        """Append one entry in its own transaction."""
        return self.append_batch([new])[0]

    def append_batch(
        self, batch: Sequence[NewEntry], *, guard: Guard | None = None
    ) -> list[Appended]:
        """Append entries atomically, in order, under the sequencer lock.

        Every entry is validated before anything is written; one bad entry refuses
        the whole batch and leaves the log as it was. ``guard``, if given, sees the
        entries exactly as they will be stored, inside the lock, and may refuse them
        by raising (the plan's rules use this, so no other writer can slip in between
        the check and the append).
        """
        if not batch:
            return []
        if len(batch) > MAX_BATCH:
            raise TreeError(f"expected at most {MAX_BATCH} entries per batch, found {len(batch)}")
        with self.store.writer() as conn:
            size = self.store.size(conn)
            if size == 0:
                prev, last_time = ZERO_HASH, ""
            else:
                last_raw = conn.execute(
                    select(entry_table.c.data).where(entry_table.c.seq == size - 1)
                ).scalar_one()
                last = parse_entry(bytes(last_raw))
                prev, last_time = last.hash, last.time
                if last.type == RETIRED_TYPE:
                    raise RetiredError(
                        size,
                        f"the log was retired at seq {size - 1} (its successor is "
                        f"{last.body.get('successor_origin')!r}): nothing may be appended",
                    )
            roots = self.store.read_hashes(conn, tree.Frontier.positions(size))
            frontier = tree.Frontier(size, roots)
            hash_start = tree.stored_hash_count(size)
            now = format_time(self._clock())
            latest = format_time(self._clock() + MAX_AHEAD)
            entry_rows: list[dict[str, Any]] = []
            hash_rows: list[dict[str, Any]] = []
            out: list[Appended] = []
            for offset, new in enumerate(batch):
                seq = size + offset
                when = new.time if new.time is not None else max(now, last_time)
                _check_new(
                    new, seq, when, last_time, latest, last_in_batch=offset == len(batch) - 1
                )
                raw = encode_entry(
                    seq=seq, time=when, type=new.type, prev=prev, actor=new.actor, body=new.body
                )
                for stored in frontier.append(tree.leaf_hash(raw)):
                    hash_rows.append({"idx": hash_start + len(hash_rows), "hash": stored})
                entry_rows.append({"seq": seq, "data": raw})
                prev, last_time = entry_hash(raw), when
                out.append(Appended(seq=seq, hash=prev, raw=raw))
            if guard is not None:
                guard(conn, [parse_entry(a.raw) for a in out])
            conn.execute(entry_table.insert(), entry_rows)
            conn.execute(hash_table.insert(), hash_rows)
        return out

    # -- reading --------------------------------------------------------------

    def size(self) -> int:
        """The number of entries committed so far."""
        with self.store.reader() as conn:
            return self.store.size(conn)

    def entries(self, start: int, end: int) -> list[tuple[int, bytes]]:
        """Entries with ``start <= seq < end``, as (seq, exact bytes)."""
        with self.store.reader() as conn:
            return self.store.entry_bytes(conn, start, end)

    def root(self, size: int) -> bytes:
        """RFC 9162 root of the first ``size`` entries, from stored hashes."""
        return self._from_store(size, lambda reader: tree.root_at(reader, size))

    def inclusion_proof(self, seq: int, size: int) -> list[bytes]:
        """RFC 9162 inclusion proof of entry ``seq`` in the tree of ``size`` entries."""
        return self._from_store(size, lambda reader: tree.inclusion_proof(reader, seq, size))

    def leaf_and_inclusion_proof(self, seq: int, size: int) -> tuple[bytes, list[bytes]]:
        """Entry ``seq``'s stored leaf hash and its inclusion proof, in one read."""
        if not 0 <= seq < size:
            raise TreeError(f"expected 0 <= seq < tree size, found seq {seq}, size {size}")
        leaf_position = tree.stored_hash_index(0, seq)
        found: list[bytes] = []

        class WithLeaf:
            def read_hashes(self, indexes: Sequence[int]) -> list[bytes]:
                hashes = store.fetch_hashes([*indexes, leaf_position])
                found.append(hashes[-1])
                return hashes[:-1]

        store = self.store
        proof = self._from_store(size, lambda _: tree.inclusion_proof(WithLeaf(), seq, size))
        leaf = found[0] if found else store.fetch_hashes([leaf_position])[0]
        return leaf, proof

    def entries_at(self, seqs: Iterable[int]) -> dict[int, bytes]:
        """The exact bytes of each entry in ``seqs`` (all must exist), in few reads."""
        wanted = sorted(set(seqs))
        found: dict[int, bytes] = {}
        with self.store.reader() as conn:
            for i in range(0, len(wanted), _PER_READ):
                found.update(self.store.entries_in(conn, wanted[i : i + _PER_READ]))
        missing = [s for s in wanted if s not in found]
        if missing:
            raise TreeError(f"expected entry {missing[0]} in the log of {self.size()} entries")
        return {s: found[s] for s in wanted}

    def inclusion_proofs(self, seqs: Iterable[int], size: int) -> dict[int, list[bytes]]:
        """RFC 9162 inclusion proofs of many entries in the tree of ``size``, from one read.

        The proofs' shapes do not depend on the hash values, so a first pass with
        placeholder hashes lists every stored position they need; one query reads
        them all, and a second pass builds the proofs from what it read.
        """
        wanted = sorted(set(seqs))
        positions: set[int] = set()

        class Listing:
            def read_hashes(self, indexes: Sequence[int]) -> list[bytes]:
                positions.update(indexes)
                return [bytes(tree.HASH_SIZE)] * len(indexes)

        for seq in wanted:
            tree.inclusion_proof(Listing(), seq, size)
        ordered = sorted(positions)

        def read(_: tree.HashReader) -> dict[int, bytes]:
            hashes: dict[int, bytes] = {}
            for i in range(0, len(ordered), _PER_READ):
                chunk = ordered[i : i + _PER_READ]
                hashes.update(zip(chunk, self.store.fetch_hashes(chunk), strict=True))
            return hashes

        known = self._from_store(size, read)

        class Known:
            def read_hashes(self, indexes: Sequence[int]) -> list[bytes]:
                return [known[i] for i in indexes]

        return {seq: tree.inclusion_proof(Known(), seq, size) for seq in wanted}

    def consistency_proof(self, first: int, second: int) -> list[bytes]:
        """RFC 9162 consistency proof from the tree of ``first`` entries to ``second``."""
        return self._from_store(
            second, lambda reader: tree.consistency_proof(reader, first, second)
        )

    def _from_store(self, size: int, compute: Callable[[tree.HashReader], _T]) -> _T:
        # A tree of size n needs the stored hash covering leaf n-1, so a missing hash
        # means exactly "size beyond the log"; no separate size query is needed.
        if size < 0:
            raise TreeError(f"expected a tree size >= 0, found {size}")
        try:
            return compute(StoreHashReader(self.store))
        except MissingHashError:
            raise TreeError(f"expected a tree size from 0 to {self.size()}, found {size}") from None


_PER_READ = 5_000
"""Positions or seqs asked for in one statement (SQLite caps a statement's parameters)."""


def _check_new(
    new: NewEntry, seq: int, when: str, last_time: str, latest: str, *, last_in_batch: bool
) -> None:
    """The chain's rules a new entry at ``seq`` dated ``when`` must keep (specs/log.md §3, §7)."""
    if when < last_time:
        raise ChainError(
            seq,
            f"log.time.order (log.md §3): expected a time no earlier than {last_time}, "
            f"found {when}",
        )
    if when > latest:
        raise ChainError(
            seq,
            f"log.time.ahead (log.md §3): expected a time no later than {latest} "
            f"(now and {MAX_AHEAD.seconds} s of clock skew), found {when}",
        )
    if seq == 0:
        # Genesis is written by ledger.instance.init_ledger; checked here so no other
        # path can start a log with anything else.
        if new.type != "log.genesis":
            raise ChainError(0, f"log.genesis (log.md §3): expected it first, found {new.type}")
    elif new.type == "log.genesis":
        raise ChainError(seq, "log.genesis (log.md §3): it may only be entry 0")
    elif new.type == RETIRED_TYPE and not last_in_batch:
        raise RetiredError(seq, "log.retired must be the log's last entry")
