"""Replaying a whole log from genesis: every entry, the chain, and the root (specs/log.md §3).

:class:`Replayer` takes the log's entries in seq order, from the server's pages or
from an offline dump, and checks, for each one:

- the entry rules and the chain rules (entries.md §3, log.md §3), with
  :class:`~verifier.entry.ChainVerifier`;
- for entry 0, that the genesis body names exactly the pinned origin and key
  (log.md §2), so the log itself commits to the key the member trusts;
- when the server also sent its decoding of the bytes (``entry``, specs/http.md),
  that it is exactly what the bytes say;

and folds every leaf hash into a :class:`~verifier.compact.CompactTree`, whose root
the caller compares with a verified checkpoint at the same size. A violation is
recorded with its seq and the replay goes on, so one run reports each of them; the
chain is picked up again from the bytes actually received.

With ``check_plan``, every entry is also fed to a
:class:`~verifier.plan.state.PlanReplay`, which re-checks the mutual-aid plan's rules
(specs/plan.md §2-§9). The plan replay stops at its first violation (what follows
depends on the state that entry broke), and at the first entry that breaks the log's
own rules. Its state cannot be resumed from the saved tree frontier, so an audit
that resumes at entry n > 0 first re-reads entries 0 to n - 1 for the plan part only
(:meth:`Replayer.add_prefix`): their chain is recomputed and must end in exactly the
hash the earlier audit recorded for entry n - 1, which proves they are the entries
it checked; the log part's resume is unchanged.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from queue import Full, Queue
from typing import Any, TypeVar

from verifier.b64 import encode
from verifier.client import MAX_PAGE, LogClient, ServedEntry
from verifier.compact import CompactTree
from verifier.entry import (
    ZERO_PREV,
    ChainVerifier,
    Entry,
    TimeBounds,
    entry_hash_hex,
    parse_entry,
)
from verifier.errors import ChainError, EntryError, ResponseTooLargeError, VerificationError
from verifier.jcs import sorted_compact
from verifier.merkle import leaf_hash
from verifier.note import Verifier
from verifier.plan.errors import ReplayOrderError
from verifier.plan.records import PlanRuleError
from verifier.plan.state import PlanReplay, PlanSummary
from verifier.state import AuditProgress
from verifier.strict_json import loads
from verifier.tiles import WIDTH as BUNDLE

T = TypeVar("T")

MAX_REPORTED = 100
"""Violations kept for the report; the rest are only counted."""


@dataclass(frozen=True)
class Violation:
    """A broken rule, at ``seq`` (``None`` for the log as a whole, e.g. its root).

    ``rule`` names a plan rule (``"§5.9 paid.amount"``) for a plan violation.
    """

    seq: int | None
    message: str
    rule: str | None = None


class AuditFailedError(VerificationError):
    """The replay found violations; ``violations`` lists the first :data:`MAX_REPORTED`."""

    def __init__(self, violations: list[Violation], count: int) -> None:
        first = violations[0].message if violations else "no details"
        super().__init__(f"{count} violation(s); the first: {first}")
        self.violations = violations
        self.count = count


class Replayer:
    """Check entries in seq order and recompute the tree root (see the module doc).

    Starts at genesis, or resumes from saved ``progress``. ``watch`` lists sizes
    whose roots to remember in :attr:`roots_at` (to compare a dump with a saved
    checkpoint). With ``check_plan``, the plan's rules are replayed too; when
    resuming, the caller first passes entries 0 to :attr:`start_seq` - 1 to
    :meth:`add_prefix`.
    """

    def __init__(
        self,
        key: Verifier,
        progress: AuditProgress | None = None,
        *,
        watch: frozenset[int] = frozenset(),
        check_plan: bool = False,
        bounds: TimeBounds | None = None,
    ) -> None:
        self.key = key
        self.bounds = bounds
        if progress is None:
            progress = AuditProgress(0, ZERO_PREV, None, [])
        self.start_seq = progress.next_seq
        self.plan: PlanReplay | None = PlanReplay() if check_plan else None
        if self.plan is not None:  # members' signatures checked on the other cores
            self.plan.requests.signatures.defer()
        self.plan_stopped_at: int | None = None
        """The seq where the plan replay stopped (a violation there), if it did."""
        self._prefix_chain = ChainVerifier(bounds=bounds)
        self._prefix_end_hash = progress.last_hash
        self._chain = ChainVerifier(
            progress.next_seq,
            progress.last_hash if progress.next_seq else None,
            progress.last_time,
            bounds,
        )
        self._chain.log_key = key.to_string()
        self.tree = CompactTree(progress.next_seq, progress.frontier)
        self.watch = watch
        self.roots_at: dict[int, bytes] = {}
        if self.tree.size in watch:
            self.roots_at[self.tree.size] = self.tree.root()
        self.violations: list[Violation] = []
        self.violation_count = 0

    @property
    def next_seq(self) -> int:
        """The seq of the next entry expected."""
        return self.tree.size

    @property
    def plan_prefix_size(self) -> int:
        """How many entries :meth:`add_prefix` still needs before :meth:`add` may be called."""
        if self.plan is None:
            return 0
        return max(0, self.start_seq - self._prefix_chain.next_seq)

    def add_prefix(self, raw: bytes) -> None:
        """Feed an entry before :attr:`start_seq` to the plan replay only (see the module doc).

        These entries were checked by the audit that saved the progress; recomputing
        their chain and comparing its last hash with the saved one proves they are the
        same, byte for byte.
        """
        seq = self._prefix_chain.next_seq
        if self.plan is None or seq >= self.start_seq:
            raise ValueError(f"no prefix entry is expected (start_seq {self.start_seq})")
        try:
            entry = self._prefix_chain.add(raw)
        except (EntryError, ChainError) as exc:
            self._stop_plan(seq, f"re-reading the entries an earlier audit checked: {exc}")
            self._prefix_chain = ChainVerifier(seq + 1, entry_hash_hex(raw), bounds=self.bounds)
            return
        self._apply_plan(entry)
        if self._prefix_chain.next_seq == self.start_seq:
            found = self._prefix_chain.prev
            if found != self._prefix_end_hash:
                self._stop_plan(
                    seq,
                    f"seq {seq}: the entries 0 to {seq} served now chain to the hash {found}, "
                    f"but the earlier audit that checked them recorded {self._prefix_end_hash}: "
                    "the server now serves other entries than those it served before",
                )

    def _apply_plan(self, entry: Entry) -> None:
        if self.plan is None or self.plan_stopped_at is not None:
            return
        try:
            self.plan.apply(entry)
        except PlanRuleError as exc:
            # A signature of this entry or an earlier one, checked aside, that failed
            # is the first violation (a signature is checked before an entry's later rules).
            first = self.plan.requests.signatures.first_failure(exc.seq) or exc
            self._stop_at(first)
        except ReplayOrderError:
            # A genesis the replay cannot read: the log's own checks report it.
            self.plan_stopped_at = entry.seq

    def _stop_at(self, exc: PlanRuleError) -> None:
        self.plan_stopped_at = exc.seq
        self._report(exc.seq, str(exc), exc.rule)
        if self.plan is not None:
            self.plan.requests.signatures.close()

    def _settle_signatures(self) -> None:
        """Wait for the signatures checked aside; the first that failed is a violation."""
        if self.plan is None or self.plan_stopped_at is not None:
            return
        failed = self.plan.requests.signatures.first_failure()
        if failed is not None:
            self._stop_at(failed)

    def _stop_plan(self, seq: int, message: str | None) -> None:
        if self.plan is not None and self.plan_stopped_at is None:
            self.plan_stopped_at = seq
            if message is not None:
                self._report(seq, message)

    def plan_summary(self) -> PlanSummary | None:
        """What the plan replay checked, or ``None`` if it did not run or stopped."""
        self._settle_signatures()
        if self.plan is None or self.plan_stopped_at is not None:
            return None
        self.plan.requests.signatures.close()
        return self.plan.summary()

    def add(self, raw: bytes, shown: dict[str, Any] | None = None) -> None:
        """Check the entry at :attr:`next_seq`: its bytes, and the server's decoding if given."""
        seq = self.tree.size
        if self.plan_prefix_size:
            raise ValueError(
                f"the plan replay needs entries {self._prefix_chain.next_seq} to "
                f"{self.start_seq - 1} through add_prefix first"
            )
        leaf = leaf_hash(raw)
        self.tree.append(leaf)
        if self.tree.size in self.watch:
            self.roots_at[self.tree.size] = self.tree.root()
        try:
            entry = self._chain.add(raw)
        except (EntryError, ChainError) as exc:
            self._report(seq, str(exc), exc.rule if isinstance(exc, ChainError) else None)
            try:
                time: str | None = parse_entry(raw).time
            except EntryError:
                time = None
            # Go on from the bytes received, so that each later break is reported once.
            self._chain = ChainVerifier(seq + 1, entry_hash_hex(raw), time, self.bounds)
            self._stop_plan(seq, None)  # the log's own violation is reported already
            return
        if seq == 0:
            self._check_genesis(entry.actor, entry.body)
        if shown is not None and not _same_json(shown, entry.raw):
            self._report(
                seq,
                f"seq {seq}: the server's decoded 'entry' is not what the entry's exact bytes "
                "say; the bytes are what the log signs, the decoding misrepresents them",
            )
        self._apply_plan(entry)

    def _check_genesis(self, actor: str, body: dict[str, Any]) -> None:
        want = {"origin": self.key.name, "verifier_key": self.key.to_string()}
        if body != want:
            self._report(
                0,
                f"seq 0: the genesis entry must name the pinned log {want['origin']} and key "
                f"{want['verifier_key']}, found body {json.dumps(body)[:300]}",
            )
        if actor != "operator":
            self._report(0, f"seq 0: the genesis actor must be 'operator', found {actor!r}")

    def report(self, seq: int | None, message: str) -> None:
        """Record a violation found beside the replay (the server's tiles disagree, say)."""
        self._report(seq, message)

    def _report(self, seq: int | None, message: str, rule: str | None = None) -> None:
        self.violation_count += 1
        if len(self.violations) < MAX_REPORTED:
            self.violations.append(Violation(seq, message, rule))

    def check_root(self, root: bytes) -> None:
        """Record a violation unless the root of the entries so far is ``root``."""
        mine = self.tree.root()
        if mine != root:
            self._report(
                None,
                f"the {self.tree.size:,} entries received hash to the root "
                f"{encode(mine)}, but the signed checkpoint of that size "
                f"has {encode(root)}: some entry is not the one the log signed",
            )

    def progress(self) -> AuditProgress:
        """How far the replay has come, to save and resume from (every entry before it
        checked, its signatures included)."""
        self._settle_signatures()
        return AuditProgress(
            self._chain.next_seq, self._chain.prev, self._chain.last_time, list(self.tree.frontier)
        )

    def raise_if_failed(self) -> None:
        """Raise :class:`AuditFailedError` if any violation was recorded."""
        self._settle_signatures()
        if self.violation_count:
            raise AuditFailedError(self.violations, self.violation_count)


def _same_json(shown: dict[str, Any], raw: bytes) -> bool:
    # Only called on bytes that passed the strict entry checks. The decoding came from
    # a JSON parser (string keys only); if it encodes to exactly the canonical text,
    # it is that value; otherwise compare values, type for type.
    try:
        if sorted_compact(shown) == raw.decode("utf-8"):
            return True
    except (TypeError, ValueError, RecursionError):
        pass
    return _strict_equal(shown, loads(raw))


def _strict_equal(a: object, b: object) -> bool:
    # Python says 1 == True == 1.0; JSON does not. A stack, not recursion: the
    # server's decoding may nest as deep as its JSON parser allows.
    stack = [(a, b)]
    while stack:
        x, y = stack.pop()
        if type(x) is not type(y):
            return False
        if isinstance(x, dict) and isinstance(y, dict):
            if x.keys() != y.keys():
                return False
            stack.extend((x[k], y[k]) for k in x)
        elif isinstance(x, list) and isinstance(y, list):
            if len(x) != len(y):
                return False
            stack.extend(zip(x, y, strict=True))
        elif x != y:
            return False
    return True


def fetch_pages(client: LogClient, start: int, end: int) -> Iterator[list[ServedEntry]]:
    """Yield the server's pages of entries ``start`` to ``end - 1``, in order.

    Pages on from the last seq received plus one (the server may send fewer than
    asked). A page too large for the client's cap is asked again at half the size,
    down to one entry.
    """
    size = MAX_PAGE
    while start < end:
        stop = min(start + size, end)
        try:
            page = client.entries(start, stop)
        except ResponseTooLargeError:
            if stop - start == 1:
                raise
            size = max(1, (stop - start) // 2)
            continue
        yield page
        start = page[-1].seq + 1


def fetch_bundles(client: LogClient, start: int, end: int) -> Iterator[list[ServedEntry]]:
    """Entries ``start`` to ``end - 1`` from the server's entry bundles (specs/http.md §Tiles).

    ``end`` must be a checkpoint's size: the last bundle is then the partial one that
    size implies, the only partial bundle a client may ask for.
    """
    n = start // BUNDLE
    while n * BUNDLE < end:
        first, width = n * BUNDLE, min(BUNDLE, end - n * BUNDLE)
        raws = client.entry_bundle(n, width)
        yield [
            ServedEntry(s, raws[s - first], None) for s in range(max(start, first), first + width)
        ]
        n += 1


_DONE = object()


def prefetch(pages: Iterator[T], depth: int = 2) -> Iterator[T]:
    """Yield from ``pages`` while a thread fetches up to ``depth`` ahead.

    The server's time and the network overlap the checks of the page before. An
    error in the thread is raised here, at the point where its page would have been.
    """
    queue: Queue[tuple[object, BaseException | None]] = Queue(depth)
    stop = threading.Event()

    def put(item: tuple[object, BaseException | None]) -> bool:
        while not stop.is_set():
            try:
                queue.put(item, timeout=0.1)
                return True
            except Full:
                continue
        return False

    def work() -> None:
        try:
            for page in pages:
                if not put((page, None)):
                    return
        except BaseException as exc:  # handed to the consumer, raised there
            put((_DONE, exc))
            return
        put((_DONE, None))

    thread = threading.Thread(target=work, name="tally-verify-prefetch", daemon=True)
    thread.start()
    try:
        while True:
            item, error = queue.get()
            if error is not None:
                raise error
            if item is _DONE:
                return
            yield item  # type: ignore[misc]
    finally:
        stop.set()
        thread.join(timeout=1)
