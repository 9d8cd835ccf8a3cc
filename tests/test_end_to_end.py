"""From a fresh database to a served log that an independent verifier accepts.

``tally demo --no-serve`` builds the log, ``tally serve`` serves it, and only the
verifier package (which shares no code with the ledger) checks what comes over
HTTP: the checkpoint's signature, every entry and the chain, the root recomputed
from the entries, inclusion proofs, and consistency with a later checkpoint.
"""

from __future__ import annotations

import base64
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from ledger.instance import open_ledger
from ledger.log.log import NewEntry
from verifier.checkpoint import verify_checkpoint
from verifier.entry import verify_chain
from verifier.merkle import leaf_hash, root_from_leaf_hashes, verify_consistency, verify_inclusion
from verifier.note import parse_verifier_key

TALLY = [sys.executable, "-m", "ledger.cli"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, str, Path]]:
    # Exactly as an operator would: the demo, then the server, on one SQLite file
    # (the key defaults to tally.key in the working directory).
    db = f"sqlite:///{tmp_path}/demo.db"
    key = tmp_path / "tally.key"
    built = subprocess.run(
        [*TALLY, "demo", "--db", db, "--no-serve", "--members", "300", "--periods", "8"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert built.returncode == 0, built.stderr
    assert key.stat().st_mode & 0o777 == 0o600
    port = free_port()
    server = subprocess.Popen(
        [*TALLY, "serve", "--db", db, "--port", str(port)],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"{base}/v1/log", timeout=1)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise AssertionError(
                        server.stdout.read() if server.stdout else "no server"
                    ) from None
                time.sleep(0.1)
        yield base, db, key
    finally:
        server.terminate()
        server.communicate(timeout=10)


def b64(text: str) -> bytes:
    return base64.b64decode(text)


def test_an_independent_verifier_accepts_the_served_log(served: tuple[str, str, Path]) -> None:
    base, db, key = served
    with httpx.Client(base_url=base, timeout=10) as http:
        info = http.get("/v1/log").json()
        verifier = parse_verifier_key(info["verifier_key"])
        checkpoint = verify_checkpoint(http.get("/v1/checkpoint").text, verifier)
        assert checkpoint.origin == info["origin"]
        assert checkpoint.size == info["tree_size"] > 300

        raws: list[bytes] = []
        while len(raws) < checkpoint.size:
            page = http.get(
                "/v1/entries", params={"start": len(raws), "end": checkpoint.size}
            ).json()
            assert page["entries"], "the server stopped short"
            for item in page["entries"]:
                assert item["seq"] == len(raws)
                raws.append(b64(item["leaf"]))
        verify_chain(raws)
        leaves = [leaf_hash(raw) for raw in raws]
        assert root_from_leaf_hashes(leaves) == checkpoint.root

        for seq in (0, 1, checkpoint.size // 2, checkpoint.size - 1):
            proof = http.get(
                "/v1/proof/inclusion", params={"seq": seq, "tree_size": checkpoint.size}
            ).json()
            assert b64(proof["leaf_hash"]) == leaves[seq]
            verify_inclusion(
                seq,
                checkpoint.size,
                leaves[seq],
                [b64(h) for h in proof["hashes"]],
                checkpoint.root,
            )

        # The operator appends and signs again while the server runs.
        ledger = open_ledger(db, key)
        try:
            ledger.log.append_batch(
                [NewEntry("demo.later", "operator", {"i": i}) for i in range(77)]
            )
            ledger.publisher.publish()
        finally:
            ledger.close()
        later = verify_checkpoint(http.get("/v1/checkpoint").text, verifier)
        assert later.size == checkpoint.size + 77
        proof = http.get(
            "/v1/proof/consistency", params={"first": checkpoint.size, "second": later.size}
        ).json()
        verify_consistency(
            checkpoint.size,
            later.size,
            checkpoint.root,
            later.root,
            [b64(h) for h in proof["hashes"]],
        )
