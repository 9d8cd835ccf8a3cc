"""The worked examples of specs/requests.md §6 (``vectors/requests/``), on the verifier.

Each file gives ``origin``, ``type``, ``body``, the key to verify with
(``member_key``; for an enrolment also ``juror_key`` and its ``juror_key_message``),
the ``message`` and ``valid``. The verifier builds the messages from the document
with its own code (requests.md §2-§3.1), which must be the file's, byte for byte;
checks the signature with ``member_key`` (for a join, the body's own key: the proof
of possession) and, for an enrolment, the juror key's own signature; the request
verifies exactly when ``valid`` says so.
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
    try:
        verify_request(origin, entry_type, body, base64.b64decode(doc["member_key"]))
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
    if doc["type"] == "member.joined":  # a join verifies with the key it names
        assert doc["member_key"] == doc["body"]["member_key"]
    assert verifies(doc) is doc["valid"], doc["description"]
    message = request_message(doc["origin"], doc["type"], doc["body"])
    assert message == doc["message"].encode("utf-8")
    if doc["type"] == "juror.enrolled":
        built = juror_key_message(doc["origin"], doc["body"]["member"], doc["juror_key"])
        assert built == doc["juror_key_message"].encode("utf-8")
