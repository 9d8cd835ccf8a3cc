"""What the plan's ``tally`` commands share: opening the plan, times, amounts, sentences.

A command that writes opens the plan with the signing key (:func:`opened`); one that
only reads the plan's state tables without it (:func:`reading`), so that ``plan
status`` or ``rules show`` never asks for the key and writes nothing. Every command
sees the clock ``--clock`` sets (ledger.clock), or the wall clock.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import ParamSpec, TypeVar

import click

from ledger.cli import Settings, fail
from ledger.domain.plan import Plan
from ledger.domain.projections import read_state
from ledger.domain.state import PlanState
from ledger.errors import LedgerError
from ledger.instance import open_ledger
from ledger.log.entry import format_time, parse_entry, parse_time
from ledger.log.log import Appended, Log
from ledger.log.store import Store
from ledger.money import MoneyError, check_fen, parse_yuan

P = ParamSpec("P")
R = TypeVar("R")

at_option = click.option(
    "--at",
    "at",
    default=None,
    help="Entry time, YYYY-MM-DDTHH:MM:SSZ, for importing history: no earlier than the "
    "log's last entry, no later than now (default: now).",
)


@contextmanager
def opened(settings: Settings) -> Iterator[Plan]:
    """The plan in the configured ledger, with its key; errors become sentences and exits."""
    try:
        ledger = open_ledger(settings.db, settings.key)
    except LedgerError as exc:
        fail(exc)
    try:
        yield Plan(ledger, clock=settings.clock_for(ledger.log))
    except LedgerError as exc:
        fail(exc)
    finally:
        ledger.close()


@dataclass(frozen=True)
class Reading:
    """The plan as its entries describe it, read without the key, and the time now."""

    state: PlanState
    now: str
    store: Store
    """The ledger's store, open until the ``with`` block ends (for lookups)."""


@contextmanager
def reading(settings: Settings) -> Iterator[Reading]:
    """The plan's state from its tables, read-only: no key, nothing written."""
    try:
        store = Store(settings.db)
    except LedgerError as exc:
        fail(exc)
    try:
        store.require_meta()
        log = Log(store)
        # One snapshot for the whole command: every row it reads is of the same moment.
        with store.snapshot() as conn:
            state = read_state(store, conn)
            size = state.size
            now = format_time(settings.clock_for(log)())
            yield Reading(state, max(now, _last_time(log, size)), store)
    except LedgerError as exc:
        fail(exc)
    finally:
        store.dispose()


def _last_time(log: Log, size: int) -> str:
    return parse_entry(log.entries(size - 1, size)[0][1]).time if size else ""


def check_time(at: str | None, option: str = "--at") -> str | None:
    """A time option's value, if it is one (YYYY-MM-DDTHH:MM:SSZ); usage error otherwise."""
    if at is not None:
        try:
            parse_time(at)
        except LedgerError as exc:
            raise click.BadParameter(str(exc), param_hint=option) from None
    return at


def read_file(path: Path) -> bytes:
    """A file's bytes, or a usage error naming it."""
    try:
        return path.read_bytes()
    except OSError as exc:
        raise click.BadParameter(f"cannot read {path}: {exc.strerror}") from None


def amount_options(what: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Add ``--amount YUAN`` and ``--amount-fen FEN`` (one of them) for ``what``."""

    def add(command: Callable[P, R]) -> Callable[P, R]:
        command = click.option(
            "--amount-fen",
            "amount_fen",
            type=click.IntRange(0),
            default=None,
            help=f"The {what} in fen (1/100 yuan), instead of --amount.",
        )(command)
        return click.option(
            "--amount",
            "amount_yuan",
            default=None,
            metavar="YUAN",
            help=f"The {what} in yuan, at most two decimals: 3000.50.",
        )(command)

    return add


def amount_in_fen(yuan: str | None, fen: int | None, what: str) -> int | None:
    """The amount given by ``--amount`` (yuan) or ``--amount-fen``, in fen; None if neither."""
    if yuan is not None and fen is not None:
        raise click.UsageError(
            f"give the {what} once: --amount in yuan or --amount-fen in fen, not both"
        )
    try:
        if yuan is not None:
            return parse_yuan(yuan, grouped=True)
        return None if fen is None else check_fen(fen)
    except MoneyError as exc:
        raise click.BadParameter(str(exc), param_hint="--amount") from None


def required_amount(yuan: str | None, fen: int | None, what: str) -> int:
    """As :func:`amount_in_fen`, but one of the two options must be given."""
    amount = amount_in_fen(yuan, fen, what)
    if amount is None:
        raise click.UsageError(
            f"expected the {what}: --amount YUAN (for example 3000.50) or --amount-fen FEN"
        )
    return amount


def seq(appended: Appended) -> str:
    """``seq 22,410``: where an entry landed, as sentences print it."""
    return f"seq {appended.seq:,}"
