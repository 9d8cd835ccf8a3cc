"""The specs/ vectors: the ledger regenerates them byte for byte, and they hold."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import insert

from ledger.cli import main
from ledger.errors import ChainError, EntryError
from ledger.instance import Ledger
from ledger.log import tree
from ledger.log.entry import GENESIS_TYPE, ZERO_HASH, entry_hash, parse_entry
from ledger.log.log import Log, NewEntry
from ledger.log.proof import verify_consistency, verify_inclusion
from ledger.log.store import SCHEMA_VERSION, Store, meta_table
from ledger.publish.checkpoint import open_checkpoint
from ledger.publish.note import parse_signer_key, parse_verifier_key
from ledger.publish.publisher import Publisher
from tests.conftest import SPEC_VECTORS
from tests.ledger.tamper import tamper

KEY_DOC = json.loads((SPEC_VECTORS / "keys" / "log-key.json").read_text())

LOG = json.loads((SPEC_VECTORS / "log" / "log-7.json").read_text())
BROKEN = sorted((SPEC_VECTORS / "log").glob("broken-*.json"))


def b64(text: str) -> bytes:
    return base64.b64decode(text)


def test_regenerating_changes_nothing(tmp_path: Path) -> None:
    subprocess.run([sys.executable, str(SPEC_VECTORS / "generate.py"), str(tmp_path)], check=True)
    # receipts/, plan/invalid/ and retirement/ have their own generators (specs/receipt.md,
    # plan.md §10, log.md §7); every vector file has a maker.
    for maker in (
        "receipts_generate.py",
        "invalid_generate.py",
        "retirement_generate.py",
        "requests_generate.py",
    ):
        subprocess.run([sys.executable, str(SPEC_VECTORS / maker), str(tmp_path)], check=True)
    made = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*.json"))
    kept = sorted(p.relative_to(SPEC_VECTORS) for p in SPEC_VECTORS.rglob("*.json"))
    assert made == kept
    for rel in made:
        assert (tmp_path / rel).read_bytes() == (SPEC_VECTORS / rel).read_bytes(), rel


def check_chain(raws: list[bytes]) -> None:
    """The chain rules of specs/log.md §4, as the ledger applies them."""
    prev, last_time = ZERO_HASH, ""
    for seq, raw in enumerate(raws):
        try:
            entry = parse_entry(raw)
        except EntryError as exc:
            raise ChainError(seq, str(exc)) from None
        if entry.seq != seq or entry.prev != prev or entry.time < last_time:
            raise ChainError(seq, "seq, prev or time")
        if (seq == 0) != (entry.type == GENESIS_TYPE):
            raise ChainError(seq, "genesis")
        prev, last_time = entry_hash(raw), entry.time


def test_log_vector() -> None:
    raws = [b64(r) for r in LOG["entries_b64"]]
    check_chain(raws)
    assert [entry_hash(r) for r in raws] == LOG["entry_hashes"]
    leaves = [tree.leaf_hash(r) for r in raws]
    assert [base64.b64encode(h).decode() for h in leaves] == LOG["leaf_hashes"]
    frontier = tree.Frontier(0, [])
    assert b64(LOG["roots"]["0"]) == tree.EMPTY_ROOT
    for size, leaf in enumerate(leaves, start=1):
        frontier.append(leaf)
        assert frontier.root() == b64(LOG["roots"][str(size)])
    for case in LOG["inclusion"]:
        verify_inclusion(
            case["seq"],
            case["tree_size"],
            b64(case["leaf_hash"]),
            [b64(h) for h in case["hashes"]],
            b64(LOG["roots"][str(case["tree_size"])]),
        )
    for case in LOG["consistency"]:
        verify_consistency(
            case["first"],
            case["second"],
            b64(LOG["roots"][str(case["first"])]),
            b64(LOG["roots"][str(case["second"])]),
            [b64(h) for h in case["hashes"]],
        )
    assert len(LOG["inclusion"]) == 28
    assert len(LOG["consistency"]) == 28
    verifier = parse_verifier_key(LOG["verifier_key"])
    for signed in LOG["checkpoints"]:
        checkpoint = open_checkpoint(signed["note"], verifier)
        assert checkpoint.root == b64(LOG["roots"][str(signed["tree_size"])])


@pytest.mark.parametrize("path", BROKEN, ids=lambda p: p.stem)
def test_broken_chain_vectors_through_tally_check(path: Path, db_url: str) -> None:
    """A log holding the broken chain (written behind the triggers): tally check names it."""
    case = json.loads(path.read_text())
    raws = [b64(r) for r in case["entries_b64"]]
    bad = case["error_seq"]
    ledger = _ledger_with(db_url, raws[:bad])
    try:
        # As a rewriting operator would: the entries and the tree hashes they give.
        frontier = tree.Frontier(0, [])
        hashes = [h for raw in raws for h in frontier.append(tree.leaf_hash(raw))]
        for seq, raw in enumerate(raws[bad:], bad):
            row: dict[str, object] = {"s": seq, "d": raw}
            tamper(ledger.store, "INSERT INTO entry (seq, data) VALUES (:s, :d)", row)
        for idx in range(tree.stored_hash_count(bad), len(hashes)):
            row = {"i": idx, "h": hashes[idx]}
            tamper(ledger.store, "INSERT INTO tree_hash (idx, hash) VALUES (:i, :h)", row)
        if "checked_at" in case:  # the checkpoint covering all of it was signed then
            ledger.publisher.publish()
            tamper(
                ledger.store,
                "UPDATE checkpoint SET signed_at = :t WHERE tree_size = :n",
                {"t": case["checked_at"], "n": len(raws)},
            )
    finally:
        ledger.close()
    result = CliRunner().invoke(main, ["--db", db_url, "check"])
    assert result.exit_code == 1, result.output
    assert f"seq {bad}: {case['rule']}" in result.output


def _ledger_with(db_url: str, raws: list[bytes]) -> Ledger:
    """A ledger of the vector key holding exactly ``raws`` (genesis first, if any)."""
    store = Store(db_url, create=True)
    store.create_schema()
    with store.writer() as conn:
        conn.execute(
            insert(meta_table),
            {
                "id": 1,
                "schema_version": SCHEMA_VERSION,
                "origin": KEY_DOC["origin"],
                "verifier_key": KEY_DOC["verifier_key"],
            },
        )
    signer = parse_signer_key(KEY_DOC["signer_key"])
    log = Log(store)
    if raws:
        log.append_batch([_as_new(raw) for raw in raws])
    assert [r for _, r in log.entries(0, log.size())] == raws
    return Ledger(store, log, signer, Publisher(store, signer))


def _as_new(raw: bytes) -> NewEntry:
    entry = parse_entry(raw)
    return NewEntry(entry.type, entry.actor, dict(entry.body), time=entry.time)
