"""The specs/ vectors, checked by the verifier's own implementation.

The ledger wrote these files; the verifier shares no code with it. Each vector
must come out the same here as in tests/ledger/test_spec_vectors.py.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from verifier.checkpoint import verify_checkpoint
from verifier.entry import TimeBounds, parse_entry, verify_chain
from verifier.errors import ChainError, EntryError, VerificationError
from verifier.merkle import (
    leaf_hash,
    root_from_leaf_hashes,
    verify_consistency,
    verify_inclusion,
)
from verifier.note import parse_verifier_key

SPEC_VECTORS = Path(__file__).resolve().parents[2] / "specs" / "vectors"
VALID = sorted((SPEC_VECTORS / "entries" / "valid").glob("*.json"))
INVALID = sorted((SPEC_VECTORS / "entries" / "invalid").glob("*.json"))
CHECKPOINTS = sorted((SPEC_VECTORS / "checkpoint").glob("*.json"))
BROKEN = sorted((SPEC_VECTORS / "log").glob("broken-*.json"))


def load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text())  # type: ignore[no-any-return]


def b64(text: str) -> bytes:
    return base64.b64decode(text)


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.stem)
def test_valid_entries(path: Path) -> None:
    case = load(path)
    raw = b64(case["entry_b64"])
    entry = parse_entry(raw)
    assert entry.hash_hex == case["entry_hash"]
    assert leaf_hash(raw) == b64(case["leaf_hash"])
    assert (entry.seq, entry.type, entry.prev, entry.time) == (
        case["seq"],
        case["type"],
        case["prev"],
        case["time"],
    )


@pytest.mark.parametrize("path", INVALID, ids=lambda p: p.stem)
def test_invalid_entries(path: Path) -> None:
    case = load(path)
    with pytest.raises(EntryError) as caught:
        parse_entry(b64(case["entry_b64"]))
    assert caught.value.kind == case["error"]


def test_log_vector() -> None:
    case = load(SPEC_VECTORS / "log" / "log-7.json")
    raws = [b64(r) for r in case["entries_b64"]]
    assert verify_chain(raws) == case["entry_hashes"][-1]
    leaves = [leaf_hash(r) for r in raws]
    roots = {int(n): b64(r) for n, r in case["roots"].items()}
    for size in range(len(raws) + 1):
        assert root_from_leaf_hashes(leaves[:size]) == roots[size]
    for proof in case["inclusion"]:
        verify_inclusion(
            proof["seq"],
            proof["tree_size"],
            leaves[proof["seq"]],
            [b64(h) for h in proof["hashes"]],
            roots[proof["tree_size"]],
        )
    for proof in case["consistency"]:
        verify_consistency(
            proof["first"],
            proof["second"],
            roots[proof["first"]],
            roots[proof["second"]],
            [b64(h) for h in proof["hashes"]],
        )
    verifier = parse_verifier_key(case["verifier_key"])
    for signed in case["checkpoints"]:
        checkpoint = verify_checkpoint(signed["note"], verifier)
        assert checkpoint.root == roots[checkpoint.size]
        assert checkpoint.origin == case["origin"]


@pytest.mark.parametrize("path", BROKEN, ids=lambda p: p.stem)
def test_broken_chains(path: Path) -> None:
    case = load(path)
    raws = [b64(r) for r in case["entries_b64"]]
    bounds = None
    if "checked_at" in case:  # a checkpoint covering every entry, received then
        bounds = TimeBounds(((len(raws), case["checked_at"]),))
    with pytest.raises(ChainError) as caught:
        verify_chain(raws, bounds=bounds)
    assert (caught.value.seq, caught.value.rule) == (case["error_seq"], case["rule"])


@pytest.mark.parametrize("path", CHECKPOINTS, ids=lambda p: p.stem)
def test_checkpoints(path: Path) -> None:
    case = load(path)
    verifier = parse_verifier_key(case["verifier_key"])
    if case["valid"]:
        checkpoint = verify_checkpoint(case["note"], verifier)
        assert (checkpoint.origin, checkpoint.size, checkpoint.root) == (
            case["origin"],
            case["tree_size"],
            b64(case["root"]),
        )
    else:
        with pytest.raises(VerificationError):
            verify_checkpoint(case["note"], verifier)


def test_key_vector() -> None:
    case = load(SPEC_VECTORS / "keys" / "log-key.json")
    verifier = parse_verifier_key(case["verifier_key"])
    assert verifier.key_id.hex() == case["key_id"]
    assert verifier.public_key == b64(case["public_key"])


def test_http_examples_verify() -> None:
    """The HTTP examples of specs/http.md hold up under independent checks."""
    log = load(SPEC_VECTORS / "log" / "log-7.json")
    http = {p.stem: load(p) for p in (SPEC_VECTORS / "http").glob("*.json")}
    info = http["log"]["body"]
    verifier = parse_verifier_key(info["verifier_key"])
    checkpoint = verify_checkpoint(http["checkpoint"]["body"], verifier)
    assert http["checkpoint"]["content_type"].startswith("text/plain")
    assert (checkpoint.size, checkpoint.origin) == (info["tree_size"], info["origin"])
    raws = [b64(item["leaf"]) for item in http["entries"]["body"]["entries"]]
    verify_chain(raws)
    for item, raw in zip(http["entries"]["body"]["entries"], raws, strict=True):
        assert parse_entry(raw).seq == item["seq"] == item["entry"]["seq"]
    inclusion = http["inclusion"]["body"]
    leaf = leaf_hash(b64(log["entries_b64"][inclusion["seq"]]))
    assert b64(inclusion["leaf_hash"]) == leaf
    verify_inclusion(
        inclusion["seq"],
        inclusion["tree_size"],
        leaf,
        [b64(h) for h in inclusion["hashes"]],
        checkpoint.root,
    )
    consistency = http["consistency"]["body"]
    verify_consistency(
        consistency["first"],
        consistency["second"],
        b64(log["roots"][str(consistency["first"])]),
        checkpoint.root,
        [b64(h) for h in consistency["hashes"]],
    )
    problem = http["problem"]
    assert problem["status"] == 400
    assert problem["content_type"] == "application/problem+json"
    assert set(problem["body"]) == {"type", "title", "status", "detail"}
