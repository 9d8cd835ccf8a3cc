"""Write the member-signed request vectors of specs/requests.md from the ledger's own code.

Run ``python specs/vectors/requests_generate.py [OUT]``. Each file under
``requests/`` is a request document (``type``, ``body``) for the log origin of the
published test key, the public key it must verify with, the exact message that key
signs (requests.md §2), and whether it verifies. The member and juror keys come from
published seeds (test keys only); Ed25519 signatures are deterministic, so a test
regenerates the files and fails if any byte changes.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))
sys.path.insert(0, str(HERE))

from generate import ORIGIN  # noqa: E402

from ledger.domain.requests import (  # noqa: E402
    juror_key_message,
    public_key,
    request_message,
    sign,
    sign_request,
)

MEMBER_SEED = hashlib.sha256(b"request-vector member key").digest()
JUROR_SEED = hashlib.sha256(b"request-vector juror key").digest()
OTHER_SEED = hashlib.sha256(b"request-vector another key").digest()
MEMBER = "m-5eed0000000000000001"
CLAIM = "c-42"


def _bodies() -> dict[str, dict[str, Any]]:
    """One unsigned body of each type a member signs (a join: the member's part only)."""
    juror_key = public_key(JUROR_SEED)
    return {
        "member.joined": {"member": MEMBER, "member_key": public_key(MEMBER_SEED), "request": 0},
        "claim.filed": {
            "member": MEMBER,
            "condition": "C50",
            "amount_fen": 30_000_000,
            "diagnosed": "2026-03-01T00:00:00Z",
            "evidence_commitment": hashlib.sha256(b"evidence").hexdigest(),
            "request": 1,
        },
        "claim.objected": {
            "claim": CLAIM,
            "objector": MEMBER,
            "reason_hash": hashlib.sha256("这份诊断书的日期不对".encode()).hexdigest(),
            "request": 2,
        },
        "claim.appealed": {
            "claim": CLAIM,
            "appellant": MEMBER,
            "secret_commitment": hashlib.sha256(b"the appellant's secret").hexdigest(),
            "request": 3,
        },
        "juror.enrolled": {"member": MEMBER, "juror_key": juror_key, "request": 4},
        "member.left": {"member": MEMBER, "request": 5},
    }


def _vector(
    origin: str, entry_type: str, body: dict[str, Any], description: str, valid: bool
) -> dict[str, Any]:
    vector: dict[str, Any] = {
        "description": description,
        "origin": origin,
        "type": entry_type,
        "body": body,
        "member_key": public_key(MEMBER_SEED),
        "message": request_message(origin, entry_type, body).decode(),
        "valid": valid,
    }
    if entry_type == "juror.enrolled":
        vector["juror_key"] = body["juror_key"]
        vector["juror_key_message"] = juror_key_message(
            origin, body["member"], body["juror_key"]
        ).decode()
    return vector


def _enrolment(origin: str, body: dict[str, Any], juror_seed: bytes) -> dict[str, Any]:
    """An enrolment body with the juror key's own signature (requests.md §3.1)."""
    proof = sign(juror_seed, juror_key_message(origin, body["member"], body["juror_key"]))
    return {**body, "juror_signature": proof}


def vectors(origin: str) -> dict[str, dict[str, Any]]:
    """Every vector file, by name."""
    out: dict[str, dict[str, Any]] = {}
    bodies = _bodies()
    for entry_type, body in bodies.items():
        if entry_type == "juror.enrolled":
            body = _enrolment(origin, body, JUROR_SEED)
        signed = sign_request(MEMBER_SEED, origin, entry_type, body)
        out[f"valid-{entry_type}"] = _vector(
            origin, entry_type, signed, f"a member's signed {entry_type} request", True
        )
    objection = bodies["claim.objected"]
    out["invalid-other-origin"] = _vector(
        origin,
        "claim.objected",
        sign_request(MEMBER_SEED, "other.tally.example/log", "claim.objected", objection),
        "an objection signed for another log's origin",
        False,
    )
    as_appeal = sign(MEMBER_SEED, request_message(origin, "claim.appealed", objection))
    out["invalid-other-type"] = _vector(
        origin,
        "claim.objected",
        {**objection, "signature": as_appeal},
        "an objection whose signature was made over the same object as an appeal",
        False,
    )
    signed = sign_request(MEMBER_SEED, origin, "claim.objected", objection)
    out["invalid-altered-field"] = _vector(
        origin,
        "claim.objected",
        {**signed, "reason_hash": hashlib.sha256(b"another reason").hexdigest()},
        "an objection whose reason hash was changed after signing",
        False,
    )
    out["invalid-other-key"] = _vector(
        origin,
        "member.left",
        sign_request(OTHER_SEED, origin, "member.left", bodies["member.left"]),
        "a leaving signed by a key that is not the member's",
        False,
    )
    out["invalid-join-other-key"] = _vector(
        origin,
        "member.joined",
        sign_request(OTHER_SEED, origin, "member.joined", bodies["member.joined"]),
        "a join naming the member's key but signed by another key (no proof of possession)",
        False,
    )
    enrolment = _enrolment(origin, bodies["juror.enrolled"], OTHER_SEED)
    out["invalid-juror-key-unproven"] = _vector(
        origin,
        "juror.enrolled",
        sign_request(MEMBER_SEED, origin, "juror.enrolled", enrolment),
        "an enrolment the member signed, whose juror_signature is not the juror key's",
        False,
    )
    return out


def main() -> None:
    """Write ``requests/*.json`` (into the folder given as argument, by default here)."""
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE
    for name, vector in vectors(ORIGIN).items():
        target = out / "requests" / f"{name}.json"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(vector, indent=2, sort_keys=True, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
