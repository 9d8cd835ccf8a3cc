"""The publisher: signs checkpoints of the log, never two that contradict each other.

Signing (specs/checkpoint.md §4), under the sequencer lock so that no append or
other publisher interleaves:

1. read the current size n and compute its root from stored hashes;
2. load the latest checkpoint already signed, of size m;
3. refuse if n < m, or if the root of the first m entries, recomputed from the
   stored hashes now, differs from the root signed then (the store was altered),
   or if a ``log.retired`` entry other than the last would be covered: a retired
   log's final checkpoint is its last (specs/log.md §7);
4. if n == m, return the checkpoint already signed;
5. otherwise build the RFC 9162 consistency proof from m to n and verify it
   against the root signed then and the new root; only then sign, store, return.

Every signed checkpoint is kept (table ``checkpoint``, append-only).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.engine import Connection

from ledger.errors import PublishError
from ledger.log import tree
from ledger.log.entry import RETIRED_TYPE, format_time, parse_entry, read_envelope_tail
from ledger.log.proof import ProofError, verify_consistency
from ledger.log.store import ConnectionHashReader, Store, checkpoint_table, entry_table
from ledger.publish.checkpoint import Checkpoint, open_checkpoint
from ledger.publish.note import Signer, sign_note


@dataclass(frozen=True)
class SignedCheckpoint:
    """A checkpoint with the full signed note text as served."""

    checkpoint: Checkpoint
    note: str
    signed_at: str


class Publisher:
    """Signs checkpoints with the operator's key and keeps every one."""

    def __init__(self, store: Store, signer: Signer) -> None:
        meta = store.require_meta()
        verifier = signer.verifier()
        if verifier.to_string() != meta.verifier_key:
            raise PublishError(
                f"expected the log's key {meta.verifier_key}, found key {verifier.to_string()}"
            )
        self.store = store
        self.signer = signer
        self.origin = meta.origin

    def publish(self) -> SignedCheckpoint:
        """Sign a checkpoint of the current size (or return the one already signed for it)."""
        with self.store.writer() as conn:
            reader = ConnectionHashReader(self.store, conn)
            size = self.store.size(conn)
            last = (
                conn.execute(
                    select(checkpoint_table).order_by(checkpoint_table.c.tree_size.desc()).limit(1)
                )
                .mappings()
                .first()
            )
            if last is not None:
                last_size, last_root = int(last["tree_size"]), bytes(last["root"])
                if size < last_size:
                    raise PublishError(
                        f"the log has {size} entries but a checkpoint of size {last_size} "
                        "was already signed: the store lost entries"
                    )
                if tree.root_at(reader, last_size) != last_root:
                    raise PublishError(
                        f"the stored tree at size {last_size} no longer has the root signed "
                        "then: refusing to sign a history inconsistent with it"
                    )
                if size == last_size:
                    return SignedCheckpoint(
                        open_checkpoint(last["note"], self.signer.verifier()),
                        last["note"],
                        last["signed_at"],
                    )
            retired = _retired_before(conn, int(last["tree_size"]) if last else 0, size)
            if retired is not None:
                raise PublishError(
                    f"the log was retired at seq {retired} (specs/log.md §7): its final "
                    f"checkpoint covers {retired + 1} entries; refusing to sign one of {size}"
                )
            root = tree.root_at(reader, size)
            if last is not None:
                try:
                    verify_consistency(
                        last_size,
                        size,
                        last_root,
                        root,
                        tree.consistency_proof(reader, last_size, size),
                    )
                except ProofError as exc:
                    raise PublishError(
                        f"the tree of size {size} is not consistent with the checkpoint of "
                        f"size {last_size}: {exc}"
                    ) from None
            checkpoint = Checkpoint(self.origin, size, root)
            note = sign_note(checkpoint.to_body(), [self.signer])
            signed_at = format_time(datetime.now(UTC))
            conn.execute(
                checkpoint_table.insert(),
                {"tree_size": size, "root": checkpoint.root, "note": note, "signed_at": signed_at},
            )
        return SignedCheckpoint(checkpoint, note, signed_at)

    def pending(self) -> bool:
        """True when the log holds entries that no signed checkpoint covers yet.

        One read, no lock: a cheap test before :meth:`publish`, which takes the
        sequencer's lock even when there is nothing new to sign.
        """
        with self.store.reader() as conn:
            size = self.store.size(conn)
            signed = conn.execute(
                select(checkpoint_table.c.tree_size)
                .order_by(checkpoint_table.c.tree_size.desc())
                .limit(1)
            ).scalar()
        return signed is None or size > int(signed)


def latest_checkpoint(store: Store) -> str | None:
    """The note text of the latest signed checkpoint, or None before the first."""
    with store.reader() as conn:
        note = conn.execute(
            select(checkpoint_table.c.note).order_by(checkpoint_table.c.tree_size.desc()).limit(1)
        ).scalar()
    return None if note is None else str(note)


def _retired_before(conn: Connection, signed: int, size: int) -> int | None:
    """The seq of a ``log.retired`` entry that a checkpoint of ``size`` would cover not last.

    Reads the entries not yet covered by the last checkpoint of ``signed`` entries (and
    that checkpoint's last entry): only there can a new one have appeared.
    """
    rows = conn.execute(
        select(entry_table.c.seq, entry_table.c.data)
        .where(entry_table.c.seq >= max(signed - 1, 0), entry_table.c.seq < size - 1)
        .order_by(entry_table.c.seq)
    )
    for seq, data in rows:
        raw = bytes(data)
        tail = read_envelope_tail(raw)
        entry_type = tail[3] if tail is not None else parse_entry(raw).type
        if entry_type == RETIRED_TYPE:
            return int(seq)
    return None
