"""What the verifier remembers between runs, and how it writes files safely.

The state is the member's own record, the third thing the verifier trusts besides
the specs and the log's key (docs: design brief, trust model). It lives in one JSON
file, ``state.json``, in the state folder (``$XDG_STATE_HOME/tally-verify``, else
``~/.local/state/tally-verify``; ``--state`` or ``TALLY_VERIFY_STATE`` overrides)::

    {
      "format": "tally-verify-state/1",
      "url": "https://plan.example.org/tally",       the log's base URL
      "verifier_key": "<name>+<hex8>+<base64>",       the pinned key (checkpoint.md §2)
      "trust": "pinned" | "tofu",                     given with --key, or trusted on first use
      "pinned_at": "2026-01-01T00:00:00Z",
      "checkpoint": "<signed note text>",             the last verified checkpoint, verbatim
      "checkpoint_url": "https://...",                the server it came from (a mirror, maybe)
      "checkpoint_fetched_at": "2026-01-01T00:00:00Z",
      "audit": null | {                               how far `audit` has replayed the log
        "next_seq": 1000,                             the first entry not yet replayed
        "last_hash": "<64 hex>",                      SHA-256 of entry next_seq - 1 (log.md §3)
        "last_time": "2026-...Z" | null,              its time (times never decrease)
        "frontier": ["<base64>", ...]                 roots of the maximal complete subtrees
      }                                               of the first next_seq leaves (tree.md §3)
    }

Loading re-checks everything it can: the key parses, the checkpoint verifies with
it, the audit frontier has one hash per 1 bit of ``next_seq`` and lies within the
checkpoint. Writes are atomic (a temporary file in the same folder, fsync, rename,
fsync of the folder), so a crash leaves the old state or the new, never half of
one; and a lock file keeps two runs from overwriting each other's progress.
"""

from __future__ import annotations

import json
import os
import re
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from verifier.b64 import Base64Error, decode_sized, encode
from verifier.checkpoint import Checkpoint, verify_checkpoint
from verifier.entry import ZERO_PREV, is_valid_time
from verifier.errors import StateError, VerificationError
from verifier.merkle import EMPTY_ROOT, HASH_SIZE
from verifier.note import Verifier, parse_verifier_key
from verifier.strict_json import StrictJSONError, loads

STATE_FORMAT = "tally-verify-state/1"
STATE_FILE = "state.json"
LOCK_FILE = "lock"
TRUST_PINNED = "pinned"
TRUST_TOFU = "tofu"
_HEX64 = re.compile(r"[0-9a-f]{64}")


def default_state_dir() -> Path:
    """``$XDG_STATE_HOME/tally-verify``, or ``~/.local/state/tally-verify``."""
    base = os.environ.get("XDG_STATE_HOME")
    # The XDG spec says a relative value is invalid and must be ignored.
    root = Path(base) if base and os.path.isabs(base) else Path.home() / ".local" / "state"
    return root / "tally-verify"


def utc_now() -> str:
    """The current UTC time as ``YYYY-MM-DDTHH:MM:SSZ``."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class AuditProgress:
    """How far an audit has replayed the log: enough to resume it (see the module doc)."""

    next_seq: int
    last_hash: str
    last_time: str | None
    frontier: list[bytes]


@dataclass
class State:
    """The member's record of one log (see the module doc for the file format)."""

    url: str
    verifier_key: str
    trust: str
    pinned_at: str
    checkpoint: str
    checkpoint_url: str
    checkpoint_fetched_at: str
    audit: AuditProgress | None = None

    @property
    def verifier(self) -> Verifier:
        """The pinned key."""
        return parse_verifier_key(self.verifier_key)

    @property
    def verified_checkpoint(self) -> Checkpoint:
        """The saved checkpoint, verified again with the pinned key."""
        return verify_checkpoint(self.checkpoint, self.verifier)

    def adopt(self, note: str, source: str, fetched_at: str) -> None:
        """Save ``note`` as the latest checkpoint, once checked to extend the saved one."""
        self.checkpoint = note
        self.checkpoint_url = source
        self.checkpoint_fetched_at = fetched_at

    def to_json(self) -> dict[str, Any]:
        """The JSON document saved in ``state.json``."""
        audit = None
        if self.audit is not None:
            audit = {
                "next_seq": self.audit.next_seq,
                "last_hash": self.audit.last_hash,
                "last_time": self.audit.last_time,
                "frontier": [encode(h) for h in self.audit.frontier],
            }
        return {
            "format": STATE_FORMAT,
            "url": self.url,
            "verifier_key": self.verifier_key,
            "trust": self.trust,
            "pinned_at": self.pinned_at,
            "checkpoint": self.checkpoint,
            "checkpoint_url": self.checkpoint_url,
            "checkpoint_fetched_at": self.checkpoint_fetched_at,
            "audit": audit,
        }

    @classmethod
    def from_json(cls, doc: object) -> State:
        """Check and load a ``state.json`` document; raise :class:`StateError` if unusable."""
        if not isinstance(doc, dict):
            raise StateError("expected a JSON object")
        if doc.get("format") != STATE_FORMAT:
            raise StateError(f"expected format {STATE_FORMAT!r}, found {doc.get('format')!r}")
        state = cls(
            url=_text(doc, "url"),
            verifier_key=_text(doc, "verifier_key"),
            trust=_text(doc, "trust"),
            pinned_at=_text(doc, "pinned_at"),
            checkpoint=_text(doc, "checkpoint"),
            checkpoint_url=_text(doc, "checkpoint_url"),
            checkpoint_fetched_at=_text(doc, "checkpoint_fetched_at"),
        )
        if state.trust not in (TRUST_PINNED, TRUST_TOFU):
            raise StateError(f"expected trust 'pinned' or 'tofu', found {state.trust!r}")
        try:
            state.verifier  # noqa: B018 (parsing is the check)
        except VerificationError as exc:
            raise StateError(f"the saved verifier key is not valid: {exc}") from None
        try:
            checkpoint = state.verified_checkpoint
        except VerificationError as exc:
            raise StateError(
                f"the saved checkpoint does not verify with the saved key: {exc}"
            ) from None
        if checkpoint.size == 0 and checkpoint.root != EMPTY_ROOT:
            raise StateError("the saved checkpoint of size 0 does not have the empty root")
        raw_audit = doc.get("audit")
        if raw_audit is not None:
            state.audit = _audit_from_json(raw_audit, checkpoint.size)
        return state


def _audit_from_json(doc: object, checkpoint_size: int) -> AuditProgress:
    if not isinstance(doc, dict):
        raise StateError("expected 'audit' to be an object or null")
    next_seq = doc.get("next_seq")
    if type(next_seq) is not int or not 0 <= next_seq <= checkpoint_size:
        raise StateError(
            f"expected audit next_seq between 0 and the checkpoint size {checkpoint_size}, "
            f"found {next_seq!r}"
        )
    last_hash = doc.get("last_hash")
    if not isinstance(last_hash, str) or not _HEX64.fullmatch(last_hash):
        raise StateError(f"expected audit last_hash of 64 hex digits, found {last_hash!r}")
    if next_seq == 0 and last_hash != ZERO_PREV:
        raise StateError("expected audit last_hash of 64 zeros before entry 0")
    last_time = doc.get("last_time")
    if last_time is not None and not (isinstance(last_time, str) and is_valid_time(last_time)):
        raise StateError(f"expected audit last_time YYYY-MM-DDTHH:MM:SSZ, found {last_time!r}")
    raw_frontier = doc.get("frontier")
    if not isinstance(raw_frontier, list) or len(raw_frontier) != next_seq.bit_count():
        raise StateError(
            f"expected an audit frontier of {next_seq.bit_count()} hashes for "
            f"{next_seq} entries, found {raw_frontier!r:.100}"
        )
    frontier = []
    for i, item in enumerate(raw_frontier):
        try:
            frontier.append(decode_sized(item, HASH_SIZE))
        except Base64Error:
            raise StateError(f"expected audit frontier [{i}] to be a base64 32-byte hash") from None
    return AuditProgress(next_seq, last_hash, last_time, frontier)


def _text(doc: dict[str, Any], name: str) -> str:
    value = doc.get(name)
    if not isinstance(value, str) or not value:
        raise StateError(f"expected {name!r} to be a non-empty string, found {value!r:.100}")
    return value


class StateDir:
    """The state folder: load, save (atomically) and lock ``state.json``."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.file = path / STATE_FILE

    def exists(self) -> bool:
        """Tell whether a state has been saved here."""
        return self.file.exists()

    def load(self) -> State | None:
        """The saved state, or ``None`` if there is none; :class:`StateError` if unusable."""
        try:
            text = self.file.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except (OSError, UnicodeDecodeError) as exc:
            raise StateError(f"cannot read the state {self.file}: {exc}") from None
        try:
            doc = loads(text)
        except StrictJSONError as exc:
            raise StateError(f"the state {self.file} is not JSON: {exc}") from None
        try:
            return State.from_json(doc)
        except StateError as exc:
            raise StateError(f"the state {self.file} is unusable: {exc}") from None

    def require(self) -> State:
        """The saved state; :class:`StateError` telling the member to run ``init`` if none."""
        state = self.load()
        if state is None:
            raise StateError(
                f"no log is set up in {self.path}: run `tally-verify init URL` first "
                "(or pass --state DIR)"
            )
        return state

    def save(self, state: State) -> None:
        """Write ``state`` atomically (see :func:`write_atomic`)."""
        text = json.dumps(state.to_json(), indent=2, ensure_ascii=False) + "\n"
        try:
            self.path.mkdir(parents=True, exist_ok=True)
            write_atomic(self.file, text.encode("utf-8"), mode=0o600)
        except OSError as exc:
            raise StateError(f"cannot save the state in {self.path}: {exc}") from None

    @contextmanager
    def lock(self) -> Iterator[None]:
        """Hold the folder's lock, or raise :class:`StateError` if another run holds it."""
        try:
            self.path.mkdir(parents=True, exist_ok=True)
            handle = open(self.path / LOCK_FILE, "a+b")  # noqa: SIM115 (held across the yield)
        except OSError as exc:
            raise StateError(f"cannot use the state folder {self.path}: {exc}") from None
        try:
            if sys.platform != "win32":
                import fcntl

                try:
                    fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    raise StateError(
                        f"another tally-verify is using the state in {self.path}; "
                        "wait for it to finish"
                    ) from None
            yield
        finally:
            handle.close()


def write_atomic(path: Path, data: bytes, *, mode: int = 0o644, replace: bool = True) -> None:
    """Write ``data`` to ``path`` so that readers see the old file or the new, never half.

    A temporary file in the same folder is written, flushed and fsynced, then renamed
    over ``path`` (or, with ``replace=False``, linked to it, which fails with
    ``FileExistsError`` if ``path`` exists); then the folder is fsynced so the
    rename itself survives a crash.
    """
    with atomic_file(path, mode=mode, replace=replace) as out:
        out.write(data)


@contextmanager
def atomic_file(path: Path, *, mode: int = 0o644, replace: bool = True) -> Iterator[IO[bytes]]:
    """Yield a binary file that becomes ``path`` only if the block ends without an error."""
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            yield out
            out.flush()
            os.fchmod(out.fileno(), mode)
            os.fsync(out.fileno())
        if replace:
            os.replace(tmp, path)
        else:
            os.link(tmp, path)
            tmp.unlink()
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


def _fsync_dir(folder: Path) -> None:
    if sys.platform == "win32":  # pragma: no cover - folders cannot be opened there
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
