"""Proofs from the stored contribution tree read only what they need, and match."""

from __future__ import annotations

from pathlib import Path

from ledger.domain import sumtree
from ledger.domain.store import create_plan_schema, store_tree, stored_proof, stored_proofs
from ledger.instance import Ledger, init_ledger


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


def test_proofs_of_several_periods_are_read_in_one_batch(db_url: str, tmp_path: Path) -> None:
    ledger, _ = init_ledger(db_url, tmp_path / "k.key", "t.example/p")
    try:
        create_plan_schema(ledger.store)
        everyone = [f"m-{i:020x}" for i in range(3_000)]
        periods = {  # each period its own members (some absent) and charges
            "2030-01a": everyone[:2_100],
            "2030-01b": everyone[5:3_000:2],
            "2030-02a": everyone[1:2],
        }
        trees = {}
        with ledger.store.writer() as conn:
            for period, members in periods.items():
                charges = {m: 50 + (i * 7) % 13 for i, m in enumerate(members)}
                tree = sumtree.levels([sumtree.leaf_packed(period, m, charges[m]) for m in members])
                store_tree(conn, period, members, charges, tree)
                trees[period] = (members, charges, tree)
        wanted = [
            (period, member, len(periods[period]))
            for member in (everyone[0], everyone[1], everyone[7], everyone[2_050], everyone[2_999])
            for period in periods
        ]
        with ledger.store.reader() as conn:
            found = stored_proofs(conn, wanted)
        assert len(found) == len(wanted)
        for (period, member, size), proof in zip(wanted, found, strict=True):
            members, charges, tree = trees[period]
            if member not in charges:
                assert proof is None, (period, member)
                continue
            assert proof is not None, (period, member)
            index = members.index(member)
            assert proof == (index, charges[member], sumtree.proof(tree, index))
            assert proof == stored_proof_alone(ledger, period, member, size)
        with ledger.store.reader() as conn:
            assert stored_proofs(conn, []) == []
    finally:
        ledger.close()


def stored_proof_alone(
    ledger: Ledger, period: str, member: str, size: int
) -> tuple[int, int, list[sumtree.Node]] | None:
    with ledger.store.reader() as conn:
        return stored_proof(conn, period, member, size)
