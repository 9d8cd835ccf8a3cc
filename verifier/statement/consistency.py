"""The bundle's checkpoint against the one the member saved (checkpoint.md §4, tree.md §5).

A statement is checked against its own checkpoint; that checkpoint must also be
consistent with the one the verifier saved before, or the log's key signed two
histories. Offline, only a checkpoint of the same size can be compared (same root);
with a server, an RFC 9162 consistency proof shows that the smaller tree is a prefix
of the larger, and a larger, consistent checkpoint replaces the saved one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from verifier.checkpoint import Checkpoint
from verifier.errors import VerificationError
from verifier.merkle import verify_consistency
from verifier.statement.errors import StatementError

ProofSource = Callable[[int, int], list[bytes]]
"""``prove(m, n)``: the log's consistency proof from size ``m`` to ``n`` (unverified)."""


@dataclass(frozen=True)
class Comparison:
    """How the bundle's checkpoint relates to the saved one, in words for the report."""

    text: str
    replaces_saved: bool = False
    """The bundle's checkpoint is larger than the saved one and proved consistent with it."""


def compare_with_saved(
    cp: Checkpoint, saved: Checkpoint | None, prove: ProofSource | None
) -> Comparison:
    """Compare the bundle's verified checkpoint ``cp`` with the verified ``saved`` one.

    ``prove`` is ``None`` offline. Raises :class:`StatementError` (check
    ``checkpoint.consistency``) if the two cannot both be true.
    """
    if saved is None:
        return Comparison("not compared with a saved checkpoint (no state)")
    if saved.size == cp.size:
        if saved.root != cp.root:
            raise StatementError(
                "checkpoint.consistency",
                f"the bundle's checkpoint and your saved one both have {cp.size:,} entries "
                "but different roots: the log's key signed two histories",
            )
        return Comparison(f"the same as your saved checkpoint ({saved.size:,} entries)")
    if prove is None:
        return Comparison(
            f"not compared with your saved checkpoint ({saved.size:,} entries): offline, "
            "no consistency proof is available"
        )
    small, large = (saved, cp) if saved.size < cp.size else (cp, saved)
    if small.size > 0:
        proof = prove(small.size, large.size)
        try:
            verify_consistency(small.size, large.size, small.root, large.root, proof)
        except VerificationError as exc:
            raise StatementError(
                "checkpoint.consistency",
                f"the bundle's checkpoint ({cp.size:,} entries) and your saved one "
                f"({saved.size:,}) are not consistent: {exc}",
            ) from None
    if cp.size > saved.size:
        return Comparison(
            f"consistent with your saved checkpoint ({saved.size:,} entries), which it replaces",
            replaces_saved=True,
        )
    return Comparison(f"consistent with your saved, larger checkpoint ({saved.size:,} entries)")
