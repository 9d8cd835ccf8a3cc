"""Reading pages of entries (verifier.client): the verbatim form and everything else."""

from __future__ import annotations

import base64
import json

from verifier.client import _verbatim_page

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
