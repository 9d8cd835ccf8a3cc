"""``tally member import``: enrol many people from a CSV, saying what happened to each row.

Every row is checked before anyone joins: its fields (ledger.member_csv), and
whether the person is already an active member or appears twice in the file (by
their identity record's hash, in the operator's private table). Without
``--partial`` a file joins whole or not at all: one row that cannot join stops
the import and nothing is written. With ``--partial`` the rows that can join do,
and the others are reported. People join in batches of up to 10,000, each one
transaction.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import click
from rich.progress import Progress

from ledger.cli import EXIT_REFUSED, Settings, err, fail, say, store_options
from ledger.domain.identity import canonical_record
from ledger.domain.plan import Plan
from ledger.errors import LedgerError
from ledger.log.log import MAX_BATCH
from ledger.member_csv import ENCODINGS, CsvError, Row, read_people
from ledger.plan_cli import member
from ledger.plan_cli_support import at_option, check_time, opened
from ledger.wording import count


@dataclass
class Outcome:
    """What became of one row: ``join``, ``member``, ``repeat`` or ``refused``, and a note."""

    row: Row
    kind: str
    note: str = ""

    def sentence(self) -> str:
        """The report's line for this row."""
        prefix = f"line {self.row.line}: "
        return (
            prefix
            + {
                "join": f"joined as {self.note}",
                "member": f"already a member, {self.note}",
                "repeat": f"the same person as line {self.note}",
                "refused": f"refused: {self.note}",
            }[self.kind]
        )


@member.command("import")
@store_options
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--encoding",
    type=click.Choice(ENCODINGS),
    default="utf-8",
    show_default=True,
    help="The file's text encoding: UTF-8 (a byte-order mark is fine), or GBK/GB18030 "
    "as Excel on Chinese Windows saves CSV.",
)
@click.option(
    "--partial",
    is_flag=True,
    help="Enrol the rows that can join and report the others (default: all or nothing).",
)
@at_option
@click.pass_obj
def member_import(
    settings: Settings, path: Path, encoding: str, partial: bool, at: str | None
) -> None:
    """Enrol people from a CSV: column age_band, the others their identity record.

    Prints one line per row (joined as m-..., already a member, the same person as
    another line, or refused and why), then what was imported. Exits 3 if any row
    was refused (or, without --partial, could not join, so that no one joined).
    """
    try:
        rows = read_people(path, encoding)
    except CsvError as exc:
        fail(exc)
    if not rows:
        say(f"Imported no one: {path} has a header but no rows.")
        return
    with opened(settings) as plan:
        outcomes = _sort_rows(rows, plan, check_time(at))
        blocked = [o for o in outcomes if o.kind != "join"]
        ready = [o for o in outcomes if o.kind == "join"]
        if blocked and not partial:
            for outcome in blocked:
                say(outcome.sentence())
            others = f" to import the other {count(len(ready), 'row')}" if ready else ""
            say(
                f"Imported no one from {path}: {count(len(blocked), 'row')} of {len(rows):,} "
                f"cannot join (above). Fix them, or pass --partial{others}."
            )
            sys.exit(EXIT_REFUSED)
        seqs = _join(plan, ready, at)
    for outcome in outcomes:
        say(outcome.sentence())
    say(_summary(path, ready, blocked, seqs))
    if any(o.kind == "refused" for o in blocked):
        sys.exit(EXIT_REFUSED)


def _sort_rows(rows: list[Row], plan: Plan, at: str | None) -> list[Outcome]:
    """Each row's outcome before anyone joins: refused, already a member, repeated, or join."""
    valid = [r for r in rows if r.problem is None]
    holders = plan.members_by_identity([dict(r.identity) for r in valid], at=at)
    held = dict(zip((r.line for r in valid), holders, strict=True))
    first_line: dict[str, int] = {}
    outcomes = []
    for row in rows:
        if row.problem is not None:
            outcomes.append(Outcome(row, "refused", row.problem))
            continue
        holder = held[row.line]
        record = canonical_record(dict(row.identity))
        if holder is not None:
            outcomes.append(Outcome(row, "member", f"{holder[0]} (joined {holder[1]})"))
        elif record in first_line:
            outcomes.append(Outcome(row, "repeat", str(first_line[record])))
        else:
            first_line[record] = row.line
            outcomes.append(Outcome(row, "join"))
    return outcomes


def _join(plan: Plan, ready: list[Outcome], at: str | None) -> list[int]:
    """Join the ready rows in batches; notes each row's member id, returns the seqs."""
    seqs: list[int] = []
    with Progress(console=err, transient=True) as bar:
        task = bar.add_task("importing members", total=len(ready))
        for start in range(0, len(ready), MAX_BATCH):
            chunk = ready[start : start + MAX_BATCH]
            try:
                joined = plan.join_many(
                    [(o.row.age_band, dict(o.row.identity)) for o in chunk], at=at
                )
            except LedgerError as exc:
                for outcome in ready[:start]:
                    say(outcome.sentence())
                if start:
                    say(f"Imported {count(start, 'member')} before this refusal:")
                fail(exc)
            for outcome, (member_id, appended) in zip(chunk, joined, strict=True):
                outcome.note = f"{member_id} (seq {appended.seq:,})"
                seqs.append(appended.seq)
            bar.update(task, completed=len(seqs))
    return seqs


def _summary(path: Path, ready: list[Outcome], blocked: list[Outcome], seqs: list[int]) -> str:
    where = f" (seq {seqs[0]:,} to {seqs[-1]:,})" if len(seqs) > 1 else ""
    where = f" (seq {seqs[0]:,})" if len(seqs) == 1 else where
    text = f"Imported {count(len(ready), 'member')} from {path}{where}"
    kinds = [o.kind for o in blocked]
    skipped = []
    if already := kinds.count("member") + kinds.count("repeat"):
        skipped.append(f"{count(already, 'row')} already a member")
    if refused := kinds.count("refused"):
        skipped.append(f"{count(refused, 'row')} refused")
    return text + ("; skipped " + " and ".join(skipped) if skipped else "") + "."
