"""The worked examples of specs/requests.md §6 (``vectors/requests/``), on the verifier.

Each file gives ``origin``, ``type``, ``body``, the key to verify with
(``member_key``, and ``juror_key`` for an enrolment) and ``valid``. The verifier
builds the message from the document with its own code (requests.md §2-§3), checks
the signature (for a join, with the body's own ``member_key``, the proof of
possession) and, for an enrolment, the juror key's own signature (§3.1); the
request verifies exactly when ``valid`` says so. For a valid request, the message
the verifier builds is the file's ``message``, byte for byte.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from verifier.plan.errors import RequestError
from verifier.plan.requests import (
    juror_key_message,
    request_message,
    verify_juror_key,
    verify_request,
)

REQUESTS = Path(__file__).resolve().parents[2] / "specs" / "vectors" / "requests"
VECTORS = sorted(REQUESTS.glob("*.json"))


def verifies(doc: dict[str, Any]) -> bool:
    """Whether the document's request (and juror key, for an enrolment) verifies."""
    origin, entry_type, body = doc["origin"], doc["type"], doc["body"]
    key_text = body["member_key"] if entry_type == "member.joined" else doc["member_key"]
    try:
        verify_request(origin, entry_type, body, base64.b64decode(key_text))
        if entry_type == "juror.enrolled":
            verify_juror_key(origin, body["member"], doc["juror_key"], body["juror_signature"])
    except RequestError:
        return False
    return True


def test_there_are_vectors_of_both_kinds() -> None:
    if not VECTORS:  # pragma: no cover - written on main by requests_generate.py
        pytest.skip("no vectors/requests yet")
    names = [p.stem for p in VECTORS]
    assert any(n.startswith("valid-") for n in names)
    assert any(n.startswith("invalid-") for n in names)


@pytest.mark.parametrize("path", VECTORS, ids=lambda p: p.stem)
def test_a_request_vector_verifies_exactly_when_valid(path: Path) -> None:
    doc = json.loads(path.read_text())
    assert doc["valid"] is path.stem.startswith("valid-")
    assert verifies(doc) is doc["valid"], doc["description"]
    if doc["valid"]:
        message = request_message(doc["origin"], doc["type"], doc["body"])
        assert message == doc["message"].encode("utf-8")
        if doc["type"] == "member.joined":
            assert doc["member_key"] == doc["body"]["member_key"]
        if "juror_key_message" in doc:
            built = juror_key_message(doc["origin"], doc["body"]["member"], doc["juror_key"])
            assert built == doc["juror_key_message"].encode("utf-8")
