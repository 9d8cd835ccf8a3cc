"""Auditing a log from its server: the whole replay, or the chain and the tree only.

Both start by bringing the saved checkpoint up to date
(:meth:`~verifier.session.Session.refresh`: a fork raises
:class:`~verifier.fork.ForkError`) and audit the log up to that checkpoint.

:func:`audit_log` replays every entry with :class:`~verifier.audit.Replayer` and the
plan's rules, resuming where the last audit stopped and saving its progress about
once a second; :func:`audit_links` checks only the chain and the tree
(specs/log.md §3), as a log monitor does. With ``tiles``, the entries are read from
the server's C2SP entry bundles, and its hash tiles must give the signed root too
(specs/http.md §Tiles).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from verifier.audit import (
    AuditFailedError,
    Replayer,
    Violation,
    fetch_bundles,
    fetch_pages,
    prefetch,
)
from verifier.b64 import encode
from verifier.checkpoint import Checkpoint
from verifier.client import LogClient, ServedEntry
from verifier.errors import ServerError
from verifier.links import LinkReplay, scan
from verifier.plan.state import PlanSummary
from verifier.progress import Progress, no_progress
from verifier.session import Growth, Session
from verifier.tiles import root_from_tiles

Pages = Callable[[LogClient, int, int], Iterator[list[ServedEntry]]]
SAVE_EVERY = 1.0
"""Seconds between saves of an audit's progress (each save is a synced write)."""


@dataclass(frozen=True)
class AuditOutcome:
    """A passed audit: from which server, how far, what the plan replay found."""

    source: str
    growth: Growth
    start: int
    """The first entry replayed this time (the ones before: by an earlier audit)."""
    plan: PlanSummary | None
    """The plan replay's summary (``None`` for a chain-and-tree check)."""


def audit_log(
    session: Session, *, from_start: bool, tiles: bool, progress: Progress = no_progress
) -> AuditOutcome:
    """Replay the log from genesis (or the saved progress) up to its latest checkpoint.

    Raises :class:`AuditFailedError` with every violation (and forgets the saved
    progress); on a server error or an interruption, keeps the progress made.
    """
    growth = session.refresh()
    state, client = session.state, session.client
    pages: Pages = fetch_bundles if tiles else fetch_pages
    replayer = Replayer(
        state.verifier,
        None if from_start else state.audit,
        check_plan=True,
        bounds=growth.time_bounds(),
    )
    start = replayer.next_seq
    try:
        _reread_for_plan(replayer, client, pages, progress)
        _replay(session, replayer, pages, growth.new, progress)
        replayer.check_root(growth.new.root)
        violation = tile_root_violation(client, growth.new) if tiles else None
        if violation is not None:
            replayer.report(violation.seq, violation.message)
        replayer.raise_if_failed()
    except AuditFailedError:
        state.audit = None
        session.save()
        raise
    except (ServerError, KeyboardInterrupt):
        # Keep what was checked, so that the next run resumes here.
        if not replayer.violation_count and replayer.next_seq > start:
            checked = replayer.progress()  # waits for the signatures checked aside
            if not replayer.violation_count:
                state.audit = checked
                session.save()
        raise
    state.audit = replayer.progress()
    session.save()
    return AuditOutcome(client.base_url, growth, start, plan_summary(replayer))


def _reread_for_plan(
    replayer: Replayer, client: LogClient, pages: Pages, progress: Progress
) -> None:
    """Entries before the resume point, again, for the plan replay only (audit.py doc)."""
    start = replayer.next_seq
    if not replayer.plan_prefix_size:
        return
    with progress("Re-reading for the plan", 0, start) as advance:
        for page in prefetch(pages(client, 0, start)):
            for item in page:
                replayer.add_prefix(item.raw)
            advance(len(page))


def _replay(
    session: Session, replayer: Replayer, pages: Pages, checkpoint: Checkpoint, progress: Progress
) -> None:
    saved_at = time.monotonic()
    with progress("Auditing", replayer.next_seq, checkpoint.size) as advance:
        for page in prefetch(pages(session.client, replayer.next_seq, checkpoint.size)):
            for item in page:
                replayer.add(item.raw, item.shown)
            advance(len(page))
            if not replayer.violation_count and time.monotonic() - saved_at >= SAVE_EVERY:
                checked = replayer.progress()  # waits for the signatures checked aside
                if not replayer.violation_count:
                    session.state.audit = checked
                    session.save()
                saved_at = time.monotonic()


def plan_summary(replayer: Replayer) -> PlanSummary:
    """The plan replay's summary, once the audit passed (so the replay ran to the end)."""
    summary = replayer.plan_summary()
    if summary is None:  # pragma: no cover - a stopped replay reported a violation
        raise AssertionError("the plan replay stopped without a violation")
    return summary


def tile_root_violation(client: LogClient, checkpoint: Checkpoint) -> Violation | None:
    """A violation if the server's hash tiles do not give the checkpoint's root."""
    root = root_from_tiles(checkpoint.size, client.hash_tile)
    if root == checkpoint.root:
        return None
    return Violation(
        None,
        f"the server's hash tiles give the root {encode(root)} for {checkpoint.size:,} "
        f"entries, but the signed checkpoint has {encode(checkpoint.root)}: its tiles show "
        "another tree than it signed",
    )


def audit_links(session: Session, *, tiles: bool, progress: Progress = no_progress) -> AuditOutcome:
    """The chain and the tree of every entry up to the latest checkpoint, and nothing else.

    Neither resumes nor saves progress. Raises :class:`AuditFailedError`.
    """
    growth = session.refresh()
    client, checkpoint = session.client, growth.new
    pages: Pages = fetch_bundles if tiles else fetch_pages
    links = LinkReplay()
    bounds = growth.time_bounds()
    with progress("Checking the chain", 0, checkpoint.size) as advance:
        for page in prefetch(pages(client, 0, checkpoint.size)):
            links.join(scan([item.raw for item in page], links.next_seq, bounds))
            advance(len(page))
    violation = tile_root_violation(client, checkpoint) if tiles else None
    raise_if_broken(links, checkpoint, [violation] if violation else [])
    return AuditOutcome(client.base_url, growth, 0, None)


def raise_if_broken(
    links: LinkReplay, checkpoint: Checkpoint, more: Sequence[Violation] = ()
) -> None:
    """Raise :class:`AuditFailedError` for the chain's breaks, a root other than the
    checkpoint's, and ``more``."""
    violations = [Violation(b.seq, b.message) for b in links.breaks]
    count = links.break_count
    root = links.tree.root()
    if root != checkpoint.root:
        count += 1
        violations.append(
            Violation(
                None,
                f"the {checkpoint.size:,} entries received hash to the root {encode(root)}, but "
                f"the signed checkpoint of that size has {encode(checkpoint.root)}: some entry "
                "is not the one the log signed",
            )
        )
    violations.extend(more)
    count += len(more)
    if count:
        raise AuditFailedError(violations, count)
