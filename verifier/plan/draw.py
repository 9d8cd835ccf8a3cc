"""The panel draw (specs/plan.md §6): pool root, pool signature, seed and shuffle.

- ``pool_root`` = H("tally/pool/v1\\n" ‖ claim ‖ "\\n" ‖ id₁ ‖ "\\n" ‖ id₂ ‖ "\\n" ‖ …)
  over the pool's member ids in strictly increasing order;
- the operator's ``pool_signature`` is the log key's Ed25519 signature of
  "tally/pool-signature/v1\\n" ‖ origin ‖ "\\n" ‖ claim ‖ "\\n" ‖ hex(pool_root) ‖ "\\n";
- the appellant's ``secret`` (32 bytes, revealed as hex) opens
  ``secret_commitment`` = H(secret);
- ``seed`` = H("tally/seed/v1\\n" ‖ pool_root ‖ pool_signature ‖ secret), over the
  raw bytes of all three (the 32-byte root, the 64-byte signature, the 32-byte secret);
- the jurors are the first ``panel_size`` ids of a partial Fisher-Yates shuffle of
  the sorted pool: for i = 0 … panel_size - 1, j is uniform in [i, pool_size) and
  positions i and j swap. Uniform numbers come from the single stream of blocks
  H(seed ‖ u64be(k)), k = 0, 1, 2, … shared by all draws; a block is read as the
  big-endian u64 of its first 8 bytes, v, accepted for a range of size m when
  v < ⌊2^64 / m⌋ * m (else the next block is read), giving v mod m. A range of size
  1 still reads (and always accepts) one block.

Who belongs in the pool (eligible jurors at the appeal, minus claimant and
objectors) is decided from the log by the caller; this module checks the bytes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence

from verifier.note import ED25519_KEY_SIZE, ED25519_SIG_SIZE, Verifier, decode_base64
from verifier.plan.errors import DrawError, PoolSignatureError, SecretMismatchError
from verifier.plan.ids import (
    U64_MAX,
    check_claim,
    check_hex32,
    check_int,
    check_member,
    check_origin,
    show,
)

HASH_SIZE = 32
SECRET_SIZE = 32
POOL_DOMAIN = b"tally/pool/v1\n"
POOL_SIGNATURE_DOMAIN = b"tally/pool-signature/v1\n"
SEED_DOMAIN = b"tally/seed/v1\n"


def check_pool(pool: Sequence[str]) -> list[str]:
    """Return ``pool`` as a list if its ids are member ids in strictly increasing order."""
    if isinstance(pool, str | bytes):
        raise DrawError(f"pool must be a list of member ids, found {show(pool)}")
    ids = list(pool)
    for k, member in enumerate(ids):
        check_member(member, f"pool [{k}]")
        if k and not ids[k - 1] < member:
            raise DrawError(
                f"pool must be sorted strictly increasing by member id: "
                f"found {ids[k - 1]} before {member} at position {k}"
            )
    return ids


def pool_root(claim: str, sorted_member_ids: Sequence[str]) -> bytes:
    """The 32-byte pool root over the claim and the ids; refuses an unsorted pool."""
    check_claim(claim)
    ids = check_pool(sorted_member_ids)
    data = POOL_DOMAIN + (claim + "\n").encode("ascii")
    data += b"".join((m + "\n").encode("ascii") for m in ids)
    return hashlib.sha256(data).digest()


def pool_signature_message(origin: str, claim: str, pool_root: bytes) -> bytes:
    """The message the log key signs over a pool (the root written as lower-case hex)."""
    check_origin(origin)
    check_claim(claim)
    root = _check_bytes(pool_root, HASH_SIZE, "pool_root")
    return POOL_SIGNATURE_DOMAIN + f"{origin}\n{claim}\n{root.hex()}\n".encode()


def verify_pool_signature(
    key: Verifier | bytes, origin: str, claim: str, pool_root: bytes, signature_b64: str
) -> bytes:
    """Check the operator's pool signature; return the 64 signature bytes.

    ``key`` is the log's :class:`~verifier.note.Verifier` (whose name must be the
    origin, specs/checkpoint.md §2) or a raw 32-byte Ed25519 public key. The
    signature must be canonical standard base64 of 64 bytes. Raises
    :class:`DrawError` for malformed input and :class:`PoolSignatureError` if the
    signature does not verify.
    """
    message = pool_signature_message(origin, claim, pool_root)
    if isinstance(key, Verifier):
        if key.name != origin:
            raise PoolSignatureError(
                f"the log key's name must be the origin {origin!r}, found key {key.name!r}"
            )
        verifier = key
    else:
        raw = _check_bytes(key, ED25519_KEY_SIZE, "log public key")
        verifier = Verifier.from_public_key(origin, raw)
    signature = _decode_b64(signature_b64, ED25519_SIG_SIZE, "pool_signature")
    if not verifier.verify(message, signature):
        raise PoolSignatureError(
            f"pool_signature of {claim} does not verify with the log key "
            f"{verifier.name}+{verifier.key_id.hex()} over pool_root {pool_root.hex()}"
        )
    return signature


def check_secret(secret_hex: str, commitment_hex: str) -> bytes:
    """Check that H(secret) = commitment; return the 32 secret bytes.

    Both are 64 lower-case hex digits. Raises :class:`DrawError` if malformed and
    :class:`SecretMismatchError` if the secret does not open the commitment.
    """
    secret = check_hex32(secret_hex, "secret", DrawError)
    commitment = check_hex32(commitment_hex, "secret_commitment", DrawError)
    opened = hashlib.sha256(secret).digest()
    if opened != commitment:
        raise SecretMismatchError(
            f"secret must hash to the appeal's secret_commitment {commitment.hex()}, "
            f"found H(secret) = {opened.hex()}"
        )
    return secret


def seed(pool_root: bytes, pool_signature: bytes, secret: bytes) -> bytes:
    """H("tally/seed/v1\\n" ‖ pool_root ‖ pool_signature ‖ secret), 32 bytes, over raw bytes."""
    root = _check_bytes(pool_root, HASH_SIZE, "pool_root")
    signature = _check_bytes(pool_signature, ED25519_SIG_SIZE, "pool_signature")
    raw_secret = _check_bytes(secret, SECRET_SIZE, "secret")
    return hashlib.sha256(SEED_DOMAIN + root + signature + raw_secret).digest()


def uniform_stream(seed: bytes) -> Iterator[int]:
    """The u64s of the blocks H(seed ‖ u64be(k)), k = 0, 1, 2, …: first 8 bytes, big-endian."""
    raw = _check_bytes(seed, HASH_SIZE, "seed")
    k = 0
    while True:
        if k > U64_MAX:  # pragma: no cover - 2^64 blocks is out of reach
            raise DrawError("the seed's block stream is exhausted at k = 2^64")
        block = hashlib.sha256(raw + k.to_bytes(8, "big")).digest()
        yield int.from_bytes(block[:8], "big")
        k += 1


def uniform_below(stream: Iterator[int], m: int) -> int:
    """A number uniform in [0, m) from ``stream``, by rejection: v < ⌊2^64 / m⌋ * m."""
    if not 1 <= m <= U64_MAX:
        raise DrawError(f"range size must be 1..2^64-1, found {m}")
    limit = (2**64 // m) * m
    for v in stream:
        if v < limit:
            return v % m
    raise DrawError("the seed's block stream ended")  # pragma: no cover - infinite stream


def draw(pool_sorted_ids: Sequence[str], seed: bytes, panel_size: int) -> list[str]:
    """The jurors: the first ``panel_size`` ids of the seeded partial Fisher-Yates shuffle.

    ``pool_sorted_ids`` must be strictly sorted member ids; ``panel_size`` must be
    0..pool size. Raises :class:`DrawError` otherwise.
    """
    ids = check_pool(pool_sorted_ids)
    size = check_int(panel_size, "panel_size", DrawError)
    if not 0 <= size <= len(ids):
        raise DrawError(f"panel_size must be between 0 and the pool size {len(ids)}, found {size}")
    stream = uniform_stream(seed)
    for i in range(size):
        j = i + uniform_below(stream, len(ids) - i)
        ids[i], ids[j] = ids[j], ids[i]
    return ids[:size]


def _check_bytes(value: object, size: int, what: str) -> bytes:
    if not isinstance(value, bytes) or len(value) != size:
        found = f"{len(value)} bytes" if isinstance(value, bytes) else show(value)
        raise DrawError(f"{what} must be {size} bytes, found {found}")
    return value


def _decode_b64(text: object, size: int, what: str) -> bytes:
    if not isinstance(text, str):
        raise DrawError(f"{what} must be a base64 string, found {show(text)}")
    try:
        raw = decode_base64(text)
    except ValueError as exc:
        raise DrawError(f"{what}: {exc}") from None
    if len(raw) != size:
        raise DrawError(f"{what} must decode to {size} bytes, found {len(raw)}")
    return raw
