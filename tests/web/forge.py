"""An operator who holds the log's key and rewrites history: a forged tree, re-signed.

The forger changes one entry's bytes, re-chains every later entry to it (each
``prev`` the hash of the altered entry before), recomputes every tree hash over the
altered log, gives each entry of a statement bundle a valid inclusion proof in the forged
tree, and signs a checkpoint of it with the real key. Only the rules (a payment
must be the decided amount) or a checkpoint seen before can show the forgery.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from typing import Any

import httpx

from ledger.log.entry import entry_hash
from ledger.log.tree import inclusion_proof, leaf_hash, node_hash, root_at, stored_hash_index
from ledger.publish.checkpoint import Checkpoint
from ledger.publish.note import Signer, sign_note


class MemoryHashes:
    """Every complete-subtree hash of a list of leaf hashes, at its stored position."""

    def __init__(self, leaves: Sequence[bytes]) -> None:
        self.at: dict[int, bytes] = {}
        level, row = 0, list(leaves)
        while row:
            for k, h in enumerate(row):
                self.at[stored_hash_index(level, k)] = h
            row = [node_hash(row[i], row[i + 1]) for i in range(0, len(row) - 1, 2)]
            level += 1

    def read_hashes(self, indexes: Sequence[int]) -> list[bytes]:
        """The stored hashes at ``indexes``."""
        return [self.at[i] for i in indexes]


def all_entries(base: str, size: int) -> list[bytes]:
    """The exact bytes of entries 0 .. size-1, from the server's pages."""
    out: list[bytes] = []
    with httpx.Client(base_url=base, timeout=30) as client:
        while len(out) < size:
            page = client.get("v1/entries", params={"start": len(out), "end": size}).json()
            out.extend(base64.b64decode(e["leaf"]) for e in page["entries"])
    return out


def canonical(entry: dict[str, Any]) -> bytes:
    """An entry's canonical bytes (specs/entries.md §3)."""
    return json.dumps(entry, separators=(",", ":"), sort_keys=True, ensure_ascii=False).encode()


def forge_bundle(
    bundle: dict[str, Any], base: str, signer: Signer, seq: int, key: str, delta: int
) -> dict[str, Any]:
    """``bundle`` with entry ``seq``'s body ``key`` moved by ``delta``, proven and signed."""
    size = int(bundle["checkpoint"].split("\n")[1])
    raws = all_entries(base, size)
    entry = json.loads(raws[seq])
    entry["body"][key] += delta
    raws[seq] = canonical(entry)
    for s in range(seq + 1, size):
        later = json.loads(raws[s])
        later["prev"] = entry_hash(raws[s - 1])
        raws[s] = canonical(later)
    hashes = MemoryHashes([leaf_hash(r) for r in raws])
    root = root_at(hashes, size)
    note = sign_note(Checkpoint(signer.name, size, root).to_body(), [signer])
    forged = dict(bundle, checkpoint=note, entries=[])
    for item in bundle["entries"]:
        s = item["seq"]
        proof = [base64.b64encode(h).decode() for h in inclusion_proof(hashes, s, size)]
        forged["entries"].append(
            {"seq": s, "leaf": base64.b64encode(raws[s]).decode(), "proof": proof}
        )
    return forged
