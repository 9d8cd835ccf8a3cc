"""The client (verifier.client): pages of entries, verbatim and not; error answers."""

from __future__ import annotations

import base64
import json

import httpx
import pytest

from verifier.client import LogClient, _verbatim_page
from verifier.errors import NotOnLogError, StatusError
from verifier.problem import UNKNOWN_MEMBER, UNKNOWN_PERIOD

RAWS = [
    b'{"actor":"operator","body":{"i":7},"prev":"' + b"a" * 64 + b'","seq":7}',
    b'{"actor":"operator","body":{"s":"\\u0001\xc3\xa9"},"seq":8}',
]


def page(items: list[dict[str, object]], **dumps: object) -> bytes:
    return json.dumps({"entries": items}, **dumps).encode()  # type: ignore[arg-type]


def reference(raws: list[bytes], start: int) -> bytes:
    parts = [
        b'{"seq":%d,"leaf":"%s","entry":%s}' % (start + i, base64.b64encode(r), r)
        for i, r in enumerate(raws)
    ]
    return b'{"entries":[' + b",".join(parts) + b"]}"


def test_the_reference_form_is_read_without_a_separate_decoding() -> None:
    served = _verbatim_page(reference(RAWS, 7), 7, 100)
    assert served is not None
    assert [(s.seq, s.raw, s.shown) for s in served] == [(7, RAWS[0], None), (8, RAWS[1], None)]


def test_anything_else_goes_to_the_strict_reader() -> None:
    good = reference(RAWS, 7)
    leaf = base64.b64encode(RAWS[0]).decode()
    declined = [
        good.replace(b'"entries":[', b'"entries": ['),  # other spacing
        good[:-2] + b'],"more":1}',  # another member
        good.replace(b'"seq":8', b'"seq":9'),  # a gap
        good.replace(b'{"seq":7,', b'{"seq":7,"seq":7,'),  # a repeated key
        reference(RAWS, 7).replace(b"}]}", b"} ]}"),
        page([{"seq": 7, "leaf": leaf, "entry": json.loads(RAWS[0])}]),  # re-encoded decoding
        reference([RAWS[1]], 7).replace(b'"entry":{"actor"', b'"entry":{"actor":"x","actor"'),
        b"[]",
        b'{"entries":[]}',
    ]
    for body in declined:
        assert _verbatim_page(body, 7, 100) is None, body
    assert _verbatim_page(good, 7, 8) is None  # more entries than asked for


def test_non_canonical_base64_is_declined() -> None:
    raw = b'{"a":1}'  # 7 bytes: "==" padding, the digit before it has 4 unused bits
    leaf = base64.b64encode(raw)
    alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    digit = alphabet[alphabet.index(leaf[-3]) + 1]
    tweaked = leaf[:-3] + bytes([digit]) + b"=="
    assert base64.b64decode(tweaked) == raw
    body = b'{"entries":[{"seq":0,"leaf":"%s","entry":%s}]}' % (tweaked, raw)
    assert _verbatim_page(body, 0, 1) is None
    assert _verbatim_page(body.replace(tweaked, leaf), 0, 1) is not None


def answering(status: int, doc: object, media: str = "application/problem+json") -> LogClient:
    """A client of a server that answers every request with ``doc`` and ``status``."""

    def handler(_: httpx.Request) -> httpx.Response:
        return httpx.Response(
            status, content=json.dumps(doc).encode(), headers={"content-type": media}
        )

    return LogClient("http://log.example", transport=httpx.MockTransport(handler))


def problem(status: int, kind: str, detail: str = "named") -> dict[str, object]:
    return {"type": kind, "title": "Not found", "status": status, "detail": detail}


MEMBER = "m-" + "a" * 20


@pytest.mark.parametrize(
    ("period", "kind", "says"),
    [
        (None, UNKNOWN_MEMBER, f"the log has no member {MEMBER}, its server says"),
        ("2025-01a", UNKNOWN_MEMBER, f"the log has no member {MEMBER}"),
        ("2025-01a", UNKNOWN_PERIOD, "the log has no closed period 2025-01a, its server says"),
        (None, UNKNOWN_PERIOD, "the log has no closed period yet"),
    ],
)
def test_a_statement_the_log_cannot_have_is_a_usage_error(
    period: str | None, kind: str, says: str
) -> None:
    with answering(404, problem(404, kind)) as client, pytest.raises(NotOnLogError) as caught:
        client.statement(MEMBER, period)
    assert says in str(caught.value)
    assert caught.value.problem.type == kind


@pytest.mark.parametrize(
    ("status", "doc"),
    [
        (404, problem(404, "about:blank", "member was not counted")),  # no type of its own
        (500, problem(500, UNKNOWN_MEMBER)),  # the type, but not a 404
        (404, {"detail": "no status"}),
        (404, ["not", "a", "problem"]),
    ],
)
def test_other_error_answers_stay_server_errors(status: int, doc: object) -> None:
    with answering(status, doc) as client, pytest.raises(StatusError) as caught:
        client.statement(MEMBER, None)
    assert caught.value.status == status
    assert not isinstance(caught.value, NotOnLogError)
    assert f"expected HTTP 200, found {status}" in str(caught.value)


def test_only_the_statement_maps_its_types() -> None:
    with answering(404, problem(404, UNKNOWN_MEMBER)) as client, pytest.raises(StatusError):
        client.log_info()
