"""What every ``tally-verify`` command shares: options, output, and exit codes.

The commands only read their options, call the library and print. Errors reach
:class:`Group` as the library raises them, and become the documented exit codes
and one plain sentence (or one JSON object with ``--json``); a fork's evidence is
written here, with the library's one evidence writer.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click
from rich.console import Console
from rich.panel import Panel
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.text import Text

from verifier.audit import AuditFailedError
from verifier.client import normalize_base_url
from verifier.errors import ServerError, StateError, UsageError, VerificationError
from verifier.evidence_file import Written, write_fork_evidence
from verifier.fork import Fork, ForkError
from verifier.progress import Advance
from verifier.state import StateDir
from verifier.statement import StatementError

EXIT_OK = 0
EXIT_VERIFICATION = 1
EXIT_USAGE = 2
EXIT_FORK = 3
EXIT_SERVER = 4
EXIT_INTERRUPTED = 130

EXIT_CODES_HELP = """\b
Exit codes:
  0    success
  1    verification failure: a check failed (bad signature, bad proof,
       bad entry, chain break, wrong key), or evidence that proves nothing
  2    usage error: bad arguments, no state yet (run init), unusable
       state or dump folder, a member or period the log does not know,
       a file that is the server's error answer
  3    fork: the log's key signed two inconsistent histories; evidence
       is saved to a file
  4    network or server error: unreachable, timeout, HTTP error status,
       malformed, oversized or truncated answer; nothing is concluded
  130  interrupted; progress saved so far is kept
"""

F = TypeVar("F", bound=Callable[..., Any])


@dataclass
class App:
    """What every command shares: options, output, and the state folder."""

    state_dir: StateDir
    as_json: bool
    timeout: float
    out: Console = field(default_factory=lambda: console(stderr=False))
    err: Console = field(default_factory=lambda: console(stderr=True))
    evidence_path: Path | None = None
    """Where fork or receipt evidence goes (``--evidence``); ``None``: the current folder."""

    def finish(self, result: dict[str, Any], lines: list[str], code: int = EXIT_OK) -> None:
        """Print the outcome (sentences, or one JSON object with ``--json``), then exit."""
        if self.as_json:
            self.out.print(json.dumps({"ok": code == EXIT_OK, **result}), soft_wrap=True)
        else:
            for line in lines:
                self.out.print(clean(line), soft_wrap=True)
        if code != EXIT_OK:
            raise click.exceptions.Exit(code)

    def warn(self, title: str, text: str) -> None:
        """A prominent warning on stderr (also under ``--json``, whose stdout stays clean)."""
        self.err.print(
            Panel(Text(clean(text)), title=title, border_style="bold yellow", expand=False)
        )

    @contextmanager
    def progress(self, label: str, done: int, total: int) -> Iterator[Advance]:
        """A progress bar on stderr when it is a terminal (:data:`verifier.progress.Progress`)."""
        columns = (
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
        )
        with Progress(
            *columns, console=self.err, transient=True, disable=not self.err.is_terminal
        ) as bar:
            task = bar.add_task(label, total=total, completed=done)
            yield lambda n: bar.update(task, advance=n)


def console(*, stderr: bool) -> Console:
    """A console that prints text as it is."""
    # No markup or highlighting: messages quote server-supplied text verbatim.
    return Console(stderr=stderr, markup=False, emoji=False, highlight=False)


def clean(text: str) -> str:
    """Escape control characters, so that text from a server cannot drive the terminal."""
    return "".join(
        c if c == "\n" or (c >= " " and not "\x7f" <= c <= "\x9f") else f"\\x{ord(c):02x}"
        for c in text
    )


def parse_url(url: str) -> str:
    """The URL argument as a log's base URL; a usage error if it is not one."""
    try:
        return normalize_base_url(url)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="URL") from None


def _store_evidence(ctx: click.Context, _: click.Parameter, value: Path | None) -> None:
    app = ctx.find_object(App)
    if app is not None:
        app.evidence_path = value


def evidence_option(f: F) -> F:
    """``--evidence PATH``: where evidence goes, kept in :attr:`App.evidence_path`."""
    option = click.option(
        "--evidence",
        type=click.Path(path_type=Path),
        expose_value=False,
        callback=_store_evidence,
        help="Where to write fork evidence if a fork is found: a file, or a folder "
        "[default: a new file in the current folder].",
    )
    return option(f)


class Group(click.Group):
    """Turns the verifier's errors into the documented exit codes, without tracebacks."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ForkError as exc:
            _fail_fork(ctx, exc)
        except AuditFailedError as exc:
            _fail_audit(ctx, exc)
        except StatementError as exc:
            fail(
                ctx,
                EXIT_VERIFICATION,
                "verification_failed",
                f"Statement verification failed: check {exc.check}: {exc.detail}",
                extra={"check": exc.check, "detail": exc.detail},
            )
        except VerificationError as exc:
            fail(ctx, EXIT_VERIFICATION, "verification_failed", f"Verification failed: {exc}")
        except ServerError as exc:
            fail(
                ctx,
                EXIT_SERVER,
                "server_error",
                f"Server error: {exc}. Nothing was concluded about the log; try again later.",
            )
        except (StateError, UsageError) as exc:
            fail(ctx, EXIT_USAGE, "usage_error", f"Error: {exc}")
        except KeyboardInterrupt:
            fail(
                ctx, EXIT_INTERRUPTED, "interrupted", "Interrupted; progress saved so far is kept."
            )


def fail(
    ctx: click.Context,
    code: int,
    kind: str,
    message: str,
    *,
    details: list[str] | None = None,
    extra: dict[str, Any] | None = None,
) -> NoReturn:
    """Print a failure (on stderr, or as one JSON object on stdout) and exit with ``code``."""
    app = ctx.find_object(App)
    if app is not None and app.as_json:
        doc = {
            "ok": False,
            "command": ctx.invoked_subcommand,
            "exit_code": code,
            "error": kind,
            "message": message,
            **(extra or {}),
        }
        app.out.print(json.dumps(doc), soft_wrap=True)
    else:
        err = app.err if app is not None else console(stderr=True)
        err.print(clean(message), soft_wrap=True)
        for line in details or []:
            err.print("  " + clean(line), soft_wrap=True)
    raise click.exceptions.Exit(code)


def _fail_audit(ctx: click.Context, exc: AuditFailedError) -> NoReturn:
    more = exc.count - len(exc.violations)
    fail(
        ctx,
        EXIT_VERIFICATION,
        "verification_failed",
        f"Audit failed: {exc.count:,} violation(s) found:",
        details=[v.message for v in exc.violations] + ([f"... and {more:,} more"] if more else []),
        extra={
            "violation_count": exc.count,
            "violations": [
                {"seq": v.seq, "message": v.message, "rule": v.rule} for v in exc.violations
            ],
        },
    )


def _fail_fork(ctx: click.Context, exc: ForkError) -> NoReturn:
    app = ctx.find_object(App)
    written = write_fork_evidence(
        exc.fork, _fork_key(app, exc), None if app is None else app.evidence_path
    )
    fork = exc.fork
    fail(
        ctx,
        EXIT_FORK,
        "fork",
        f"FORK: the operator has shown two different histories of the log "
        f"{fork.first.checkpoint.origin}.\n" + fork.explain(),
        details=_fork_lines(fork, written),
        extra={
            "kind": fork.kind,
            "conclusive": fork.conclusive,
            "evidence_file": None if written.path is None else str(written.path),
            "evidence": written.document,
        },
    )


def _fork_key(app: App | None, exc: ForkError) -> str:
    """The key that signed both checkpoints: the error says it, else the pinned one."""
    if exc.verifier_key is not None or app is None:
        return exc.verifier_key or ""
    try:
        state = app.state_dir.load()
    except StateError:
        state = None
    return "" if state is None else state.verifier_key


def _fork_lines(fork: Fork, written: Written) -> list[str]:
    lines = [
        f"The log's key signed both; your saved checkpoint ({fork.first.checkpoint.size:,} "
        "entries) was not changed."
    ]
    if written.path is not None:
        lines.append(
            f"Evidence saved to {written.path}. Keep it and share it: "
            f"`tally-verify evidence {written.path}` re-checks it offline."
        )
    else:
        lines.append(f"The evidence file could not be written ({written.error}); here it is:")
        lines.append(json.dumps(written.document, ensure_ascii=False))
    return lines
