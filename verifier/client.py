"""A strict HTTP client for the public log contract (specs/http.md).

The server is not trusted, so this client believes nothing it is told that it can
check, and accepts only answers exactly in the contract's shape:

- every request has connect and read timeouts, and a whole answer must arrive
  within :data:`DEADLINE_FACTOR` times the timeout (a server that drips one byte a
  second never times out a read);
- every answer is read as a stream and abandoned past ``max_bytes`` (the size is
  counted after content decoding, so a compressed bomb is stopped too);
- a status other than 200, a wrong media type, JSON that is not strict (duplicate
  keys, NaN, floats), a missing member or one of the wrong type, base64 that is not
  canonical, a hash that is not 32 bytes, entries out of order, duplicated, with a
  gap, outside the requested range, or an empty page: each is a
  :class:`~verifier.errors.ServerError` (:class:`~verifier.errors.StatusError` for an
  error status, with its problem document), and the caller concludes nothing from it;
- except that a statement's 404 whose problem type says the log has no such member
  or closed period (:mod:`verifier.problem`) is a
  :class:`~verifier.errors.NotOnLogError`: a question about nothing, not a failure.

What the client returns is still only what the server *said*: checkpoints are
returned as note text for the caller to verify with the pinned key, entries as
their exact bytes for the caller to hash and chain, proofs as hashes for the
caller to verify. ``tree_size`` and ``verifier_key`` from ``/v1/log`` are for
discovery only (specs/http.md).
"""

from __future__ import annotations

import binascii
import json
import time
from dataclasses import dataclass
from typing import Any

import httpx

from verifier.b64 import Base64Error, decode, decode_sized
from verifier.errors import ResponseTooLargeError, ServerError, StatusError
from verifier.merkle import HASH_SIZE
from verifier.problem import as_problem, not_on_log
from verifier.strict_json import (
    ANSWER_INTEGER,
    StrictJSONError,
    kind_of,
    loads,
    loads_object,
    type_name,
)
from verifier.tiles import consistency_proof_from_tiles, split_bundle, split_tile, tile_path

DEFAULT_TIMEOUT = 10.0
"""Seconds to wait to connect, and for each read (``--timeout``)."""
DEADLINE_FACTOR = 10
"""A whole answer must arrive within this many timeouts."""
MAX_RESPONSE_BYTES = 16 * 1024 * 1024
"""The largest answer read; a page of large entries is re-asked in smaller pages."""
MAX_PAGE = 1000
"""Entries the server serves per page at most (specs/http.md)."""
MAX_PROOF_HASHES = 2 * 64 + 1
"""More hashes than any proof in a tree of up to 2**64 leaves has."""
MAX_INDEX = 2**62
"""The largest seq or size the server accepts as a parameter (specs/http.md)."""
_DETAIL_BYTES = 4096
"""How much of an error answer is read to show its problem ``detail``."""
_ANSWER_BYTES = 64 * 1024
"""The largest answer to a posted request read (a receipt is a few hundred bytes)."""


@dataclass(frozen=True)
class LogInfo:
    """``GET /v1/log``: for discovery only; nothing here is trusted."""

    origin: str
    verifier_key: str
    tree_size: int


@dataclass(frozen=True)
class MemberInfo:
    """``GET /v1/members/{member}``: the seqs of a member's own entries (unverified)."""

    member: str
    joined_seq: int
    left_seq: int | None
    juror_seq: int | None


@dataclass(frozen=True)
class Accepted:
    """``POST /v1/requests`` answered 201: where the entry is, and the receipt (unverified)."""

    seq: int
    entry_hash: str
    covered_by: str
    receipt: str

    def json(self) -> dict[str, Any]:
        """The answer as the server gave it."""
        return {
            "seq": self.seq,
            "entry_hash": self.entry_hash,
            "covered_by": self.covered_by,
            "receipt": self.receipt,
        }


@dataclass(frozen=True)
class ServedEntry:
    """One entry of a page: its seq label, exact bytes, and the server's decoding of them.

    ``shown`` is ``None`` when the page held the entry's bytes verbatim as its
    decoding (see :meth:`LogClient.entries`): then there is nothing to compare.
    """

    seq: int
    raw: bytes
    shown: dict[str, Any] | None


def normalize_base_url(url: str) -> str:
    """Return ``url`` without a trailing slash; raise ``ValueError`` unless it is http(s).

    The log's endpoints are appended to it, so ``https://h/tally`` and
    ``https://h/tally/`` name the same log.
    """
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError) as exc:
        raise ValueError(f"not a URL: {url!r} ({exc})") from None
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise ValueError(f"expected an http:// or https:// URL with a host, found {url!r}")
    if parsed.query or parsed.fragment:
        raise ValueError(f"expected a base URL without query or fragment, found {url!r}")
    return url.rstrip("/")


class LogClient:
    """Reads one log's public endpoints (specs/http.md) strictly; see the module doc."""

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        max_bytes: int = MAX_RESPONSE_BYTES,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        if timeout <= 0:
            raise ValueError(f"timeout must be positive, found {timeout}")
        self.base_url = normalize_base_url(base_url)
        self.timeout = timeout
        self.max_bytes = max_bytes
        self._http = httpx.Client(
            timeout=httpx.Timeout(timeout),
            follow_redirects=True,
            max_redirects=5,
            headers={"User-Agent": "tally-verify"},
            transport=transport,
        )

    def __enter__(self) -> LogClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    # -- endpoints -------------------------------------------------------------

    def log_info(self) -> LogInfo:
        """``GET /v1/log``: the log's stated origin, verifier key and size."""
        doc = self._get_json("/v1/log", {})
        return LogInfo(
            origin=_member(doc, "origin", str, "/v1/log"),
            verifier_key=_member(doc, "verifier_key", str, "/v1/log"),
            tree_size=_count(doc, "tree_size", "/v1/log"),
        )

    def checkpoint(self) -> str:
        """``GET /v1/checkpoint``: the latest signed checkpoint, as note text (unverified)."""
        body = self._get("/v1/checkpoint", {}, "text/plain")
        try:
            return body.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ServerError(
                f"/v1/checkpoint: expected UTF-8 text, found an invalid byte at {exc.start}"
            ) from None

    def hash_tile(self, level: int, n: int, width: int) -> list[bytes]:
        """``GET /tile/<L>/<N>[.p/<W>]`` (specs/http.md §Tiles): the tile's hashes, unverified."""
        path = "/" + tile_path(level, n, width)
        return split_tile(self._get(path, {}, "application/octet-stream"), width, path)

    def entry_bundle(self, n: int, width: int) -> list[bytes]:
        """``GET /tile/entries/<N>[.p/<W>]``: the bundle's entries, unverified."""
        path = "/" + tile_path("entries", n, width)
        return split_bundle(self._get(path, {}, "application/octet-stream"), width, path)

    def statement(self, member: str, period: str | None) -> dict[str, Any]:
        """``GET /v1/members/{member}/statement[?period=P]``: a bundle (unverified).

        ``member`` must already be a checked member id (it is put in the path). If
        the server answers that the log has no such member, or no such closed
        period (a 404 of the type that says so), raises :class:`NotOnLogError`.
        """
        params: dict[str, int | str] = {} if period is None else {"period": period}
        try:
            return self._get_json(f"/v1/members/{member}/statement", params)
        except StatusError as exc:
            raise not_on_log(exc, member, period) or exc from None

    def entries(self, start: int, end: int) -> list[ServedEntry]:
        """``GET /v1/entries?start=S&end=E``: a non-empty page from entry ``start`` on.

        The page may stop before ``end`` (the server pages); it must start at
        ``start``, run without gaps or repeats, and stay below ``end``.
        """
        if not 0 <= start < end:
            raise ValueError(f"expected 0 <= start < end, found {start} and {end}")
        if end > MAX_INDEX:
            raise ServerError(
                f"cannot ask for entries up to {end}: the contract serves none past 2**62"
            )
        where = f"/v1/entries?start={start}&end={end}"
        params: dict[str, int | str] = {"start": start, "end": end}
        body = self._get("/v1/entries", params, "application/json")
        verbatim = _verbatim_page(body, start, end)
        if verbatim is not None:
            return verbatim
        doc = self._parse_json(body, _where("/v1/entries", params))
        items = _member(doc, "entries", list, where)
        if not items:
            raise ServerError(f"{where}: expected at least entry {start}, found an empty page")
        if len(items) > end - start:
            raise ServerError(
                f"{where}: expected at most {end - start} entries, found {len(items)}"
            )
        page: list[ServedEntry] = []
        for i, item in enumerate(items):
            want = start + i
            if not isinstance(item, dict):
                raise ServerError(f"{where}: entry [{i}] must be an object, found {kind_of(item)}")
            seq = _count(item, "seq", f"{where} entry [{i}]")
            if seq != want:
                order = "a repeat" if seq < want else "a gap"
                raise ServerError(
                    f"{where}: entry [{i}] must have seq {want}, found seq {seq} ({order})"
                )
            leaf = _member(item, "leaf", str, f"{where} seq {seq}")
            try:
                raw = decode(leaf, f"leaf of seq {seq}")
            except Base64Error as exc:
                raise ServerError(f"{where}: {exc}") from None
            shown = _member(item, "entry", dict, f"{where} seq {seq}")
            page.append(ServedEntry(seq, raw, shown))
        return page

    def member(self, member: str) -> MemberInfo | None:
        """``GET /v1/members/{member}``, or ``None`` if the server answers 404 (no such member).

        ``member`` must already be a checked member id (it is put in the path).
        """
        where = f"/v1/members/{member}"
        try:
            doc = self._get_json(where, {})
        except StatusError as exc:
            if exc.status == 404:
                return None
            raise
        if _member(doc, "member", str, where) != member:
            raise ServerError(f"{where}: expected the member {member}, found another")
        seqs = [doc.get(name) for name in ("left_seq", "juror_seq")]
        for name, value in zip(("left_seq", "juror_seq"), seqs, strict=True):
            if value is not None:
                _count(doc, name, where)
        return MemberInfo(member, _count(doc, "joined_seq", where), seqs[0], seqs[1])

    def post_request(self, document: dict[str, Any]) -> Accepted:
        """``POST /v1/requests`` (specs/requests.md §5): hand a signed request to the log.

        Returns the 201 answer; any other status raises :class:`StatusError` with the
        problem document (``problem.rule`` names the plan rule of a 409).
        """
        return self._post("/v1/requests", document)

    def post_reveal(self, claim: str, secret: bytes) -> Accepted:
        """``POST /v1/reveals`` (specs/requests.md §5): an appellant's secret, for the draw.

        Returns the 201 answer (the receipt of the ``panel.drawn`` entry); any other
        status raises :class:`StatusError` with the problem document.
        """
        return self._post("/v1/reveals", {"claim": claim, "secret": secret.hex()})

    def _post(self, path: str, document: dict[str, Any]) -> Accepted:
        """POST ``document`` as JSON to ``path``; the 201 answer with a receipt."""
        where = f"POST {path}"
        url = self.base_url + path
        content = json.dumps(document, ensure_ascii=False).encode("utf-8")
        deadline = time.monotonic() + self.timeout * DEADLINE_FACTOR
        try:
            with self._http.stream(
                "POST", url, content=content, headers={"Content-Type": "application/json"}
            ) as response:
                if response.status_code != 201:
                    raise self._error_answer(response, where)
                body = b""
                for chunk in response.iter_bytes():
                    body += chunk
                    if len(body) > _ANSWER_BYTES:
                        raise ResponseTooLargeError(
                            f"{where}: the answer went past the {_ANSWER_BYTES:,} bytes "
                            "this client reads"
                        )
                    if time.monotonic() > deadline:
                        raise ServerError(f"{where}: the answer took too long")
        except httpx.TimeoutException:
            raise ServerError(
                f"{where}: no answer within the {self.timeout:g}-second timeout; the request "
                "may have been taken or not"
            ) from None
        except httpx.ConnectError as exc:
            raise ServerError(f"{where}: could not connect to {self.base_url} ({exc})") from None
        except (httpx.HTTPError, httpx.StreamError, httpx.InvalidURL) as exc:
            raise ServerError(f"{where}: {type(exc).__name__}: {exc}") from None
        doc = self._parse_json(body, where)
        return Accepted(
            seq=_count(doc, "seq", where),
            entry_hash=_member(doc, "entry_hash", str, where),
            covered_by=_member(doc, "covered_by", str, where),
            receipt=_member(doc, "receipt", str, where),
        )

    def consistency_proof(self, first: int, second: int) -> list[bytes]:
        """``GET /v1/proof/consistency``: the proof hashes, unverified, each 32 bytes."""
        where = f"/v1/proof/consistency?first={first}&second={second}"
        doc = self._get_json("/v1/proof/consistency", {"first": first, "second": second})
        for name, want in (("first", first), ("second", second)):
            found = _count(doc, name, where)
            if found != want:
                raise ServerError(f"{where}: expected {name} {want}, found {found}")
        return _proof_hashes(doc, where)

    def inclusion_proof(self, seq: int, tree_size: int) -> list[bytes]:
        """``GET /v1/proof/inclusion``: the proof hashes, unverified, each 32 bytes."""
        where = f"/v1/proof/inclusion?seq={seq}&tree_size={tree_size}"
        doc = self._get_json("/v1/proof/inclusion", {"seq": seq, "tree_size": tree_size})
        for name, want in (("seq", seq), ("tree_size", tree_size)):
            found = _count(doc, name, where)
            if found != want:
                raise ServerError(f"{where}: expected {name} {want}, found {found}")
        return _proof_hashes(doc, where)

    # -- transport ---------------------------------------------------------------

    def _get_json(self, path: str, params: dict[str, int | str]) -> dict[str, Any]:
        body = self._get(path, params, "application/json")
        return self._parse_json(body, _where(path, params))

    def _parse_json(self, body: bytes, where: str) -> dict[str, Any]:
        try:
            return loads_object(body, limit=ANSWER_INTEGER)
        except StrictJSONError as exc:
            raise ServerError(f"{where}: {exc}") from None

    def _get(
        self, path: str, params: dict[str, int | str], media_type: str | tuple[str, ...]
    ) -> bytes:
        where = _where(path, params)
        accepted = (media_type,) if isinstance(media_type, str) else media_type
        url = self.base_url + path
        deadline = time.monotonic() + self.timeout * DEADLINE_FACTOR
        try:
            with self._http.stream("GET", url, params=params) as response:
                if response.status_code != 200:
                    raise self._error_answer(response, where)
                found_type = response.headers.get("content-type", "")
                if found_type.split(";")[0].strip().lower() not in accepted:
                    raise ServerError(
                        f"{where}: expected content type {' or '.join(accepted)}, "
                        f"found {found_type!r}"
                    )
                declared = response.headers.get("content-length")
                if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
                    raise ResponseTooLargeError(
                        f"{where}: the answer is {int(declared):,} bytes, more than the "
                        f"{self.max_bytes:,} this client reads"
                    )
                chunks: list[bytes] = []
                received = 0
                for chunk in response.iter_bytes():
                    received += len(chunk)
                    if received > self.max_bytes:
                        raise ResponseTooLargeError(
                            f"{where}: the answer went past the {self.max_bytes:,} bytes "
                            "this client reads"
                        )
                    if time.monotonic() > deadline:
                        raise ServerError(
                            f"{where}: the answer took longer than "
                            f"{self.timeout * DEADLINE_FACTOR:g} seconds"
                        )
                    chunks.append(chunk)
                return b"".join(chunks)
        except httpx.TimeoutException:
            raise ServerError(
                f"{where}: no answer within the {self.timeout:g}-second timeout"
            ) from None
        except httpx.ConnectError as exc:
            raise ServerError(f"{where}: could not connect to {self.base_url} ({exc})") from None
        except httpx.RemoteProtocolError as exc:
            raise ServerError(f"{where}: the answer broke off or was not HTTP ({exc})") from None
        except (httpx.HTTPError, httpx.StreamError, httpx.InvalidURL) as exc:
            raise ServerError(f"{where}: {type(exc).__name__}: {exc}") from None

    @staticmethod
    def _error_answer(response: httpx.Response, where: str) -> StatusError:
        """Describe an error answer, with its problem document's detail when there is one."""
        status = response.status_code
        text = f"{where}: expected HTTP 200, found {status} {response.reason_phrase}"
        body = b""
        try:
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) >= _DETAIL_BYTES:
                    break
            doc = loads(body, limit=ANSWER_INTEGER)
        except (httpx.HTTPError, StrictJSONError):
            return StatusError(text, status, None)
        if isinstance(doc, dict) and isinstance(doc.get("detail"), str):
            text = f"{text}: {doc['detail'][:300]!r}"
        return StatusError(text, status, as_problem(doc))


class TileClient(LogClient):
    """A client that reads only the C2SP tlog-tiles paths, as a static copy of a log has.

    The checkpoint is ``/checkpoint`` (as a plain file server gives it: text/plain or
    application/octet-stream; the signature is what counts), and a consistency proof
    is built from the hash tiles of the newer tree, then verified like any other.
    Such a copy (``tally tiles export``) has no ``/v1/`` endpoints.
    """

    def checkpoint(self) -> str:
        """``GET /checkpoint``: the latest signed checkpoint, as note text (unverified)."""
        body = self._get("/checkpoint", {}, ("text/plain", "application/octet-stream"))
        try:
            return body.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ServerError(
                f"/checkpoint: expected UTF-8 text, found an invalid byte at {exc.start}"
            ) from None

    def consistency_proof(self, first: int, second: int) -> list[bytes]:
        """RFC 9162 consistency proof hashes read from the hash tiles, unverified."""
        return consistency_proof_from_tiles(first, second, self.hash_tile)


def _verbatim_page(body: bytes, start: int, end: int) -> list[ServedEntry] | None:
    """Read a page written exactly as the contract's reference server writes it, else ``None``.

    That form is ``{"entries":[{"seq":n,"leaf":"<base64>","entry":<the bytes>},...]}``
    with nothing else: canonical base64, and the entry's exact bytes as its decoding.
    The page is parsed plainly, then written again in that form from the seqs and the
    decoded leaves; only if that gives the same bytes is it accepted. Then no key is
    repeated and no number is out of the contract, and each decoding is, byte for
    byte, the entry itself. Any other page (valid or not) is left to the strict
    parser, which checks it field by field and says what is wrong.
    """
    try:
        doc = json.loads(body)
    except (ValueError, RecursionError):
        return None
    items = doc.get("entries") if type(doc) is dict else None
    if type(items) is not list or not 0 < len(items) <= end - start:
        return None
    page: list[ServedEntry] = []
    parts: list[bytes] = []
    for seq, item in enumerate(items, start):
        leaf = item.get("leaf") if type(item) is dict else None
        if type(leaf) is not str or item.get("seq") != seq:
            return None
        try:
            raw = binascii.a2b_base64(leaf, strict_mode=True)
        except (binascii.Error, ValueError):  # ValueError: a non-ASCII str
            return None
        canonical = binascii.b2a_base64(raw, newline=False)
        parts.append(b'{"seq":%d,"leaf":"%s","entry":%s}' % (seq, canonical, raw))
        page.append(ServedEntry(seq, raw, None))
    if body != b'{"entries":[' + b",".join(parts) + b"]}":
        return None
    return page


def _where(path: str, params: dict[str, int | str]) -> str:
    return path + ("?" + "&".join(f"{k}={v}" for k, v in params.items()) if params else "")


def _member(doc: dict[str, Any], name: str, kind: type[Any], where: str) -> Any:
    if name not in doc:
        raise ServerError(f"{where}: expected a member {name!r}, found none")
    value = doc[name]
    # bool is a subclass of int, and JSON true is not a number.
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise ServerError(
            f"{where}: expected {name!r} to be {type_name(kind)}, found {kind_of(value)}"
        )
    return value


def _count(doc: dict[str, Any], name: str, where: str) -> int:
    value: int = _member(doc, name, int, where)
    if not 0 <= value <= MAX_INDEX:
        raise ServerError(f"{where}: expected {name!r} between 0 and 2**62, found {value}")
    return value


def _proof_hashes(doc: dict[str, Any], where: str) -> list[bytes]:
    """A proof document's ``hashes``: at most :data:`MAX_PROOF_HASHES`, each 32 bytes."""
    items = _member(doc, "hashes", list, where)
    if len(items) > MAX_PROOF_HASHES:
        raise ServerError(
            f"{where}: expected at most {MAX_PROOF_HASHES} hashes, found {len(items)}"
        )
    try:
        return [decode_sized(item, HASH_SIZE, f"hash [{i}]") for i, item in enumerate(items)]
    except Base64Error as exc:
        raise ServerError(f"{where}: {exc}") from None
