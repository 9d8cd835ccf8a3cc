"""Member-signed requests on the ledger (specs/requests.md): the vectors, and documents.

Every vector under ``specs/vectors/requests/`` is checked with the ledger's own
message builders and signature check: the messages are byte for byte the vector's,
and a document verifies exactly when the vector says it does.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from ledger.domain.requests import (
    RequestDocumentError,
    juror_key_message,
    parse_request_document,
    request_message,
    verifies,
)
from tests.conftest import SPEC_VECTORS

VECTORS = sorted((SPEC_VECTORS / "requests").glob("*.json"))


def test_there_is_a_valid_vector_of_every_type_and_invalid_ones() -> None:
    names = {p.stem for p in VECTORS}
    for entry_type in (
        "member.joined",
        "member.left",
        "juror.enrolled",
        "claim.filed",
        "claim.objected",
        "claim.appealed",
    ):
        assert f"valid-{entry_type}" in names
    assert sum(n.startswith("invalid-") for n in names) >= 6


@pytest.mark.parametrize("path", VECTORS, ids=lambda p: p.stem)
def test_the_ledger_builds_the_message_and_judges_the_signature(path: Path) -> None:
    vector: dict[str, Any] = json.loads(path.read_text())
    origin, entry_type, body = vector["origin"], vector["type"], vector["body"]
    message = request_message(origin, entry_type, body)
    assert message.decode() == vector["message"]
    valid = verifies(vector["member_key"], base64.b64decode(body["signature"]), message)
    if entry_type == "juror.enrolled":
        own = juror_key_message(origin, body["member"], body["juror_key"])
        assert own.decode() == vector["juror_key_message"]
        valid = valid and verifies(
            body["juror_key"], base64.b64decode(body["juror_signature"]), own
        )
    assert valid is vector["valid"], vector["description"]
    document = parse_request_document({"type": entry_type, "body": body})
    assert (document.type, document.body) == (entry_type, body)


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ([], "an object with the keys body and type"),
        ({"type": "claim.objected"}, "an object with the keys body and type"),
        ({"type": "claim.paid", "body": {}}, "expected type one of"),
        ({"type": "member.left", "body": {"member": "m-" + "0" * 20}}, "signature"),
        ({"type": "member.left", "body": {"member": "x", "signature": "s"}}, "member id"),
        ({"type": "vote.cast", "body": {"juror": 7, "signature": "s"}}, "body.juror"),
        (
            {"type": "member.joined", "body": {"member": "m-" + "0" * 20, "signature": "s"}},
            "join request with exactly",
        ),
    ],
)
def test_a_bad_document_is_refused_saying_what_is_wrong(value: Any, words: str) -> None:
    with pytest.raises(RequestDocumentError, match=words):
        parse_request_document(value)
