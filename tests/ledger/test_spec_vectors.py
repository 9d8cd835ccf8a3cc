"""The specs/ vectors: the ledger regenerates them byte for byte, and they hold."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from pathlib import Path

import pytest

from ledger.errors import ChainError, EntryError
from ledger.log import tree
from ledger.log.entry import GENESIS_TYPE, ZERO_HASH, entry_hash, parse_entry
from ledger.log.proof import verify_consistency, verify_inclusion
from ledger.publish.checkpoint import open_checkpoint
from ledger.publish.note import parse_verifier_key
from tests.conftest import SPEC_VECTORS

LOG = json.loads((SPEC_VECTORS / "log" / "log-7.json").read_text())
BROKEN = sorted((SPEC_VECTORS / "log").glob("broken-*.json"))


def b64(text: str) -> bytes:
    return base64.b64decode(text)


def test_regenerating_changes_nothing(tmp_path: Path) -> None:
    subprocess.run([sys.executable, str(SPEC_VECTORS / "generate.py"), str(tmp_path)], check=True)
    # receipts/ and retirement/ have their own generators (specs/receipt.md, specs/log.md
    # §7); every vector file has a maker.
    for maker in ("receipts_generate.py", "retirement_generate.py"):
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
def test_broken_chain_vectors(path: Path) -> None:
    case = json.loads(path.read_text())
    with pytest.raises(ChainError) as caught:
        check_chain([b64(r) for r in case["entries_b64"]])
    assert caught.value.seq == case["error_seq"]
