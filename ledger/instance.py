"""An operator's ledger: the store, the log, the key and the publisher, opened together.

``init_ledger`` creates a log (specs/log.md §2): the schema and its triggers, the
key file if it does not exist yet, the ``log_meta`` row naming origin and key,
entry 0 (``log.genesis``, whose body repeats origin and key so the log itself
commits to them), and the first signed checkpoint. Each step is idempotent, so a
crash part-way leaves a log that the next ``init`` completes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import insert

from ledger.errors import KeyFormatError, StoreError
from ledger.log.entry import GENESIS_TYPE
from ledger.log.log import Log, NewEntry
from ledger.log.store import SCHEMA_VERSION, Store, meta_table
from ledger.publish.checkpoint import check_origin
from ledger.publish.keyfile import create_key_file, load_key_file
from ledger.publish.note import Signer, parse_verifier_key
from ledger.publish.publisher import Publisher

DEFAULT_ORIGIN = "localhost/tally"


@dataclass
class Ledger:
    """The pieces an operator command works with."""

    store: Store
    log: Log
    signer: Signer
    publisher: Publisher

    def close(self) -> None:
        """Release database connections."""
        self.store.dispose()


def _utc_now() -> datetime:
    return datetime.now(UTC)


def init_ledger(
    url: str,
    key_path: Path,
    origin: str | None = None,
    *,
    genesis_time: str | None = None,
    clock: Callable[[], datetime] = _utc_now,
) -> tuple[Ledger, bool]:
    """Create (or finish creating) a log; return it and whether a new key file was made."""
    # Refuse bad input before anything is written.
    if origin is not None:
        check_origin(origin)
    store = Store(url, create=True)
    try:
        store.create_schema()
        created_key = False
        meta = store.meta()
        if key_path.exists():
            signer = load_key_file(key_path)
            if origin is not None and origin != signer.name:
                raise StoreError(
                    f"the key at {key_path} is named {signer.name!r}, not the origin {origin!r}; "
                    "a log's key is named after its origin"
                )
        elif meta is not None:
            # Never make a key for a log that has one: it could not sign this log.
            raise KeyFormatError(
                f"this database already holds the log {meta.origin!r}, signed by the key "
                f"{meta.verifier_key}; there is no key file at {key_path}: pass that log's "
                "key with --key (no new key was made)"
            )
        else:
            name = origin or DEFAULT_ORIGIN
            check_origin(name)
            signer = create_key_file(key_path, name)
            created_key = True
        vkey = signer.verifier().to_string()
        if meta is None:
            with store.writer() as conn:
                conn.execute(
                    insert(meta_table),
                    {
                        "id": 1,
                        "schema_version": SCHEMA_VERSION,
                        "origin": signer.name,
                        "verifier_key": vkey,
                    },
                )
        elif meta.verifier_key != vkey:
            raise KeyFormatError(
                f"the key at {key_path} does not sign this log: the database holds the log "
                f"{meta.origin!r}, whose key is {meta.verifier_key}; the file holds {vkey}"
            )
        log = Log(store, clock=clock)
        if log.size() == 0:
            log.append(
                NewEntry(
                    GENESIS_TYPE,
                    "operator",
                    {"origin": signer.name, "verifier_key": vkey},
                    time=genesis_time,
                )
            )
        publisher = Publisher(store, signer)
        publisher.publish()
    except BaseException:
        store.dispose()
        raise
    return Ledger(store, log, signer, publisher), created_key


def open_ledger(url: str, key_path: Path | None) -> Ledger:
    """Open an initialised log; the key is needed only by commands that sign."""
    store = Store(url)
    try:
        meta = store.require_meta()
        signer = load_key_file(key_path) if key_path is not None else None
        if signer is None:
            raise StoreError("this command signs, so it needs the key: pass --key")
        parse_verifier_key(meta.verifier_key)
        if signer.verifier().to_string() != meta.verifier_key:
            raise KeyFormatError(
                f"the key at {key_path} does not sign this log: the log {meta.origin!r} has "
                f"the key {meta.verifier_key}; the file holds {signer.verifier().to_string()}"
            )
        return Ledger(store, Log(store), signer, Publisher(store, signer))
    except BaseException:
        store.dispose()
        raise
