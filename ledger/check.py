"""``tally check``: re-derive the whole log from its entry bytes and compare (specs/log.md §6).

From entry 0 onwards, each entry's bytes are parsed against specs/entries.md,
their seq and prev checked against the chain, and the stored hashes they create
recomputed and compared with the ``tree_hash`` rows; no extra row may exist. Each
signed checkpoint must verify with the log's key and carry the root recomputed at
its size. A ``log.retired`` entry must name a successor and be the last entry, and
no checkpoint may be larger than the final one covering it (specs/log.md §7). The
report names the first mismatch by seq.
"""

from __future__ import annotations

import bisect
import multiprocessing
import os
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select

from ledger.errors import EntryError, LedgerError, StoreError
from ledger.log import tree
from ledger.log.entry import (
    GENESIS_TYPE,
    RETIRED_TYPE,
    ZERO_HASH,
    entry_hash,
    format_time,
    parse_entry,
    parse_time,
    read_envelope_tail,
)
from ledger.log.log import MAX_AHEAD
from ledger.log.store import LogMeta, Store, checkpoint_table, entry_table, hash_table
from ledger.publish.checkpoint import open_checkpoint
from ledger.publish.note import Verifier, parse_verifier_key
from ledger.retirement import check_retirement

CHUNK = 20_000
# Entries per unit of work; a log of more than two is checked by several processes.
RANGE_SIZE = 100_000
MAX_WORKERS = 4


@dataclass
class Mismatch:
    """One way the stored state disagrees with what its entries imply."""

    seq: int | None
    what: str

    def __str__(self) -> str:
        where = f"seq {self.seq}" if self.seq is not None else "log"
        return f"{where}: {self.what}"


@dataclass
class CheckReport:
    """What ``check`` found: sizes covered and the mismatches, first first.

    ``retired`` is the seq of the log's ``log.retired`` entry (specs/log.md §7), with
    its ``successor`` (origin, verifier key) and whether a ``final`` checkpoint
    covering it is signed.
    """

    entries: int = 0
    hashes: int = 0
    checkpoints: int = 0
    mismatches: list[Mismatch] = field(default_factory=list)
    retired: int | None = None
    successor: tuple[str, str] | None = None
    final: bool = False

    @property
    def ok(self) -> bool:
        """True when nothing disagrees."""
        return not self.mismatches


@dataclass
class RangeResult:
    """What checking entries ``start <= seq < end`` found."""

    start: int
    end: int
    checked: int = 0
    hashes: int = 0
    mismatch: Mismatch | None = None
    roots: dict[int, bytes] = field(default_factory=dict)
    retired: int | None = None
    successor: tuple[str, str] | None = None


@dataclass(frozen=True)
class SigningTimes:
    """When each stored checkpoint was signed, by size: how late each entry may be dated.

    An entry's time is at most :data:`~ledger.log.log.MAX_AHEAD` after the signing
    of the first checkpoint that covers it (specs/log.md §3, ``log.time.ahead``);
    an entry no checkpoint covers yet has no such bound.
    """

    sizes: tuple[int, ...] = ()
    latest: tuple[str, ...] = ()

    @classmethod
    def of(cls, rows: Iterable[tuple[int, str]]) -> SigningTimes:
        """From (tree_size, signed_at) rows, in increasing size."""
        pairs = sorted(rows)
        return cls(
            tuple(size for size, _ in pairs),
            tuple(format_time(parse_time(at) + MAX_AHEAD) for _, at in pairs),
        )

    def bound(self, seq: int) -> str | None:
        """The latest time entry ``seq`` may carry, or None if no checkpoint covers it."""
        i = bisect.bisect_right(self.sizes, seq)
        return self.latest[i] if i < len(self.sizes) else None


def check_range(
    store: Store,
    start: int,
    end: int,
    meta: LogMeta,
    full: bool,
    wanted_roots: frozenset[int],
    signing: SigningTimes = SigningTimes(),
) -> RangeResult:
    """Check entries ``start <= seq < end`` and the hashes they create.

    The state before ``start`` (the previous entry's hash and time, and the tree's
    frontier) is read from the store; the range before vouches for it. So ranges
    can be checked in any order, or at once, and together they check everything.
    """
    result = RangeResult(start, end)
    before = _state_before(store, start)
    if isinstance(before, Mismatch):
        result.mismatch = before
        return result
    prev, last_time, frontier = before
    for chunk in range(start, end, CHUNK):
        chunk_end = min(chunk + CHUNK, end)
        first_pos, last_pos = tree.stored_hash_count(chunk), tree.stored_hash_count(chunk_end)
        rows, stored = store.scan(chunk, chunk_end)
        if len(stored) != last_pos - first_pos:
            result.mismatch = Mismatch(
                chunk,
                f"expected {last_pos - first_pos} stored hashes for seqs "
                f"{chunk}..{chunk_end - 1}, found {len(stored)}",
            )
            return result
        offset = 0
        expected_seq = chunk
        for seq, raw in rows:
            problem, entry_time = _check_entry(seq, expected_seq, raw, prev, last_time, meta, full)
            if problem is None:
                problem = _time_ahead(entry_time, signing.bound(seq))
            if problem is None:
                problem = _check_retirement(result, seq, raw, meta)
            if problem is not None:
                result.mismatch = Mismatch(expected_seq, problem)
                return result
            computed = frontier.append(tree.leaf_hash(raw))
            if stored[offset : offset + len(computed)] != computed:
                bad = next(i for i, h in enumerate(computed) if stored[offset + i] != h)
                result.mismatch = Mismatch(
                    seq,
                    f"stored hash at position {first_pos + offset + bad} is "
                    f"{stored[offset + bad].hex()}, the entries give {computed[bad].hex()}",
                )
                return result
            offset += len(computed)
            prev, last_time = entry_hash(raw), entry_time
            expected_seq += 1
            if frontier.size in wanted_roots:
                result.roots[frontier.size] = frontier.root()
        if expected_seq != chunk_end:
            result.mismatch = Mismatch(expected_seq, f"expected the entry with seq {expected_seq}")
            return result
        result.checked = chunk_end - start
        result.hashes += offset
    return result


def _state_before(store: Store, start: int) -> tuple[str, str, tree.Frontier] | Mismatch:
    """The chain hash and time of entry ``start - 1`` and the tree's frontier at ``start``."""
    if start == 0:
        return ZERO_HASH, "", tree.Frontier(0, [])
    before, _ = store.scan(start - 1, start)
    tail = read_envelope_tail(before[0][1]) if before else None
    if tail is None:
        return Mismatch(start - 1, "the entry before this range is unreadable")
    try:
        frontier = tree.Frontier(start, store.fetch_hashes(tree.Frontier.positions(start)))
    except StoreError as exc:
        return Mismatch(start, f"the tree before this entry is incomplete: {exc}")
    return entry_hash(before[0][1]), tail[2], frontier


def _check_range_apart(
    url: str,
    start: int,
    end: int,
    meta: LogMeta,
    full: bool,
    wanted: frozenset[int],
    signing: SigningTimes,
) -> RangeResult:
    """:func:`check_range` in a worker process, on a connection of its own."""
    store = Store(url, pool=False)
    try:
        return check_range(store, start, end, meta, full, wanted, signing)
    finally:
        store.dispose()


def check_log(
    store: Store,
    *,
    full: bool = False,
    workers: int | None = None,
    range_size: int = RANGE_SIZE,
    progress: Callable[[int, int], None] | None = None,
) -> CheckReport:
    """Re-derive every stored hash and the chain; compare with the store and every checkpoint.

    Entries were validated against specs/entries.md when appended; by default
    their envelope fields are re-read from the canonical layout, which is enough
    to re-derive the chain (any changed byte changes the hashes). ``full``
    re-validates every entry completely, at about a third of the speed.

    A log longer than two ranges is checked by ``workers`` processes (one per
    core by default), a range each; the report names the first mismatch by seq,
    and also stray hash rows and checkpoint failures.
    """
    report = CheckReport()
    meta = store.require_meta()
    with store.reader() as conn:
        size = store.size(conn)
        entry_count = conn.execute(select(func.count()).select_from(entry_table)).scalar_one()
        hash_count = conn.execute(select(func.count()).select_from(hash_table)).scalar_one()
        checkpoints = (
            conn.execute(select(checkpoint_table).order_by(checkpoint_table.c.tree_size))
            .mappings()
            .all()
        )
    if entry_count != size:
        report.mismatches.append(
            Mismatch(
                None, f"expected {size} entry rows for seqs 0..{size - 1}, found {entry_count}"
            )
        )
    signing = SigningTimes.of((int(r["tree_size"]), str(r["signed_at"])) for r in checkpoints)
    roots: dict[int, bytes] = {0: tree.EMPTY_ROOT}
    plan = _RangePlan(store, meta, full, frozenset(signing.sizes), signing, size, range_size)
    broken = plan.run(report, roots, workers, progress) is not None
    if not broken and hash_count != tree.stored_hash_count(size):
        report.mismatches.append(
            Mismatch(
                None,
                f"expected {tree.stored_hash_count(size)} stored hashes for "
                f"{size} entries, found {hash_count}",
            )
        )
    verifier = parse_verifier_key(meta.verifier_key)
    for row in checkpoints:
        opened, problem = _check_checkpoint(row, verifier, roots, size, broken)
        report.checkpoints += opened
        if problem is not None:
            report.mismatches.append(problem)
    if report.retired is not None:
        _check_final(report, frozenset(signing.sizes))
    report.mismatches.sort(key=lambda m: (m.seq is None, m.seq or 0))
    return report


@dataclass(frozen=True)
class _RangePlan:
    """How a check splits the log into ranges, and runs them here or in worker processes."""

    store: Store
    meta: LogMeta
    full: bool
    wanted: frozenset[int]
    signing: SigningTimes
    size: int
    range_size: int

    def run(
        self,
        report: CheckReport,
        roots: dict[int, bytes],
        workers: int | None,
        progress: Callable[[int, int], None] | None,
    ) -> RangeResult | None:
        """Check every range in order; fold the results into ``report``; the first broken."""
        ranges = [
            (start, min(start + self.range_size, self.size))
            for start in range(0, self.size, self.range_size)
        ]
        count = workers if workers is not None else min(os.cpu_count() or 1, MAX_WORKERS)
        args = (self.meta, self.full, self.wanted, self.signing)
        if count > 1 and len(ranges) > 2:
            context = multiprocessing.get_context("spawn")
            with ProcessPoolExecutor(max_workers=count, mp_context=context) as pool:
                futures = [
                    pool.submit(_check_range_apart, self.store.url, a, b, *args) for a, b in ranges
                ]
                found = _collect(report, roots, (f.result() for f in futures), self.size, progress)
                for future in futures:
                    future.cancel()
                return found
        results = (check_range(self.store, a, b, *args) for a, b in ranges)
        return _collect(report, roots, results, self.size, progress)


def _check_checkpoint(
    row: Mapping[Any, Any], verifier: Verifier, roots: dict[int, bytes], size: int, broken: bool
) -> tuple[bool, Mismatch | None]:
    """Whether a stored checkpoint's note opens with the log's key, and how it disagrees."""
    cp_size = int(row["tree_size"])
    try:
        checkpoint = open_checkpoint(row["note"], verifier)
    except LedgerError as exc:
        return False, Mismatch(None, f"checkpoint of size {cp_size}: {exc}")
    if checkpoint.size != cp_size or bytes(row["root"]) != checkpoint.root:
        return True, Mismatch(
            None, f"checkpoint row of size {cp_size} disagrees with its signed note"
        )
    if cp_size not in roots:
        if broken:
            return True, None
        return True, Mismatch(
            None, f"checkpoint of size {cp_size} is beyond the log's {size} entries"
        )
    if roots[cp_size] != checkpoint.root:
        return True, Mismatch(
            cp_size - 1,
            f"the signed checkpoint of size {cp_size} has root "
            f"{checkpoint.root.hex()}, the entries give {roots[cp_size].hex()}",
        )
    return True, None


def _time_ahead(entry_time: str, bound: str | None) -> str | None:
    """``log.time.ahead`` if the entry is dated after ``bound`` (specs/log.md §3)."""
    if bound is None or entry_time <= bound:
        return None
    return (
        f"log.time.ahead: dated {entry_time}, after {bound}, the signing of the first "
        f"checkpoint covering it and {MAX_AHEAD.seconds} s"
    )


def _check_final(report: CheckReport, wanted: frozenset[int]) -> None:
    """A retired log's final checkpoint (specs/log.md §7): whether it is signed; none beyond."""
    assert report.retired is not None
    final = report.retired + 1
    report.final = final in wanted
    for beyond in sorted(n for n in wanted if n > final):
        report.mismatches.append(
            Mismatch(
                None,
                f"a checkpoint of size {beyond} is signed beyond the final checkpoint of "
                f"the log retired at seq {report.retired}",
            )
        )


def _check_retirement(result: RangeResult, seq: int, raw: bytes, meta: LogMeta) -> str | None:
    """Nothing after ``log.retired``, whose body must name a successor (specs/log.md §7)."""
    if result.retired is not None:
        return (
            f"log.retired: an entry after the log's retirement at seq {result.retired}: a "
            "retired log takes nothing more"
        )
    tail = read_envelope_tail(raw)
    if (tail[3] if tail is not None else parse_entry(raw).type) != RETIRED_TYPE:
        return None
    body = parse_entry(raw).body
    try:
        check_retirement(body, meta.origin, meta.verifier_key)
    except LedgerError as exc:
        return f"log.retired: the log.retired entry is malformed: {exc}"
    result.retired = seq
    result.successor = (str(body["successor_origin"]), str(body["successor_verifier_key"]))
    return None


def _collect(
    report: CheckReport,
    roots: dict[int, bytes],
    results: Iterable[RangeResult],
    size: int,
    progress: Callable[[int, int], None] | None,
) -> RangeResult | None:
    """Fold range results in order into the report; return the first broken range."""
    for result in results:
        if report.retired is not None and result.end > result.start:
            report.mismatches.append(
                Mismatch(
                    result.start,
                    f"log.retired: an entry after the log's retirement at seq {report.retired}: "
                    "a retired log takes nothing more",
                )
            )
            return result
        report.entries += result.checked
        report.hashes += result.hashes
        roots.update(result.roots)
        report.retired, report.successor = result.retired, result.successor
        if result.mismatch is not None:
            report.mismatches.append(result.mismatch)
            return result
        if progress is not None:
            progress(report.entries, size)
    return None


def _check_entry(
    seq: int,
    expected_seq: int,
    raw: bytes,
    prev: str,
    last_time: str,
    meta: LogMeta,
    full: bool,
) -> tuple[str | None, str]:
    """Return (the problem or None, the entry's time)."""
    if seq != expected_seq:
        return f"log.seq: expected the entry with seq {expected_seq}, found seq {seq}", last_time
    tail = None if full or seq == 0 else read_envelope_tail(raw)
    if tail is None:
        try:
            entry = parse_entry(raw)
        except EntryError as exc:
            return f"entry bytes are invalid ({exc.kind}, entries.md §3): {exc}", last_time
        tail = (entry.prev, entry.seq, entry.time, entry.type)
        if seq == 0 and dict(entry.body) != {
            "origin": meta.origin,
            "verifier_key": meta.verifier_key,
        }:
            return "log.genesis: the genesis entry names another origin or key", entry.time
    entry_prev, entry_seq, entry_time, entry_type = tail
    if entry_seq != seq:
        return f"log.seq: entry row {seq} holds bytes for seq {entry_seq}", entry_time
    if entry_prev != prev:
        return f"log.prev: expected prev {prev}, found {entry_prev}", entry_time
    if entry_time < last_time:
        return (
            f"log.time.order: time {entry_time} is before the entry before's ({last_time})",
            entry_time,
        )
    if (seq == 0) != (entry_type == GENESIS_TYPE):
        return (
            f"log.genesis: expected {GENESIS_TYPE} exactly at seq 0, found {entry_type}",
            entry_time,
        )
    return None, entry_time
