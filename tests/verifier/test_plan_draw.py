"""The panel draw: pool root, pool signature, secret, seed and shuffle (specs/plan.md §6)."""

from __future__ import annotations

import base64
import hashlib
import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given
from hypothesis import strategies as st

from tests.verifier.helpers import parse_go_private_key, public_key
from verifier.errors import VerificationError
from verifier.note import Verifier, parse_verifier_key
from verifier.plan.draw import (
    check_secret,
    draw,
    pool_root,
    pool_signature_message,
    seed,
    uniform_below,
    uniform_stream,
    verify_pool_signature,
)
from verifier.plan.errors import DrawError, IdError, PoolSignatureError, SecretMismatchError

KEY_FILE = Path(__file__).resolve().parents[2] / "specs" / "vectors" / "keys" / "log-key.json"
KEY = json.loads(KEY_FILE.read_text())
ORIGIN: str = KEY["origin"]
_, LOG_SEED = parse_go_private_key(KEY["signer_key"])
CLAIM = "c-42"


def member(i: int) -> str:
    return f"m-{i:020x}"


def pool_of(n: int) -> list[str]:
    return [member(i) for i in range(n)]


def sign_pool(origin: str, claim: str, root: bytes, key_seed: bytes = LOG_SEED) -> str:
    sig = Ed25519PrivateKey.from_private_bytes(key_seed).sign(
        pool_signature_message(origin, claim, root)
    )
    return base64.b64encode(sig).decode()


# Pool root and signature.


def test_pool_root_bytes() -> None:
    ids = [member(1), member(2), member(0xABC)]
    data = (
        b"tally/pool/v1\nc-42\n"
        b"m-00000000000000000001\nm-00000000000000000002\nm-00000000000000000abc\n"
    )
    assert pool_root(CLAIM, ids) == hashlib.sha256(data).digest()
    assert pool_root(CLAIM, []) == hashlib.sha256(b"tally/pool/v1\nc-42\n").digest()
    assert pool_root("c-43", ids) != pool_root(CLAIM, ids)


def test_pool_must_be_strictly_sorted() -> None:
    with pytest.raises(DrawError, match="sorted strictly increasing"):
        pool_root(CLAIM, [member(2), member(1)])
    with pytest.raises(DrawError, match="sorted strictly increasing"):
        pool_root(CLAIM, [member(1), member(1)])
    with pytest.raises(DrawError, match="sorted strictly increasing"):
        draw([member(2), member(1)], bytes(32), 1)


@pytest.mark.parametrize("claim", ["c-042", "c-", "42", "c-4a", "C-42", "c--1"])
def test_claim_id_pattern(claim: str) -> None:
    with pytest.raises(IdError, match="claim id"):
        pool_root(claim, pool_of(2))


def test_pool_ids_pattern() -> None:
    with pytest.raises(IdError, match=r"pool \[1\]"):
        pool_root(CLAIM, [member(1), "m-2"])
    with pytest.raises(DrawError, match="list of member ids"):
        pool_root(CLAIM, member(1))


def test_pool_signature_message() -> None:
    root = bytes(range(32))
    assert pool_signature_message(ORIGIN, CLAIM, root) == (
        b"tally/pool-signature/v1\nvectors.tally.example/log\nc-42\n" + root.hex().encode() + b"\n"
    )
    with pytest.raises(IdError, match="origin"):
        pool_signature_message("bad origin", CLAIM, root)
    with pytest.raises(DrawError, match="pool_root must be 32 bytes"):
        pool_signature_message(ORIGIN, CLAIM, root.hex().encode())


def test_pool_signature_verifies_with_the_log_key() -> None:
    verifier = parse_verifier_key(KEY["verifier_key"])
    root = pool_root(CLAIM, pool_of(20))
    sig_b64 = sign_pool(ORIGIN, CLAIM, root)
    sig = verify_pool_signature(verifier, ORIGIN, CLAIM, root, sig_b64)
    assert sig == base64.b64decode(sig_b64)
    assert verify_pool_signature(public_key(LOG_SEED), ORIGIN, CLAIM, root, sig_b64) == sig
    # Ed25519 is deterministic: one signature per pool.
    assert sign_pool(ORIGIN, CLAIM, root) == sig_b64


def test_pool_signature_refusals() -> None:
    verifier = parse_verifier_key(KEY["verifier_key"])
    root = pool_root(CLAIM, pool_of(20))
    sig_b64 = sign_pool(ORIGIN, CLAIM, root)
    other_root = pool_root(CLAIM, pool_of(21))
    with pytest.raises(PoolSignatureError, match="does not verify"):
        verify_pool_signature(verifier, ORIGIN, CLAIM, other_root, sig_b64)
    with pytest.raises(PoolSignatureError, match="does not verify"):
        verify_pool_signature(verifier, ORIGIN, "c-43", root, sig_b64)
    other_key = sign_pool(ORIGIN, CLAIM, root, key_seed=bytes(32))
    with pytest.raises(PoolSignatureError, match="does not verify"):
        verify_pool_signature(verifier, ORIGIN, CLAIM, root, other_key)
    # The verifier key's name must be the origin (specs/checkpoint.md §2).
    renamed = Verifier.from_public_key("other.example/log", verifier.public_key)
    with pytest.raises(PoolSignatureError, match="origin"):
        verify_pool_signature(renamed, ORIGIN, CLAIM, root, sig_b64)
    # A signature over another origin does not verify for this one.
    with pytest.raises(PoolSignatureError):
        verify_pool_signature(public_key(LOG_SEED), "other.example/log", CLAIM, root, sig_b64)


@pytest.mark.parametrize(
    ("mangle", "message"),
    [
        (lambda s: s.rstrip("="), "base64"),
        (lambda s: s + "\n", "base64"),
        (lambda s: base64.b64encode(base64.b64decode(s)[:63]).decode(), "64 bytes, found 63"),
        (lambda s: base64.urlsafe_b64encode(b"\xfb" * 64).decode(), "base64"),
    ],
)
def test_pool_signature_encoding(mangle: object, message: str) -> None:
    root = pool_root(CLAIM, pool_of(3))
    sig_b64 = sign_pool(ORIGIN, CLAIM, root)
    assert callable(mangle)
    with pytest.raises(DrawError, match=message):
        verify_pool_signature(public_key(LOG_SEED), ORIGIN, CLAIM, root, mangle(sig_b64))


def test_raw_key_must_be_32_bytes() -> None:
    root = pool_root(CLAIM, pool_of(3))
    with pytest.raises(DrawError, match="32 bytes, found 33"):
        verify_pool_signature(b"\x01" + public_key(LOG_SEED), ORIGIN, CLAIM, root, "")


# Secret and seed.


def test_secret_opens_its_commitment() -> None:
    secret = bytes(range(100, 132))
    commitment = hashlib.sha256(secret).hexdigest()
    assert check_secret(secret.hex(), commitment) == secret
    with pytest.raises(SecretMismatchError, match=commitment) as caught:
        check_secret(bytes(32).hex(), commitment)
    assert isinstance(caught.value, VerificationError)


@pytest.mark.parametrize(
    ("secret", "commitment"),
    [
        ("AB" * 32, "00" * 32),  # upper-case hex
        ("ab" * 31, "00" * 32),  # 31 bytes
        ("ab" * 33, "00" * 32),  # 33 bytes
        ("ab" * 32, "00" * 31),
        ("zz" * 32, "00" * 32),
        (None, "00" * 32),
    ],
)
def test_secret_format(secret: object, commitment: str) -> None:
    with pytest.raises(DrawError, match="64 lower-case hex"):
        check_secret(secret, commitment)  # type: ignore[arg-type]


def test_seed_bytes() -> None:
    root, sig, secret = b"\x01" * 32, b"\x02" * 64, b"\x03" * 32
    expected = hashlib.sha256(b"tally/seed/v1\n" + root + sig + secret).digest()
    assert seed(root, sig, secret) == expected
    with pytest.raises(DrawError, match="pool_root must be 32 bytes"):
        seed(root.hex().encode(), sig, secret)
    with pytest.raises(DrawError, match="pool_signature must be 64 bytes"):
        seed(root, sig[:-1], secret)
    with pytest.raises(DrawError, match="secret must be 32 bytes"):
        seed(root, sig, secret + b"\x00")


# The uniform stream and the shuffle.


def test_stream_blocks() -> None:
    s = hashlib.sha256(b"seed").digest()
    stream = uniform_stream(s)
    for k in range(3):
        block = hashlib.sha256(s + k.to_bytes(8, "big")).digest()
        assert next(stream) == int.from_bytes(block[:8], "big")


def test_rejection_sampling() -> None:
    m = 3
    limit = (2**64 // m) * m  # 2^64 - 1
    values: Iterator[int] = iter([limit, 2**64 - 1, limit - 1, 5])
    assert uniform_below(values, m) == (limit - 1) % m
    assert next(values) == 5  # exactly three blocks were read
    assert uniform_below(iter([2**64 - 1]), 1) == 0
    assert uniform_below(iter([2**64 - 1]), 2) == 1
    with pytest.raises(DrawError, match="range size"):
        uniform_below(iter([0]), 0)


def reference_draw(pool: list[str], s: bytes, panel: int) -> list[str]:
    """The spec's draw spelled out with its own block counter."""
    ids = list(pool)
    k = 0
    for i in range(panel):
        m = len(ids) - i
        while True:
            v = int.from_bytes(hashlib.sha256(s + k.to_bytes(8, "big")).digest()[:8], "big")
            k += 1
            if v < (2**64 // m) * m:
                break
        j = i + v % m
        ids[i], ids[j] = ids[j], ids[i]
    return ids[:panel]


def test_draw_by_hand() -> None:
    s = hashlib.sha256(b"a seed").digest()
    pool = pool_of(2)
    v0 = int.from_bytes(hashlib.sha256(s + bytes(8)).digest()[:8], "big")
    first = pool[v0 % 2]
    assert draw(pool, s, 1) == [first]
    assert draw(pool, s, 2) == [first, pool[1 - v0 % 2]]
    assert draw(pool, s, 0) == []
    assert draw([], s, 0) == []


def test_panel_size_limits() -> None:
    s = bytes(32)
    with pytest.raises(DrawError, match="pool size 3, found 4"):
        draw(pool_of(3), s, 4)
    with pytest.raises(DrawError, match="found -1"):
        draw(pool_of(3), s, -1)
    with pytest.raises(DrawError, match="must be an integer"):
        draw(pool_of(3), s, 2.0)  # type: ignore[arg-type]
    with pytest.raises(DrawError, match="seed must be 32 bytes"):
        draw(pool_of(3), s.hex().encode(), 1)


def test_draw_does_not_mutate_the_pool() -> None:
    pool = pool_of(10)
    draw(pool, bytes(32), 10)
    assert pool == pool_of(10)


def test_first_juror_is_roughly_uniform() -> None:
    counts = Counter(
        draw(pool_of(3), hashlib.sha256(i.to_bytes(4, "big")).digest(), 1)[0] for i in range(3000)
    )
    assert set(counts) == set(pool_of(3))
    assert all(850 < c < 1150 for c in counts.values()), counts


pools = st.sets(st.integers(min_value=0, max_value=2**80 - 1), min_size=0, max_size=60).map(
    lambda s: [member(i) for i in sorted(s)]
)


@given(pools, st.binary(min_size=32, max_size=32), st.data())
def test_draw_is_a_deterministic_prefix_of_a_permutation(
    pool: list[str], s: bytes, data: st.DataObject
) -> None:
    panel = data.draw(st.integers(min_value=0, max_value=len(pool)))
    jurors = draw(pool, s, panel)
    assert len(jurors) == panel
    assert len(set(jurors)) == panel
    assert set(jurors) <= set(pool)
    assert draw(pool, s, panel) == jurors
    assert jurors == reference_draw(pool, s, panel)
    # Drawing more jurors extends the same draw order.
    full = draw(pool, s, len(pool))
    assert sorted(full) == pool
    assert full[:panel] == jurors
