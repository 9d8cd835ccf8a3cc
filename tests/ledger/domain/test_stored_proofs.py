"""Proofs from the stored contribution tree read only what they need, and match."""

from __future__ import annotations

from pathlib import Path

from ledger.domain import sumtree
from ledger.domain.store import create_plan_schema, store_tree, stored_proof
from ledger.instance import init_ledger


def test_stored_proofs_match_the_tree(db_url: str, tmp_path: Path) -> None:
    ledger, _ = init_ledger(db_url, tmp_path / "k.key", "t.example/p")
    try:
        create_plan_schema(ledger.store)
        members = [f"m-{i:020x}" for i in range(2_500)]  # three chunks at level 0
        charges = {m: 100 + i % 7 for i, m in enumerate(members)}
        tree = sumtree.levels([sumtree.leaf_packed("2030-01a", m, charges[m]) for m in members])
        with ledger.store.writer() as conn:
            store_tree(conn, "2030-01a", members, charges, tree)
        root = sumtree.root(tree)
        for index in (0, 1, 1023, 1024, 2047, 2048, 2499):
            with ledger.store.reader() as conn:
                found = stored_proof(conn, "2030-01a", members[index], len(members))
            assert found is not None
            got_index, amount, siblings = found
            assert (got_index, amount) == (index, charges[members[index]])
            assert siblings == sumtree.proof(tree, index)
            sumtree.verify(
                sumtree.leaf("2030-01a", members[index], amount),
                index,
                len(members),
                siblings,
                root,
            )
        with ledger.store.reader() as conn:
            assert stored_proof(conn, "2030-01a", "m-" + "f" * 20, len(members)) is None
    finally:
        ledger.close()
