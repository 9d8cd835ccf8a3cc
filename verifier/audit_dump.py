"""Auditing an offline dump (:mod:`verifier.dump`), and saving one from a server.

:func:`audit_dump` replays a dump as an online audit replays the log, and, when
the dump's key is the pinned one, compares it with the saved checkpoint: a dump
that does not extend it is a fork (:class:`~verifier.fork.ForkError`, with a
consistency proof built from the dump). :func:`audit_dump_links` checks only the
chain and the tree, one process per core. :func:`save_dump` writes a dump of the
log, checked as it is fetched.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path

from verifier.audit import Replayer, fetch_pages
from verifier.audit_online import plan_summary, raise_if_broken
from verifier.checkpoint import Checkpoint
from verifier.compact import consistency_proof
from verifier.dump import (
    DUMP_CHECKPOINT,
    DUMP_ENTRIES,
    DumpError,
    read_dump_checkpoint,
    read_dump_entries,
    scan_dump,
    write_dump_line,
)
from verifier.entry import TimeBounds
from verifier.errors import StateError
from verifier.fork import DIVERGED, SAME_SIZE, Fork, ForkError, Seen, classify_proof
from verifier.links import LinkReplay
from verifier.merkle import leaf_hash
from verifier.note import Verifier
from verifier.plan.state import PlanSummary
from verifier.progress import Progress, no_progress
from verifier.session import Growth, Session, accept_checkpoint
from verifier.state import State, atomic_file, utc_now, write_atomic

PROGRESS_EVERY = 1000
"""Entries between progress reports while replaying a dump."""


def missing_dump_file(folder: Path) -> str | None:
    """The name of a dump file ``folder`` lacks, or ``None`` if it holds both."""
    return next((n for n in (DUMP_CHECKPOINT, DUMP_ENTRIES) if not (folder / n).is_file()), None)


def holds_dump(folder: Path) -> bool:
    """Tell whether ``folder`` already holds (part of) a dump."""
    return any((folder / n).exists() for n in (DUMP_CHECKPOINT, DUMP_ENTRIES))


@dataclass(frozen=True)
class DumpAudit:
    """A passed audit of a dump, and how it stands to the saved checkpoint."""

    checkpoint: Checkpoint
    plan: PlanSummary
    saved: Checkpoint | None
    """The saved checkpoint, if the state pins the dump's key."""
    compared: bool
    """The dump holds the saved checkpoint's tree (it is not older, and not empty)."""


def audit_dump(
    folder: Path, key: Verifier, state: State | None, progress: Progress = no_progress
) -> DumpAudit:
    """Replay the dump in ``folder`` checked with ``key``; compare it with ``state``'s checkpoint.

    Raises :class:`~verifier.audit.AuditFailedError`, :class:`DumpError`, or
    :class:`~verifier.fork.ForkError` if the dump conflicts with the saved checkpoint.
    """
    note = read_dump_checkpoint(folder)
    checkpoint = accept_checkpoint(note, key)
    saved = state.verified_checkpoint if state is not None and state.verifier == key else None
    compare = saved is not None and 0 < saved.size <= checkpoint.size
    watch = frozenset({saved.size}) if compare and saved is not None else frozenset()
    received = [(checkpoint.size, utc_now())]
    if compare and saved is not None and state is not None:
        received.insert(0, (saved.size, state.checkpoint_fetched_at))
    replayer = Replayer(key, watch=watch, check_plan=True, bounds=TimeBounds(tuple(received)))
    advanced = 0
    with progress("Auditing dump", 0, checkpoint.size) as advance:
        for raw in read_dump_entries(folder, checkpoint.size):
            replayer.add(raw)
            if replayer.next_seq % PROGRESS_EVERY == 0 or replayer.next_seq == checkpoint.size:
                advance(replayer.next_seq - replayer.start_seq - advanced)
                advanced = replayer.next_seq - replayer.start_seq
    replayer.check_root(checkpoint.root)
    replayer.raise_if_failed()
    plan = plan_summary(replayer)
    if state is not None and saved is not None and compare:
        prefix_root = replayer.roots_at[saved.size]
        if prefix_root != saved.root:
            first = Seen(state.checkpoint, saved, state.checkpoint_url, state.checkpoint_fetched_at)
            second = Seen(note, checkpoint, f"dump:{folder}", None)
            fork = (
                Fork(SAME_SIZE, first, second)
                if saved.size == checkpoint.size
                else _divergence(folder, first, second, prefix_root)
            )
            raise ForkError(fork, key.to_string())
    return DumpAudit(checkpoint, plan, saved, compare)


def _divergence(folder: Path, first: Seen, second: Seen, prefix_root: bytes) -> Fork:
    """The fork between a saved checkpoint and a longer dump, with a proof built from the dump.

    The leaf hashes are read again only now, on this rare path, so that an audit
    of a dump never holds them all in memory. The proof is checked as the
    ``evidence`` command will check it, in case the dump changed in between.
    """
    m, n = first.checkpoint.size, second.checkpoint.size
    leaves = [leaf_hash(raw) for raw in read_dump_entries(folder, n)]
    fork = classify_proof(first, second, consistency_proof(leaves, m), prefix_root)
    if fork is None or fork.kind != DIVERGED:
        raise DumpError(f"{folder} changed while it was being read; audit it again")
    return fork


def audit_dump_links(folder: Path, key: Verifier, progress: Progress = no_progress) -> Checkpoint:
    """The chain and the tree of a dump, one process per core; its checkpoint if they hold."""
    checkpoint = accept_checkpoint(read_dump_checkpoint(folder), key)
    links = LinkReplay()
    # The dump's checkpoint exists now: none of its entries may be dated later (log.md §3).
    segments = scan_dump(
        folder, checkpoint.size, bounds=TimeBounds(((checkpoint.size, utc_now()),))
    )
    # The first run starts the worker processes before a progress bar starts its
    # thread, so that they can be forked (see scan_dump).
    first = next(segments, None)
    with progress("Checking the chain", 0, checkpoint.size) as advance:
        for segment in itertools.chain([first] if first is not None else [], segments):
            links.join(segment)
            advance(segment.count)
    raise_if_broken(links, checkpoint)
    return checkpoint


def save_dump(session: Session, folder: Path, progress: Progress = no_progress) -> Growth:
    """Save the log up to its latest checkpoint in ``folder``, checked as it is fetched.

    The files appear only once every entry is checked and the root matches; the
    audit's progress is saved too. Raises :class:`StateError` if ``folder`` cannot
    be written, :class:`~verifier.audit.AuditFailedError` if the log breaks a rule.
    """
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StateError(f"cannot create {folder}: {exc}") from None
    growth = session.refresh()
    checkpoint = growth.new
    replayer = Replayer(session.key)
    try:
        with (
            atomic_file(folder / DUMP_ENTRIES) as out,
            progress("Dumping", 0, checkpoint.size) as advance,
        ):
            for page in fetch_pages(session.client, 0, checkpoint.size):
                for item in page:
                    replayer.add(item.raw, item.shown)
                    write_dump_line(out, item.seq, item.raw)
                advance(len(page))
            replayer.check_root(checkpoint.root)
            replayer.raise_if_failed()
        write_atomic(folder / DUMP_CHECKPOINT, session.state.checkpoint.encode("utf-8"))
    except OSError as exc:
        raise StateError(f"cannot write the dump in {folder}: {exc}") from None
    session.state.audit = replayer.progress()
    session.save()
    return growth
