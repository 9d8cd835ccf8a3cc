"""The member request format (specs/requests.md §2-§3.1), on the verifier's own code.

Messages are built byte for byte from the spec's text, signed with keys made from
fixed seeds, and verified; then one thing is changed at a time (a field, the origin,
the type, the key) and the signature must no longer verify.
"""

from __future__ import annotations

import base64
from typing import Any

import pytest

from verifier.plan.errors import RequestError, RequestSignatureError
from verifier.plan.requests import (
    ACTING_MEMBER,
    MEMBER_ACTIONS,
    juror_key_message,
    public_key,
    request_document,
    request_message,
    request_object,
    sign_juror_key,
    sign_request,
    verify_juror_key,
    verify_request,
)

ORIGIN = "vectors.tally.example/log"
MEMBER = "m-0123456789abcdef0123"
OTHER = "m-ffffffffffffffffffff"
SEED = bytes(range(32))
JUROR_SEED = bytes(range(32, 64))
OTHER_SEED = bytes(range(64, 96))
COMMIT = "ab" * 32


def key_text(seed: bytes) -> str:
    return base64.b64encode(public_key(seed)).decode()


def bodies() -> dict[str, dict[str, Any]]:
    """A request body of every type a member signs, without its signature."""
    juror_key, juror_signature = sign_juror_key(JUROR_SEED, ORIGIN, MEMBER)
    return {
        "member.joined": {
            "member": MEMBER,
            "age_band": "0-39",
            "identity_commitment": COMMIT,
            "member_key": key_text(SEED),
            "request": 0,
        },
        "member.left": {"member": MEMBER, "request": 7},
        "juror.enrolled": {
            "member": MEMBER,
            "juror_key": juror_key,
            "juror_signature": juror_signature,
            "request": 1,
        },
        "claim.filed": {
            "member": MEMBER,
            "condition": "ACC",
            "amount_fen": 300000,
            "diagnosed": "2025-01-03T00:00:00Z",
            "evidence_commitment": COMMIT,
            "request": 2,
        },
        "claim.objected": {
            "claim": "c-12",
            "objector": MEMBER,
            "reason_hash": COMMIT,
            "request": 3,
        },
        "claim.appealed": {
            "claim": "c-12",
            "appellant": MEMBER,
            "secret_commitment": COMMIT,
            "request": 4,
        },
    }


BODIES = bodies()


def test_the_message_is_the_four_lines_of_the_spec() -> None:
    body = sign_request(SEED, ORIGIN, "claim.objected", BODIES["claim.objected"])
    assert request_message(ORIGIN, "claim.objected", body) == (
        b"tally/request/v1\n"
        b"vectors.tally.example/log\n"
        b"claim.objected\n"
        b'{"claim":"c-12","objector":"m-0123456789abcdef0123","reason_hash":"'
        + COMMIT.encode()
        + b'","request":3}\n'
    )


def test_a_join_signs_neither_its_age_band_nor_its_identity_commitment() -> None:
    body = BODIES["member.joined"]
    assert request_object("member.joined", body) == {
        "member": MEMBER,
        "member_key": key_text(SEED),
        "request": 0,
    }
    signed = sign_request(SEED, ORIGIN, "member.joined", body)
    verify_request(ORIGIN, "member.joined", signed, public_key(SEED))
    # the operator derives these from the identity record: changing them breaks nothing
    changed = {**signed, "age_band": "40-59", "identity_commitment": "cd" * 32}
    verify_request(ORIGIN, "member.joined", changed, public_key(SEED))
    document = request_document("member.joined", signed)
    assert document == {
        "type": "member.joined",
        "body": {k: signed[k] for k in ("member", "member_key", "request", "signature")},
    }


def test_an_enrolment_signs_its_juror_key_and_the_juror_keys_own_signature() -> None:
    body = BODIES["juror.enrolled"]
    assert request_object("juror.enrolled", {**body, "signature": "x"}) == body
    verify_juror_key(ORIGIN, MEMBER, body["juror_key"], body["juror_signature"])
    assert juror_key_message(ORIGIN, MEMBER, body["juror_key"]) == (
        f"tally/juror-key/v1\n{ORIGIN}\n{MEMBER}\n{body['juror_key']}\n".encode()
    )


@pytest.mark.parametrize("entry_type", sorted(ACTING_MEMBER))
def test_every_type_signs_and_verifies(entry_type: str) -> None:
    signed = sign_request(SEED, ORIGIN, entry_type, BODIES[entry_type])
    assert set(signed) == {*BODIES[entry_type], "signature"}
    verify_request(ORIGIN, entry_type, signed, public_key(SEED))
    assert request_document(entry_type, signed)["type"] == entry_type
    if entry_type in MEMBER_ACTIONS:
        assert request_document(entry_type, signed)["body"] == signed


def _altered(entry_type: str) -> dict[str, Any]:
    signed = sign_request(SEED, ORIGIN, entry_type, BODIES[entry_type])
    field = ACTING_MEMBER[entry_type]
    return {**signed, field: OTHER}


@pytest.mark.parametrize(
    ("origin", "entry_type", "change", "seed"),
    [
        pytest.param(ORIGIN, "claim.filed", {"amount_fen": 300001}, SEED, id="field-changed"),
        pytest.param(ORIGIN, "member.left", {"request": 8}, SEED, id="request-changed"),
        pytest.param("other.example/log", "claim.filed", {}, SEED, id="other-origin"),
        pytest.param(ORIGIN, "claim.objected", {}, OTHER_SEED, id="other-key"),
        pytest.param(
            ORIGIN, "juror.enrolled", {"juror_key": key_text(OTHER_SEED)}, SEED, id="juror-key"
        ),
    ],
)
def test_a_change_after_signing_does_not_verify(
    origin: str, entry_type: str, change: dict[str, Any], seed: bytes
) -> None:
    signed = sign_request(SEED, ORIGIN, entry_type, BODIES[entry_type])
    with pytest.raises(RequestSignatureError):
        verify_request(origin, entry_type, {**signed, **change}, public_key(seed))


def test_the_same_object_under_another_type_does_not_verify() -> None:
    body = {"member": MEMBER, "request": 5}
    signed = sign_request(SEED, ORIGIN, "member.left", body)
    verify_request(ORIGIN, "member.left", signed, public_key(SEED))
    with pytest.raises(RequestSignatureError):
        verify_request(ORIGIN, "juror.enrolled", signed, public_key(SEED))


@pytest.mark.parametrize("entry_type", sorted(MEMBER_ACTIONS))
def test_another_member_named_after_signing_does_not_verify(entry_type: str) -> None:
    with pytest.raises(RequestSignatureError):
        verify_request(ORIGIN, entry_type, _altered(entry_type), public_key(SEED))


def test_a_juror_key_that_did_not_sign_itself_is_refused() -> None:
    juror_key, juror_signature = sign_juror_key(JUROR_SEED, ORIGIN, MEMBER)
    with pytest.raises(RequestSignatureError):
        verify_juror_key(ORIGIN, OTHER, juror_key, juror_signature)
    with pytest.raises(RequestSignatureError):
        verify_juror_key("other.example/log", MEMBER, juror_key, juror_signature)
    with pytest.raises(RequestSignatureError):
        verify_juror_key(ORIGIN, MEMBER, key_text(OTHER_SEED), juror_signature)


@pytest.mark.parametrize(
    ("origin", "entry_type", "body", "match"),
    [
        ("bad origin", "member.left", {"member": MEMBER}, "log origin"),
        (ORIGIN, "vote.cast", {"member": MEMBER}, "entry type a member signs"),
        (ORIGIN, "member.left", {"member": 1.5}, "canonical JSON"),
        (ORIGIN, "member.left", {"member": MEMBER, "request": 2**60}, "canonical JSON"),
    ],
)
def test_a_malformed_request_is_refused(
    origin: str, entry_type: str, body: dict[str, Any], match: str
) -> None:
    with pytest.raises(RequestError, match=match):
        request_message(origin, entry_type, body)


def test_malformed_keys_and_signatures_are_refused() -> None:
    signed = sign_request(SEED, ORIGIN, "member.left", BODIES["member.left"])
    with pytest.raises(RequestError, match="64 bytes"):
        verify_request(ORIGIN, "member.left", {**signed, "signature": "AAAA"}, public_key(SEED))
    with pytest.raises(RequestError, match="base64 string"):
        verify_request(ORIGIN, "member.left", {**signed, "signature": 7}, public_key(SEED))
    with pytest.raises(RequestError, match="32 bytes"):
        juror_key_message(ORIGIN, MEMBER, "AAAA")
    with pytest.raises(RequestError, match="member id"):
        juror_key_message(ORIGIN, "m-1", key_text(SEED))
    with pytest.raises(RequestSignatureError):  # a key of the wrong size never verifies
        verify_request(ORIGIN, "member.left", signed, public_key(SEED)[:31])
    with pytest.raises(TypeError):
        sign_request(SEED[:31], ORIGIN, "member.left", BODIES["member.left"])
