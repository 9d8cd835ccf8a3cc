"""``tally-verify``: a member's own check of a Tally log (the log level).

It trusts only the log's public key (given, or pinned on first use), the specs,
and its own saved state (:mod:`verifier.state`); the server is asked for data and
never believed about anything the verifier can recompute.

Commands:

``init URL [--key KEY]``
    Pin the log's key and save its latest checkpoint, verified (checkpoint.md).
``checkpoint``
    Fetch the latest checkpoint, verify it with the pinned key, and check with a
    consistency proof that it extends the saved one (tree.md §5); save it.
``audit [URL | --dir DUMP]``
    Replay the log from genesis (log.md §2-3, entries.md), resumably, up to a
    freshly verified checkpoint, and compare the recomputed root (tree.md §1);
    and replay the mutual-aid plan's rules over the same entries (plan.md §2-§9,
    :mod:`verifier.plan.state`). The plan part always starts at genesis: a resumed
    audit re-reads the entries it skips for the plan only.
``dump DIR``
    Save the log, verified as it is fetched, as a dump that ``audit --dir`` replays.
``evidence FILE``
    Re-check a fork or receipt evidence file offline (:mod:`verifier.fork`,
    :mod:`verifier.receipt_evidence`).
``statement --member ID [--period P] [--bundle FILE]``
    Fetch (or read) the member's statement and verify it completely
    (specs/statement.md §3, :mod:`verifier.statement`).
``bundle FILE [--key KEY]``
    The same checks on a saved statement bundle, offline.
``receipt FILE``
    Check a write receipt (specs/receipt.md) with the pinned key, then that the
    log kept its promise: entry found with the promised hash (exit 0), not yet
    covered before covered-by (exit 0, status ``not_yet_covered``), or censorship
    or equivocation after it (exit 3, evidence file).

Exit codes:

====  =====================================================================
0     success
1     verification failure: a check failed (bad signature, bad proof, bad
      entry, chain break, wrong key), or an evidence file proves nothing
2     usage error: bad arguments, no state yet (run ``init``), unusable
      state folder or dump folder
3     fork: the log's key signed two inconsistent histories (evidence saved)
4     network or server error: unreachable, timeout, HTTP error status,
      malformed, oversized or truncated answer; nothing is concluded
130   interrupted; progress saved so far is kept
====  =====================================================================
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn

import click
from rich.console import Console
from rich.panel import Panel
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from verifier.audit import (
    AuditFailedError,
    Replayer,
    Violation,
    fetch_bundles,
    fetch_pages,
    prefetch,
)
from verifier.checkpoint import Checkpoint, verify_checkpoint
from verifier.client import DEFAULT_TIMEOUT, LogClient, normalize_base_url
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
from verifier.errors import ServerError, StateError, VerificationError
from verifier.fork import (
    DIVERGED,
    SAME_SIZE,
    Fork,
    ForkError,
    Seen,
    check_evidence,
    check_extends,
    classify_proof,
    evidence_document,
)
from verifier.links import LinkReplay, scan
from verifier.merkle import EMPTY_ROOT, leaf_hash, verify_consistency, verify_inclusion
from verifier.note import Verifier, parse_verifier_key
from verifier.plan.errors import PlanError
from verifier.plan.ids import check_member
from verifier.plan.periods import parse_period
from verifier.plan.state import PlanSummary
from verifier.receipt import receipt_text, verify_receipt
from verifier.receipt_evidence import check_receipt_evidence, is_receipt_evidence
from verifier.state import (
    TRUST_PINNED,
    TRUST_TOFU,
    State,
    StateDir,
    atomic_file,
    default_state_dir,
    utc_now,
    write_atomic,
)
from verifier.statement import StatementError, parse_bundle_bytes, verify_bundle
from verifier.strict_json import StrictJSONError, loads
from verifier.tiles import root_from_tiles

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
       state or dump folder
  3    fork: the log's key signed two inconsistent histories; evidence
       is saved to a file
  4    network or server error: unreachable, timeout, HTTP error status,
       malformed, oversized or truncated answer; nothing is concluded
  130  interrupted; progress saved so far is kept
"""

_EVIDENCE_HELP = (
    "Where to write fork evidence if a fork is found: a file, or a folder "
    "[default: a new file in the current folder]."
)


@dataclass
class App:
    """What every command shares: options, output, and the state folder."""

    state_dir: StateDir
    as_json: bool
    timeout: float
    out: Console = field(default_factory=lambda: _console(stderr=False))
    err: Console = field(default_factory=lambda: _console(stderr=True))

    def client(self, url: str) -> LogClient:
        """A client for the log at ``url`` with the ``--timeout`` chosen."""
        return LogClient(url, timeout=self.timeout)

    def finish(self, result: dict[str, Any], lines: list[str], code: int = EXIT_OK) -> None:
        """Print the outcome (sentences, or one JSON object with ``--json``), then exit."""
        if self.as_json:
            self.out.print(json.dumps({"ok": code == EXIT_OK, **result}), soft_wrap=True)
        else:
            for line in lines:
                self.out.print(_clean(line), soft_wrap=True)
        if code != EXIT_OK:
            raise click.exceptions.Exit(code)

    def warn(self, title: str, text: str) -> None:
        """A prominent warning on stderr (also under ``--json``, whose stdout stays clean)."""
        self.err.print(
            Panel(Text(_clean(text)), title=title, border_style="bold yellow", expand=False)
        )


def _console(*, stderr: bool) -> Console:
    # No markup or highlighting: messages quote server-supplied text verbatim.
    return Console(stderr=stderr, markup=False, emoji=False, highlight=False)


def _clean(text: str) -> str:
    """Escape control characters, so that text from a server cannot drive the terminal."""
    return "".join(
        c if c == "\n" or (c >= " " and not "\x7f" <= c <= "\x9f") else f"\\x{ord(c):02x}"
        for c in text
    )


class _ForkReportedError(Exception):
    """A fork was found and its evidence written (or not, with ``write_error``)."""

    def __init__(
        self, fork: Fork, document: dict[str, Any], path: Path | None, write_error: str | None
    ) -> None:
        super().__init__(fork.explain())
        self.fork = fork
        self.document = document
        self.path = path
        self.write_error = write_error


class _Group(click.Group):
    """Turns the verifier's errors into the documented exit codes, without tracebacks."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except _ForkReportedError as exc:
            _fail_fork(ctx, exc)
        except AuditFailedError as exc:
            more = exc.count - len(exc.violations)
            _fail(
                ctx,
                EXIT_VERIFICATION,
                "verification_failed",
                f"Audit failed: {exc.count:,} violation(s) found:",
                details=[v.message for v in exc.violations]
                + ([f"... and {more:,} more"] if more else []),
                extra={
                    "violation_count": exc.count,
                    "violations": [
                        {"seq": v.seq, "message": v.message, "rule": v.rule} for v in exc.violations
                    ],
                },
            )
        except StatementError as exc:
            _fail(
                ctx,
                EXIT_VERIFICATION,
                "verification_failed",
                f"Statement verification failed: check {exc.check}: {exc.detail}",
                extra={"check": exc.check, "detail": exc.detail},
            )
        except VerificationError as exc:
            _fail(ctx, EXIT_VERIFICATION, "verification_failed", f"Verification failed: {exc}")
        except ServerError as exc:
            _fail(
                ctx,
                EXIT_SERVER,
                "server_error",
                f"Server error: {exc}. Nothing was concluded about the log; try again later.",
            )
        except StateError as exc:
            _fail(ctx, EXIT_USAGE, "usage_error", f"Error: {exc}")
        except KeyboardInterrupt:
            _fail(
                ctx, EXIT_INTERRUPTED, "interrupted", "Interrupted; progress saved so far is kept."
            )


def _app(ctx: click.Context) -> App | None:
    return ctx.find_object(App)


def _fail(
    ctx: click.Context,
    code: int,
    kind: str,
    message: str,
    *,
    details: list[str] | None = None,
    extra: dict[str, Any] | None = None,
) -> NoReturn:
    app = _app(ctx)
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
        err = app.err if app is not None else _console(stderr=True)
        err.print(_clean(message), soft_wrap=True)
        for line in details or []:
            err.print("  " + _clean(line), soft_wrap=True)
    raise click.exceptions.Exit(code)


def _fail_fork(ctx: click.Context, exc: _ForkReportedError) -> NoReturn:
    fork = exc.fork
    origin = fork.first.checkpoint.origin
    lines = [
        f"The log's key signed both; your saved checkpoint ({fork.first.checkpoint.size:,} "
        "entries) was not changed."
    ]
    if exc.path is not None:
        lines.append(
            f"Evidence saved to {exc.path}. Keep it and share it: "
            f"`tally-verify evidence {exc.path}` re-checks it offline."
        )
    else:
        lines.append(f"The evidence file could not be written ({exc.write_error}); here it is:")
        lines.append(json.dumps(exc.document, ensure_ascii=False))
    _fail(
        ctx,
        EXIT_FORK,
        "fork",
        f"FORK: the operator has shown two different histories of the log {origin}.\n"
        + fork.explain(),
        details=lines,
        extra={
            "kind": fork.kind,
            "conclusive": fork.conclusive,
            "evidence_file": None if exc.path is None else str(exc.path),
            "evidence": exc.document,
        },
    )


@click.group(cls=_Group, epilog=EXIT_CODES_HELP, context_settings={"max_content_width": 100})
@click.option(
    "--state",
    "state_path",
    type=click.Path(file_okay=False, path_type=Path),
    envvar="TALLY_VERIFY_STATE",
    help="The state folder [default: $XDG_STATE_HOME/tally-verify or "
    "~/.local/state/tally-verify; env TALLY_VERIFY_STATE].",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of sentences.")
@click.option(
    "--timeout",
    type=click.FloatRange(min=0, min_open=True),
    default=DEFAULT_TIMEOUT,
    show_default=True,
    help="Seconds to wait to connect and for each read.",
)
@click.pass_context
def cli(ctx: click.Context, state_path: Path | None, as_json: bool, timeout: float) -> None:
    """Check a Tally log yourself: its signed checkpoints, its entries, its history.

    Start with `tally-verify init URL --key KEY`, using the key your plan
    publishes; then run `tally-verify checkpoint` now and then to check that the
    log only ever grows, and `tally-verify audit` to replay all of it.
    """
    ctx.obj = App(StateDir(state_path or default_state_dir()), as_json, timeout)


def _url(url: str) -> str:
    try:
        return normalize_base_url(url)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="URL") from None


# -- init ----------------------------------------------------------------------


@cli.command()
@click.argument("url")
@click.option("--key", "key_text", help="The log's verifier key, from the plan (recommended).")
@click.option("--force", is_flag=True, help="Start over even if the state pins another key.")
@click.option("--evidence", "evidence_path", type=click.Path(path_type=Path), help=_EVIDENCE_HELP)
@click.pass_obj
def init(app: App, url: str, key_text: str | None, force: bool, evidence_path: Path | None) -> None:
    """Pin the log's key and save its latest checkpoint, verified.

    With --key, the server must state that same key. Without it, the key the
    server states is trusted on first use: compare it out of band. Running init
    again with the same key keeps the saved history and checks the log extends it.
    """
    base = _url(url)
    given: Verifier | None = None
    if key_text is not None:
        try:
            given = parse_verifier_key(key_text.strip())
        except VerificationError as exc:
            raise click.BadParameter(str(exc), param_hint="--key") from None
    with app.state_dir.lock():
        try:
            existing = app.state_dir.load()
        except StateError:
            if not force:
                raise
            existing = None
        with app.client(base) as client:
            info = client.log_info()
            stated = parse_verifier_key(info.verifier_key)
            if given is not None and stated != given:
                raise VerificationError(
                    f"the key you gave is {given.to_string()}, but the server states "
                    f"{stated.to_string()}: this is not the log you expect (or not its server)"
                )
            key = given or stated
            if info.origin != key.name:
                raise VerificationError(
                    f"the server names its log {info.origin!r}, but the key is named {key.name!r}"
                )
            if existing is not None and existing.verifier != key and not force:
                source = "you gave" if given is not None else "the server now states"
                raise VerificationError(
                    f"the state in {app.state_dir.path} pins the key {existing.verifier_key}, "
                    f"but the key {source} is {key.to_string()}. If the log really changed "
                    "its key (confirm it out of band), run init again with --force"
                )
            trust = TRUST_PINNED if given is not None else TRUST_TOFU
            if existing is not None and existing.verifier == key and not force:
                _reinit(app, existing, client, base, trust, evidence_path)
                return
            note = client.checkpoint()
            fetched = utc_now()
        checkpoint = _accept_checkpoint(note, key)
        state = State(base, key.to_string(), trust, fetched, note, base, fetched)
        app.state_dir.save(state)

    lines = []
    if trust == TRUST_TOFU:
        _warn_tofu(app, base, key)
        lines.append(f"Trusted on first use the key of the log {key.name}: {key.to_string()}")
    else:
        lines.append(f"Pinned the key you gave for the log {key.name}; the server states the same.")
    lines.append(
        f"Verified its latest checkpoint: {checkpoint.size:,} entries, root "
        f"{_b64(checkpoint.root)}. Saved in {app.state_dir.path}."
    )
    app.finish(
        {
            "command": "init",
            "url": base,
            "origin": key.name,
            "verifier_key": key.to_string(),
            "trust": trust,
            "tree_size": checkpoint.size,
            "root": _b64(checkpoint.root),
            "state_dir": str(app.state_dir.path),
            **({"warning": _tofu_text(base, key)} if trust == TRUST_TOFU else {}),
        },
        lines,
    )


def _reinit(
    app: App, state: State, client: LogClient, base: str, trust: str, evidence: Path | None
) -> None:
    """Init again with the pinned key: keep the history, point at ``base``, check growth."""
    state.url = base
    if trust == TRUST_PINNED and state.trust != TRUST_PINNED:
        state.trust = TRUST_PINNED
    grown = _refresh(app, state, client, evidence)
    app.state_dir.save(state)
    app.finish(
        {
            "command": "init",
            "url": base,
            "origin": grown.new.origin,
            "verifier_key": state.verifier_key,
            "trust": state.trust,
            "tree_size": grown.new.size,
            "root": _b64(grown.new.root),
            "state_dir": str(app.state_dir.path),
            "already_initialised": True,
        },
        [
            f"This state already pins the same key; kept its history and now uses {base}.",
            grown.sentence(),
        ],
    )


def _tofu_text(base: str, key: Verifier) -> str:
    return (
        "You did not give the log's key with --key, so tally-verify now trusts the key "
        f"that {base} presented:\n\n    {key.to_string()}\n\n"
        "Whoever controls that server, or your connection to it, could have presented "
        "their own key. Compare it, character for character, with the key your plan "
        "publishes through another channel (its website, a member letter, another "
        "member's verifier). Then record that you checked it:\n\n"
        f"    tally-verify init {base} --key '{key.to_string()}'"
    )


def _warn_tofu(app: App, base: str, key: Verifier) -> None:
    app.warn("WARNING: key trusted on first use", _tofu_text(base, key))


def _accept_checkpoint(note: str, key: Verifier) -> Checkpoint:
    checkpoint = verify_checkpoint(note, key)
    if checkpoint.size == 0 and checkpoint.root != EMPTY_ROOT:
        raise VerificationError(
            f"a checkpoint of size 0 must have the empty root {_b64(EMPTY_ROOT)}, "
            f"found {_b64(checkpoint.root)}"
        )
    return checkpoint


# -- checkpoint ----------------------------------------------------------------


@dataclass(frozen=True)
class _Growth:
    old: Checkpoint
    new: Checkpoint

    def sentence(self) -> str:
        if self.new.size == self.old.size:
            return (
                f"The log still holds {self.new.size:,} entries, with the same signed root "
                "as before."
            )
        return (
            f"The log grew from {self.old.size:,} to {self.new.size:,} entries without "
            "rewriting any of them."
        )

    def json(self) -> dict[str, Any]:
        return {
            "old_size": self.old.size,
            "new_size": self.new.size,
            "grew": self.new.size > self.old.size,
            "root": _b64(self.new.root),
        }


@contextmanager
def _refreshed(
    app: App, url: str | None, evidence: Path | None
) -> Iterator[tuple[State, LogClient, _Growth]]:
    """Hold the state's lock, and a client of ``url`` (default: the saved one) whose latest
    checkpoint was checked (as `checkpoint` does) and saved."""
    with app.state_dir.lock():
        state = app.state_dir.require()
        with app.client(_url(url) if url is not None else state.url) as client:
            grown = _refresh(app, state, client, evidence)
            app.state_dir.save(state)
            yield state, client, grown


def _refresh(app: App, state: State, client: LogClient, evidence: Path | None) -> _Growth:
    """Fetch the latest checkpoint and check it extends the saved one; update ``state``.

    The signature is checked with the pinned key only. On a fork the evidence is
    written and ``state`` is left as it was.
    """
    key = state.verifier
    old = state.verified_checkpoint
    note = client.checkpoint()
    fetched = utc_now()
    new = _accept_checkpoint(note, key)
    first = Seen(state.checkpoint, old, state.checkpoint_url, state.checkpoint_fetched_at)
    second = Seen(note, new, client.base_url, fetched)
    try:
        check_extends(first, second, client.consistency_proof)
    except ForkError as exc:
        _report_fork(exc.fork, key, evidence)
    if new.size > old.size:
        state.checkpoint = note
        state.checkpoint_url = client.base_url
        state.checkpoint_fetched_at = fetched
    return _Growth(old, new)


def _report_fork(fork: Fork, key: Verifier, evidence: Path | None) -> NoReturn:
    now = utc_now()
    document = evidence_document(fork, key.to_string(), now)
    data = (json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
    stamp = now.replace(":", "").replace("-", "")
    name = f"tally-fork-evidence-{stamp}.json"
    target = Path.cwd() / name if evidence is None else evidence
    if target.is_dir():
        target = target / name
    try:
        written = _write_new_file(target, data)
    except OSError as exc:
        raise _ForkReportedError(fork, document, None, str(exc)) from None
    raise _ForkReportedError(fork, document, written, None)


def _write_new_file(target: Path, data: bytes) -> Path:
    """Write ``data`` to ``target``, or beside it with a number: never over earlier evidence."""
    for n in range(1000):
        path = target if n == 0 else target.with_name(f"{target.stem}-{n}{target.suffix}")
        try:
            write_atomic(path, data, replace=False)
        except FileExistsError:
            continue
        return path
    raise FileExistsError(f"{target} and 999 numbered names beside it exist")


@cli.command("checkpoint", short_help="Check the latest checkpoint extends the saved one.")
@click.option("--evidence", "evidence_path", type=click.Path(path_type=Path), help=_EVIDENCE_HELP)
@click.pass_obj
def checkpoint_command(app: App, evidence_path: Path | None) -> None:
    """Check the log's latest checkpoint extends the one saved, and save it.

    The checkpoint must be signed by the pinned key, and a consistency proof must
    show that the saved tree is a prefix of the new one. A smaller tree, another
    root of the same size, or a proof that fails is a fork (exit 3): the evidence
    is written to a file and the saved checkpoint is kept.
    """
    with app.state_dir.lock():
        state = app.state_dir.require()
        with app.client(state.url) as client:
            grown = _refresh(app, state, client, evidence_path)
        app.state_dir.save(state)
    app.finish({"command": "checkpoint", "url": state.url, **grown.json()}, [grown.sentence()])


# -- receipt -------------------------------------------------------------------


@cli.command("receipt", short_help="Check the log kept a write receipt's promise.")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--evidence", "evidence_path", type=click.Path(path_type=Path), help=_EVIDENCE_HELP)
@click.pass_obj
def receipt_command(app: App, file: Path, evidence_path: Path | None) -> None:
    """Check a write receipt (specs/receipt.md) against the log.

    FILE holds the receipt note, or the JSON an admin write answered (its
    "receipt" member). The receipt must be signed by the pinned key for the pinned
    origin. The latest checkpoint is fetched and checked as `checkpoint` does; if
    it covers the receipt's seq, the entry there must hash to the receipt's entry
    hash and its inclusion proof must verify. If the log does not hold the entry
    yet and covered-by has not passed, the status is "pending" (exit 0). After
    covered-by, a log that does not cover the entry is censorship, and an entry
    with another hash at that seq is equivocation: both are misbehaviour (exit 3)
    with an evidence file.
    """
    try:
        data = file.read_bytes()
    except OSError as exc:
        raise StateError(f"cannot read {file}: {exc}") from None
    with app.state_dir.lock():
        state = app.state_dir.require()
        key = state.verifier
        receipt = verify_receipt(receipt_text(data), key)
        with app.client(state.url) as client:
            grown = _refresh(app, state, client, evidence_path)
            app.state_dir.save(state)
            checkpoint = grown.new
            checked_at = utc_now()
            base = {
                "command": "receipt",
                "url": state.url,
                "seq": receipt.seq,
                "entry_hash": receipt.entry_hash,
                "covered_by": receipt.covered_by,
                "checkpoint_size": checkpoint.size,
                "checked_at": checked_at,
            }
            # After _refresh the saved note is the latest checkpoint (or one of the same tree).
            note = state.checkpoint
            if checkpoint.size > receipt.seq:
                served = client.entries(receipt.seq, receipt.seq + 1)[0]
                proof = client.inclusion_proof(receipt.seq, checkpoint.size)
                verify_inclusion(
                    receipt.seq, checkpoint.size, leaf_hash(served.raw), proof, checkpoint.root
                )
                found = hashlib.sha256(served.raw).hexdigest()
                if found == receipt.entry_hash:
                    app.finish(
                        {**base, "status": "included"},
                        [
                            f"Receipt verified: entry {receipt.seq:,} of {receipt.origin} has the "
                            f"promised hash and is in the signed tree of {checkpoint.size:,} "
                            "entries."
                        ],
                    )
                    return
                evidence = {
                    "kind": "receipt_equivocation",
                    "verifier_key": key.to_string(),
                    "receipt": receipt.note,
                    "checkpoint": note,
                    "checkpoint_url": state.url,
                    "checked_at": checked_at,
                    "entry_b64": _b64(served.raw),
                    "entry_sha256": found,
                    "inclusion_proof": [_b64(h) for h in proof],
                }
                _report_misbehaviour(
                    app,
                    base,
                    evidence,
                    evidence_path,
                    f"MISBEHAVIOUR: the log's key signed a receipt for entry {receipt.seq:,} "
                    f"with hash {receipt.entry_hash}, and a checkpoint whose entry "
                    f"{receipt.seq:,} has hash {found}.",
                )
        now = datetime.now(UTC)
        if now < receipt.covered_by_datetime():
            app.finish(
                {**base, "status": "not_yet_covered"},
                [
                    f"Receipt signature verified; entry {receipt.seq:,} is not yet covered: the "
                    f"log holds {checkpoint.size:,} entries, and has until "
                    f"{receipt.covered_by} to include it. Check again after that time."
                ],
            )
            return
        evidence = {
            "kind": "receipt_censorship",
            "verifier_key": key.to_string(),
            "receipt": receipt.note,
            "checkpoint": note,
            "checkpoint_url": state.url,
            "checked_at": checked_at,
        }
        _report_misbehaviour(
            app,
            base,
            evidence,
            evidence_path,
            f"CENSORSHIP: the operator signed a promise it did not keep. Entry "
            f"{receipt.seq:,} was promised by {receipt.covered_by}, but at {checked_at} "
            f"the log's signed checkpoint covers only {checkpoint.size:,} entries.",
        )


def _report_misbehaviour(
    app: App, base: dict[str, Any], evidence: dict[str, Any], target: Path | None, message: str
) -> NoReturn:
    data = (json.dumps(evidence, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
    stamp = str(evidence["checked_at"]).replace(":", "").replace("-", "")
    name = f"tally-receipt-evidence-{stamp}.json"
    path = Path.cwd() / name if target is None else target
    if path.is_dir():
        path = path / name
    lines = [message]
    written: Path | None = None
    try:
        written = _write_new_file(path, data)
        lines.append(f"Evidence saved to {written}. Keep it and share it.")
    except OSError as exc:
        lines.append(f"The evidence file could not be written ({exc}); here it is:")
        lines.append(json.dumps(evidence, ensure_ascii=False))
    app.finish(
        {
            **base,
            "status": "misbehaviour",
            "kind": evidence["kind"],
            "message": message,
            "evidence_file": None if written is None else str(written),
            "evidence": evidence,
        },
        lines,
        code=EXIT_FORK,
    )
    raise AssertionError("unreachable")


# -- audit and dump --------------------------------------------------------------


@contextmanager
def _progress(app: App, label: str, done: int, total: int) -> Iterator[Callable[[int], None]]:
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
    )
    with Progress(
        *columns, console=app.err, transient=True, disable=not app.err.is_terminal
    ) as bar:
        task = bar.add_task(label, total=total, completed=done)
        yield lambda n: bar.update(task, advance=n)


@cli.command(short_help="Replay the log from genesis: entries, chain, root, the plan's rules.")
@click.argument("url", required=False)
@click.option(
    "--dir",
    "dump_dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Audit an offline dump (see `dump`) instead of a server.",
)
@click.option("--from-start", is_flag=True, help="Replay from genesis, ignoring saved progress.")
@click.option(
    "--key", "key_text", help="With --dir: the log's verifier key [default: the pinned one]."
)
@click.option("--evidence", "evidence_path", type=click.Path(path_type=Path), help=_EVIDENCE_HELP)
@click.option(
    "--log-only",
    is_flag=True,
    help="Check only the hash chain and the tree, as a log monitor does: quicker, but "
    "neither the entries' own rules nor the plan's rules are checked.",
)
@click.option(
    "--tiles",
    is_flag=True,
    help="Read the log from its C2SP tiles (entry bundles) instead of /v1/entries, and "
    "check that its hash tiles give the signed root too.",
)
@click.pass_obj
def audit(
    app: App,
    url: str | None,
    dump_dir: Path | None,
    from_start: bool,
    key_text: str | None,
    evidence_path: Path | None,
    log_only: bool,
    tiles: bool,
) -> None:
    """Replay the whole log from genesis: every entry, the chain, the root, the plan's rules.

    Fetches and checks a fresh checkpoint first (as `checkpoint` does), then pages
    through the entries up to its size, saving progress as it goes; a later run
    resumes there unless --from-start. The mutual-aid plan's rules (specs/plan.md)
    are replayed over the same entries, always from genesis: a resumed run re-reads
    the entries before its resume point for that part only, and checks they are the
    ones the earlier run saw. URL defaults to the saved one (another server of the
    same log may be given). With --dir, audits an offline dump. With --log-only,
    checks the chain and the tree of all the entries and nothing else (specs/log.md
    §3); it neither resumes nor saves progress. With --tiles, the entries come from
    the server's C2SP tiles, and the tiles' own root must be the signed one.
    """
    if url is not None and dump_dir is not None:
        raise click.UsageError("give a URL or --dir DUMP, not both")
    if log_only and from_start:
        raise click.UsageError("--log-only always replays from genesis; drop --from-start")
    if dump_dir is not None:
        if log_only:
            _audit_dump_links(app, dump_dir, key_text)
        else:
            _audit_dump(app, dump_dir, key_text, evidence_path)
        return
    if key_text is not None:
        raise click.UsageError("--key is for --dir; online, the key pinned by init is used")
    if tiles and dump_dir is not None:
        raise click.UsageError("--tiles reads a server's tiles; a dump has none")
    if log_only:
        _audit_online_links(app, url, evidence_path, tiles)
        return
    pages = fetch_bundles if tiles else fetch_pages
    with _refreshed(app, url, evidence_path) as (state, client, grown):
        base = client.base_url
        checkpoint = grown.new
        replayer = Replayer(state.verifier, None if from_start else state.audit, check_plan=True)
        start = replayer.next_seq
        try:
            if replayer.plan_prefix_size:
                with _progress(app, "Re-reading for the plan", 0, start) as advance:
                    for page in prefetch(pages(client, 0, start)):
                        for item in page:
                            replayer.add_prefix(item.raw)
                        advance(len(page))
            saved_at = time.monotonic()
            with _progress(app, "Auditing", start, checkpoint.size) as advance:
                for page in prefetch(pages(client, start, checkpoint.size)):
                    for item in page:
                        replayer.add(item.raw, item.shown)
                    advance(len(page))
                    # Progress is saved about once a second, not after every page:
                    # each save is a synced write.
                    if not replayer.violation_count and time.monotonic() - saved_at >= 1:
                        state.audit = replayer.progress()
                        app.state_dir.save(state)
                        saved_at = time.monotonic()
            replayer.check_root(checkpoint.root)
            tile_violation = _tile_root_violation(client, checkpoint) if tiles else None
            if tile_violation is not None:
                replayer.report(tile_violation.seq, tile_violation.message)
            replayer.raise_if_failed()
        except AuditFailedError:
            state.audit = None
            app.state_dir.save(state)
            raise
        except (ServerError, KeyboardInterrupt):
            # Keep what was checked, so that the next run resumes here.
            if not replayer.violation_count and replayer.next_seq > start:
                state.audit = replayer.progress()
                app.state_dir.save(state)
            raise
        state.audit = replayer.progress()
        app.state_dir.save(state)
    n = checkpoint.size
    plan = _plan_summary(replayer)
    lines = [grown.sentence(), _audit_sentence(start, n), plan.sentence(), *plan.finding_lines()]
    if tiles:
        lines.append(TILES_SENTENCE)
    app.finish(
        {
            "command": "audit",
            "source": base,
            "read_from": "tiles" if tiles else "entries",
            "tree_size": n,
            "root": _b64(checkpoint.root),
            "start_seq": start,
            "entries_checked": n - start,
            "violations": [],
            "plan": plan.json(),
            **{f"checkpoint_{k}": v for k, v in grown.json().items()},
        },
        lines,
    )


def _plan_summary(replayer: Replayer) -> PlanSummary:
    """The plan replay's summary, once the audit passed (so the replay ran to the end)."""
    summary = replayer.plan_summary()
    if summary is None:  # pragma: no cover - a stopped replay reported a violation
        raise AssertionError("the plan replay stopped without a violation")
    return summary


def _audit_sentence(start: int, n: int) -> str:
    if start == 0:
        return (
            f"Replayed all {n:,} entries from genesis: each is well-formed, the hash chain is "
            "unbroken, the genesis entry names the pinned key, and together they hash to the "
            "signed root."
        )
    if start < n:
        return (
            f"Replayed entries {start:,} to {n - 1:,} (the {start:,} before them were replayed "
            "by an earlier audit; --from-start replays them again): each is well-formed, the "
            f"chain is unbroken, and all {n:,} entries hash to the signed root."
        )
    return f"All {n:,} entries were replayed by an earlier audit, and they hash to the signed root."


def _dump_key(app: App, folder: Path, key_text: str | None) -> Verifier:
    """The key to check a dump with: --key, else the pinned one. Checks it is a dump."""
    for name in (DUMP_CHECKPOINT, DUMP_ENTRIES):
        if not (folder / name).is_file():
            raise click.BadParameter(
                f"{folder} is not a dump: it has no {name} file", param_hint="--dir"
            )
    if key_text is not None:
        try:
            return parse_verifier_key(key_text.strip())
        except VerificationError as exc:
            raise click.BadParameter(str(exc), param_hint="--key") from None
    state = app.state_dir.load()
    if state is not None:
        return state.verifier
    raise click.UsageError(
        "no state is set up to give the log's key: pass --key or run `tally-verify init`"
    )


def _audit_dump(app: App, folder: Path, key_text: str | None, evidence: Path | None) -> None:
    """Audit an offline dump, and compare it with the saved checkpoint if of the pinned key."""
    state = app.state_dir.load()
    key = _dump_key(app, folder, key_text)
    note = read_dump_checkpoint(folder)
    checkpoint = _accept_checkpoint(note, key)
    saved = state.verified_checkpoint if state is not None and state.verifier == key else None
    compare = saved is not None and 0 < saved.size <= checkpoint.size
    replayer = Replayer(
        key,
        watch=frozenset({saved.size}) if compare and saved is not None else frozenset(),
        check_plan=True,
    )
    advanced = 0
    with _progress(app, "Auditing dump", 0, checkpoint.size) as advance:
        for raw in read_dump_entries(folder, checkpoint.size):
            replayer.add(raw)
            if replayer.next_seq % 1000 == 0 or replayer.next_seq == checkpoint.size:
                advance(replayer.next_seq - replayer.start_seq - advanced)
                advanced = replayer.next_seq - replayer.start_seq
    replayer.check_root(checkpoint.root)
    replayer.raise_if_failed()

    plan = _plan_summary(replayer)
    lines = [
        f"Audited the dump in {folder} of the log {key.name}.",
        _audit_sentence(0, checkpoint.size),
        plan.sentence(),
        *plan.finding_lines(),
    ]
    relation = "not compared"
    if state is not None and saved is not None and compare:
        prefix_root = replayer.roots_at[saved.size]
        if prefix_root != saved.root:
            first = Seen(state.checkpoint, saved, state.checkpoint_url, state.checkpoint_fetched_at)
            second = Seen(note, checkpoint, f"dump:{folder}", None)
            if saved.size == checkpoint.size:
                _report_fork(Fork(SAME_SIZE, first, second), key, evidence)
            _report_fork(_dump_divergence(folder, first, second, prefix_root), key, evidence)
        relation = "extends"
        lines.append(
            "It is exactly the tree of your saved checkpoint."
            if saved.size == checkpoint.size
            else f"Its first {saved.size:,} entries are exactly the tree of your saved checkpoint."
        )
    elif saved is not None:
        lines.append(
            f"The dump ({checkpoint.size:,} entries) is older than your saved checkpoint "
            f"({saved.size:,}), so it was not compared with it."
        )
    app.finish(
        {
            "command": "audit",
            "source": f"dump:{folder}",
            "tree_size": checkpoint.size,
            "root": _b64(checkpoint.root),
            "start_seq": 0,
            "entries_checked": checkpoint.size,
            "violations": [],
            "plan": plan.json(),
            "saved_checkpoint": relation,
        },
        lines,
    )


TILES_SENTENCE = (
    "The entries were read from the server's C2SP tiles (entry bundles), and its hash "
    "tiles give the same signed root."
)


def _tile_root_violation(client: LogClient, checkpoint: Checkpoint) -> Violation | None:
    """A violation if the server's hash tiles do not give the checkpoint's root."""
    root = root_from_tiles(checkpoint.size, client.hash_tile)
    if root == checkpoint.root:
        return None
    return Violation(
        None,
        f"the server's hash tiles give the root {_b64(root)} for {checkpoint.size:,} "
        f"entries, but the signed checkpoint has {_b64(checkpoint.root)}: its tiles show "
        "another tree than it signed",
    )


def _audit_online_links(app: App, url: str | None, evidence: Path | None, tiles: bool) -> None:
    """``audit --log-only`` against a server: the chain and the tree of every entry."""
    pages = fetch_bundles if tiles else fetch_pages
    with _refreshed(app, url, evidence) as (_, client, grown):
        base = client.base_url
        checkpoint = grown.new
        links = LinkReplay()
        with _progress(app, "Checking the chain", 0, checkpoint.size) as advance:
            for page in prefetch(pages(client, 0, checkpoint.size)):
                links.join(scan([item.raw for item in page], links.next_seq))
                advance(len(page))
        tile_violation = _tile_root_violation(client, checkpoint) if tiles else None
    _raise_if_broken(links, checkpoint, [tile_violation] if tile_violation else [])
    app.finish(
        {
            **_links_result(base, checkpoint, grown.json()),
            "read_from": "tiles" if tiles else "entries",
        },
        [
            grown.sentence(),
            _links_sentence(checkpoint.size),
            *([TILES_SENTENCE] if tiles else []),
        ],
    )


def _audit_dump_links(app: App, folder: Path, key_text: str | None) -> None:
    """``audit --dir --log-only``: the chain and the tree of a dump, one process per core."""
    key = _dump_key(app, folder, key_text)
    checkpoint = _accept_checkpoint(read_dump_checkpoint(folder), key)
    links = LinkReplay()
    segments = scan_dump(folder, checkpoint.size)
    # The first run starts the worker processes before the progress bar starts its
    # thread, so that they can be forked (see scan_dump).
    first = next(segments, None)
    with _progress(app, "Checking the chain", 0, checkpoint.size) as advance:
        for segment in itertools.chain([first] if first is not None else [], segments):
            links.join(segment)
            advance(segment.count)
    _raise_if_broken(links, checkpoint)
    app.finish(
        _links_result(f"dump:{folder}", checkpoint, {}),
        [
            f"Checked the dump in {folder} of the log {key.name}.",
            _links_sentence(checkpoint.size),
            "It was not compared with your saved checkpoint; an audit without --log-only "
            "does that.",
        ],
    )


def _raise_if_broken(
    links: LinkReplay, checkpoint: Checkpoint, more: Sequence[Violation] = ()
) -> None:
    violations = [Violation(b.seq, b.message) for b in links.breaks]
    count = links.break_count
    root = links.tree.root()
    if root != checkpoint.root:
        count += 1
        violations.append(
            Violation(
                None,
                f"the {checkpoint.size:,} entries received hash to the root {_b64(root)}, but "
                f"the signed checkpoint of that size has {_b64(checkpoint.root)}: some entry "
                "is not the one the log signed",
            )
        )
    violations.extend(more)
    count += len(more)
    if count:
        raise AuditFailedError(violations, count)


def _links_sentence(n: int) -> str:
    return (
        f"Checked the chain and the tree of all {n:,} entries: the hash chain is unbroken "
        "from genesis and the entries hash to the signed root. Their contents were not "
        "checked (--log-only): the entry rules and the plan's rules need a full audit."
    )


def _links_result(source: str, checkpoint: Checkpoint, grown: dict[str, Any]) -> dict[str, Any]:
    return {
        "command": "audit",
        "mode": "log-only",
        "source": source,
        "tree_size": checkpoint.size,
        "root": _b64(checkpoint.root),
        "start_seq": 0,
        "entries_checked": checkpoint.size,
        "violations": [],
        **{f"checkpoint_{k}": v for k, v in grown.items()},
    }


def _dump_divergence(folder: Path, first: Seen, second: Seen, prefix_root: bytes) -> Fork:
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


@cli.command(short_help="Save the whole log, checked, for `audit --dir`.")
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace a dump already in FOLDER.")
@click.option("--evidence", "evidence_path", type=click.Path(path_type=Path), help=_EVIDENCE_HELP)
@click.pass_obj
def dump(app: App, folder: Path, force: bool, evidence_path: Path | None) -> None:
    """Save the whole log in FOLDER, checked as it is fetched, for `audit --dir`.

    Writes `checkpoint` (the signed note) and `entries.jsonl` (one
    {"seq", "leaf"} per line, leaf the base64 of the exact entry bytes). The files
    appear only once every entry is checked and the root matches.
    """
    with app.state_dir.lock():
        state = app.state_dir.require()
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StateError(f"cannot create {folder}: {exc}") from None
        if not force and any((folder / n).exists() for n in (DUMP_CHECKPOINT, DUMP_ENTRIES)):
            raise click.UsageError(f"{folder} already holds a dump; pass --force to replace it")
        with app.client(state.url) as client:
            grown = _refresh(app, state, client, evidence_path)
            app.state_dir.save(state)
            checkpoint = grown.new
            replayer = Replayer(state.verifier)
            try:
                with (
                    atomic_file(folder / DUMP_ENTRIES) as out,
                    _progress(app, "Dumping", 0, checkpoint.size) as advance,
                ):
                    for page in fetch_pages(client, 0, checkpoint.size):
                        for item in page:
                            replayer.add(item.raw, item.shown)
                            write_dump_line(out, item.seq, item.raw)
                        advance(len(page))
                    replayer.check_root(checkpoint.root)
                    replayer.raise_if_failed()
            except OSError as exc:
                raise StateError(f"cannot write the dump in {folder}: {exc}") from None
        try:
            write_atomic(folder / DUMP_CHECKPOINT, state.checkpoint.encode("utf-8"))
        except OSError as exc:
            raise StateError(f"cannot write the dump in {folder}: {exc}") from None
        state.audit = replayer.progress()
        app.state_dir.save(state)
    app.finish(
        {
            "command": "dump",
            "folder": str(folder),
            "tree_size": checkpoint.size,
            "root": _b64(checkpoint.root),
            **{f"checkpoint_{k}": v for k, v in grown.json().items()},
        },
        [
            grown.sentence(),
            f"Saved and checked all {checkpoint.size:,} entries in {folder}; "
            f"`tally-verify audit --dir {folder}` replays them offline.",
        ],
    )


# -- evidence ------------------------------------------------------------------


@cli.command("evidence")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.pass_obj
def evidence_command(app: App, file: Path) -> None:
    """Re-check an evidence file offline: of a fork, or of a broken write receipt.

    Exits 3 if the file holds (the log's key signed two conflicting checkpoints, or
    a receipt and a checkpoint that disagree), 1 if it proves nothing. Compares the
    file's key with the pinned one if a state is set up.
    """
    try:
        doc: object = loads(file.read_bytes())
    except (OSError, StrictJSONError) as exc:
        doc = None
        reason = f"cannot read {file} as JSON: {exc}"
    else:
        reason = ""
    pinned: Verifier | None = None
    try:
        state = app.state_dir.load()
    except StateError:
        state = None
    if state is not None:
        pinned = state.verifier
    about_receipt = is_receipt_evidence(doc)
    verdict = check_receipt_evidence(doc, pinned) if about_receipt else check_evidence(doc, pinned)
    message = verdict.message if not reason else f"The file does not prove anything: {reason}."
    lines: list[str] = []
    pinned_text = state.verifier_key if state is not None else ""
    if verdict.holds:
        lines.append(f"This file shows that the log misbehaved. {message}")
        if verdict.conclusive:
            lines.append(
                "It is conclusive: anyone can check it from the signed notes, the entry and "
                "the proof in the file."
                if about_receipt
                else "It is conclusive: anyone can check it from the two signed checkpoints "
                "and the proof in the file."
            )
        elif about_receipt:
            lines.append(
                "The receipt and the checkpoint are genuinely signed by the log's key, but "
                "checkpoints carry no time: that this one was the latest after the promised "
                "time rests on when it was fetched. To show others, ask the log again."
            )
        else:
            lines.append(
                "Both checkpoints are genuinely signed by the log's key, but this kind of "
                "evidence rests on what the verifier recorded the server answering: to "
                "show others, ask the log the same question again."
            )
        if verdict.key_matches_pinned is True:
            lines.append("The file's key is the one pinned in your state.")
        elif verdict.key_matches_pinned is False:
            lines.append(
                f"The file's key is NOT the one pinned in your state ({pinned_text}): "
                "it is about another log, or another key."
            )
        else:
            lines.append(
                "No state is set up here, so the file's key was not compared with a pinned one."
            )
    else:
        lines.append(f"This file does not prove misbehaviour. {message}")
    app.finish(
        {
            "command": "evidence",
            "file": str(file),
            "holds": verdict.holds,
            "kind": verdict.kind,
            "conclusive": verdict.conclusive,
            "verifier_key": verdict.verifier_key,
            "key_matches_pinned": verdict.key_matches_pinned,
            "message": message,
        },
        lines,
        code=EXIT_FORK if verdict.holds else EXIT_VERIFICATION,
    )


# -- statement and bundle --------------------------------------------------------


def _read_bundle(path: Path) -> dict[str, Any]:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise click.BadParameter(f"cannot read {path}: {exc}", param_hint="FILE") from None
    return parse_bundle_bytes(data)


def _compare_offline(state: State | None, cp: Checkpoint) -> str:
    """Compare a bundle's checkpoint with the saved one, without a server."""
    if state is None:
        return "not compared with a saved checkpoint (no state)"
    old = state.verified_checkpoint
    if old.size == cp.size:
        if old.root != cp.root:
            raise StatementError(
                "checkpoint.consistency",
                f"the bundle's checkpoint and your saved one both have {cp.size:,} entries "
                "but different roots: the log's key signed two histories",
            )
        return f"the same as your saved checkpoint ({old.size:,} entries)"
    return (
        f"not compared with your saved checkpoint ({old.size:,} entries): offline, "
        "no consistency proof is available"
    )


def _compare_live(state: State, client: LogClient, note: str, cp: Checkpoint) -> str:
    """Check the bundle's checkpoint and the saved one with a consistency proof."""
    old = state.verified_checkpoint
    if old.size == cp.size:
        return _compare_offline(state, cp)
    small, large = (old, cp) if old.size < cp.size else (cp, old)
    if small.size > 0:
        proof = client.consistency_proof(small.size, large.size)
        try:
            verify_consistency(small.size, large.size, small.root, large.root, proof)
        except VerificationError as exc:
            raise StatementError(
                "checkpoint.consistency",
                f"the bundle's checkpoint ({cp.size:,} entries) and your saved one "
                f"({old.size:,}) are not consistent: {exc}",
            ) from None
    if cp.size > old.size:
        state.checkpoint = note
        state.checkpoint_url = client.base_url
        state.checkpoint_fetched_at = utc_now()
        return f"consistent with your saved checkpoint ({old.size:,} entries), which it replaces"
    return f"consistent with your saved, larger checkpoint ({old.size:,} entries)"


def _verify_statement(
    app: App,
    doc: dict[str, Any],
    key: Verifier,
    command: str,
    compare: Callable[[Checkpoint, str], str],
) -> None:
    report, cp = verify_bundle(doc, key)
    report.checkpoint_compared = compare(cp, str(doc["checkpoint"]))
    report.checks.append("checkpoint.consistency")
    app.finish({"command": command, **report.json()}, report.lines())


@cli.command("statement", short_help="Fetch and verify your statement for a period.")
@click.option("--member", "member", required=True, help="Your member id (m-...).")
@click.option("--period", "period", help="The period (YYYY-MMa/b) [default: the latest closed].")
@click.option(
    "--bundle",
    "bundle_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Verify this saved bundle instead of fetching one.",
)
@click.pass_obj
def statement_command(app: App, member: str, period: str | None, bundle_path: Path | None) -> None:
    """Verify how your share of a period was used (specs/statement.md §3).

    The bundle's checkpoint must be signed by the pinned key; every entry's proof,
    your contribution proofs, the period's apportionment, your charge and every
    claim paid in the period are recomputed. A statement cannot show that nothing
    was left out of the log: `tally-verify audit` does.
    """
    try:
        member = check_member(member)
        if period is not None:
            period = parse_period(period).id
    except PlanError as exc:
        raise click.BadParameter(str(exc)) from None
    with app.state_dir.lock():
        state = app.state_dir.require()
        key = state.verifier
        if bundle_path is not None:
            doc = _read_bundle(bundle_path)
            _check_request(doc, member, period)
            _verify_statement(
                app, doc, key, "statement", lambda cp, _note: _compare_offline(state, cp)
            )
            return
        with app.client(state.url) as client:
            doc = client.statement(member, period)
            _check_request(doc, member, period)

            def compare(cp: Checkpoint, note: str) -> str:
                return _compare_live(state, client, note, cp)

            try:
                _verify_statement(app, doc, key, "statement", compare)
            finally:
                app.state_dir.save(state)


def _check_request(doc: dict[str, Any], member: str, period: str | None) -> None:
    if doc.get("member") != member or (period is not None and doc.get("period") != period):
        raise StatementError(
            "bundle.request",
            f"you asked for member {member}"
            + (f", period {period}" if period else "")
            + f"; the bundle is for {doc.get('member')!r}, period {doc.get('period')!r}",
        )


@cli.command("bundle", short_help="Verify a saved statement bundle offline.")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--key", "key_text", help="The log's verifier key (if no state pins one).")
@click.pass_obj
def bundle_command(app: App, file: Path, key_text: str | None) -> None:
    """Verify a saved statement bundle offline, with no server (statement.md §3).

    The key is the pinned one from the state if there is one, else --key.
    """
    state = app.state_dir.load() if app.state_dir.exists() else None
    if state is not None:
        key = state.verifier
        if key_text is not None and parse_verifier_key(key_text.strip()) != key:
            raise click.BadParameter("differs from the pinned key", param_hint="--key")
    elif key_text is not None:
        try:
            key = parse_verifier_key(key_text.strip())
        except VerificationError as exc:
            raise click.BadParameter(str(exc), param_hint="--key") from None
    else:
        raise click.UsageError("no state pins a key: give the log's key with --key")
    doc = _read_bundle(file)
    _verify_statement(app, doc, key, "bundle", lambda cp, _note: _compare_offline(state, cp))


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def main() -> None:
    """The ``tally-verify`` entry point."""
    cli.main(prog_name="tally-verify")


if __name__ == "__main__":  # pragma: no cover
    main()
