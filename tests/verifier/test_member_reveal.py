"""``tally-verify member reveal`` sends the secret only once the pool is proven signed.

A log made from the specs alone (:class:`PanelLog`) holds a member's appeal and the
claim's ``panel.pooled``; its server may leave the pool out of its checkpoint, sign
the pool with another key, or prove the pool's inclusion falsely. In each case the
secret stays home. The live tests of :mod:`tests.verifier.test_cli_member_keys`
show a reveal the log takes.
"""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from tests.verifier.cli_support import HostileServer, Reply, run_json
from tests.verifier.test_member_check import MemberLog
from verifier.member_key import MemberKey, appeal_secret, create_member_key
from verifier.merkle import leaf_hash, root_from_leaf_hashes
from verifier.plan.draw import pool_root, pool_signature_message

CLAIM = "c-1"
POOL = sorted(["m-" + "1" * 20, "m-" + "2" * 20])


def inclusion_path(index: int, leaves: list[bytes]) -> list[bytes]:
    """RFC 9162 §2.1.3.1 PATH(index, leaves)."""
    if len(leaves) <= 1:
        return []
    k = 1 << ((len(leaves) - 1).bit_length() - 1)
    if index < k:
        return [*inclusion_path(index, leaves[:k]), root_from_leaf_hashes(leaves[k:])]
    return [*inclusion_path(index - k, leaves[k:]), root_from_leaf_hashes(leaves[:k])]


class PanelLog(MemberLog):
    """A member's appeal of ``CLAIM`` and its pool, served with a checkpoint of
    ``covered`` entries and inclusion proofs as :meth:`proof_of` gives them."""

    covered: int | None = None
    pool_signer: bytes | None = None
    lie_about_inclusion: bool = False

    def pooled(self, signer: bytes | None = None) -> int:
        root = pool_root(CLAIM, POOL)
        message = pool_signature_message(self.origin, CLAIM, root)
        signature = Ed25519PrivateKey.from_private_bytes(signer or self.seed).sign(message)
        body = {
            "claim": CLAIM,
            "pool_root": root.hex(),
            "pool_size": len(POOL),
            "pool_signature": base64.b64encode(signature).decode(),
            "rules_version": 1,
        }
        return self.add("panel.pooled", body)

    def serve(self) -> HostileServer:
        def route(path: str, params: dict[str, int]) -> Reply:
            if path == "/v1/checkpoint":
                return Reply.text(self.checkpoint(self.covered))
            if path == "/v1/proof/inclusion":
                seq, size = params["seq"], params["tree_size"]
                leaves = [leaf_hash(e) for e in self.entries[:size]]
                index = seq - 1 if self.lie_about_inclusion else seq
                hashes = [base64.b64encode(h).decode() for h in inclusion_path(index, leaves)]
                return Reply.json({"seq": seq, "tree_size": size, "hashes": hashes})
            return self.route(path, params)

        return HostileServer(route)


def _appealed(tmp_path: Path, commitment: str | None = None) -> tuple[PanelLog, MemberKey]:
    log = PanelLog().grow(1)
    key = create_member_key(tmp_path / "me.key")
    body = {
        "member": key.member,
        "member_key": key.member_key,
        "request": 0,
        "age_band": "0-39",
        "identity_commitment": "cd" * 32,
    }
    log.signed(key, "member.joined", body, key.seed)
    secret, _ = appeal_secret(key, CLAIM)
    appeal = {
        "claim": CLAIM,
        "appellant": key.member,
        "secret_commitment": commitment or hashlib.sha256(secret).hexdigest(),
        "request": 1,
    }
    log.signed(key, "claim.appealed", appeal, key.seed)
    return log, key


def _reveal(tmp_path: Path, log: PanelLog, key: MemberKey) -> tuple[int, Any, list[str]]:
    with log.serve() as server:
        code, doc = run_json(
            tmp_path / "state",
            "member",
            "reveal",
            "--key",
            str(key.path),
            "--claim",
            CLAIM,
            "--server",
            server.url,
            "--log-key",
            log.key,
        )
        return code, doc, server.requests


def test_no_pool_on_the_log_yet(tmp_path: Path) -> None:
    log, key = _appealed(tmp_path)
    code, doc, _ = _reveal(tmp_path, log, key)
    assert (code, doc["error"], doc["pooled_seq"]) == (4, "not_yet", None), doc
    assert "not on the log yet" in doc["message"]


def test_a_pool_no_checkpoint_covers_yet(tmp_path: Path) -> None:
    log, key = _appealed(tmp_path)
    pooled = log.pooled()
    log.covered = pooled  # the checkpoint stops just before the pool
    code, doc, asked = _reveal(tmp_path, log, key)
    assert (code, doc["error"], doc["pooled_seq"]) == (4, "not_yet", pooled), doc
    assert "no signed checkpoint covers it yet" in doc["message"]
    assert not any(p.startswith("/v1/proof/inclusion") for p in asked)


def test_a_pool_signed_with_another_key_or_not_proven_included_is_refused(
    tmp_path: Path,
) -> None:
    log, key = _appealed(tmp_path)
    log.pooled(signer=b"\x31" * 32)
    code, doc, _ = _reveal(tmp_path, log, key)
    assert (code, doc["error"]) == (1, "verification_failed"), doc
    assert "pool signature" in doc["message"]

    (tmp_path / "other").mkdir()
    log, key = _appealed(tmp_path / "other")
    log.pooled()
    log.lie_about_inclusion = True
    code, doc, _ = _reveal(tmp_path / "other", log, key)
    assert (code, doc["error"]) == (1, "verification_failed"), doc
    assert "not in the signed tree" in doc["message"]


def test_an_appeal_with_another_commitment_is_not_revealed_to(tmp_path: Path) -> None:
    log, key = _appealed(tmp_path, commitment="ab" * 32)
    log.pooled()
    code, doc, _ = _reveal(tmp_path, log, key)
    assert (code, doc["error"]) == (1, "not_your_appeal"), doc


def test_a_proven_pool_lets_the_secret_go(tmp_path: Path) -> None:
    """Every check passes, so the secret is posted: this server takes no POST (501)."""
    log, key = _appealed(tmp_path)
    log.pooled()
    code, doc, asked = _reveal(tmp_path, log, key)
    assert (code, doc["error"]) == (4, "server_error"), doc
    assert "/v1/reveals" in doc["message"]
    assert any(p.startswith("/v1/proof/inclusion") for p in asked)
