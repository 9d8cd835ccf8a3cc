"""Test support for the ``tally-verify`` CLI: running it, real servers, and a hand-made log.

Nothing here imports the ledger: :class:`FakeLog` builds a log from the specs with
the verifier's own canonical JSON and Merkle code and the test signer, so that a
hostile server can serve it with any one thing wrong.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import socket
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import uvicorn
from click.testing import CliRunner, Result

from tests.plan_entries import joined_body, rules_body
from tests.verifier.helpers import sign_note, vkey
from verifier.cli import cli
from verifier.compact import consistency_proof
from verifier.jcs import canonicalize
from verifier.merkle import leaf_hash, root_from_leaf_hashes

WAIT = 5.0
"""The longest any test waits for a server to start or stop."""


def run(state: Path, *args: str, timeout: float | None = None) -> Result:
    """Run ``tally-verify --state STATE ARGS`` in-process; fail on any Python traceback."""
    options = ["--state", str(state)]
    if timeout is not None:
        options += ["--timeout", str(timeout)]
    result = CliRunner().invoke(cli, [*options, *args])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"unexpected {result.exception!r}\n{result.output}") from (
            result.exception
        )
    assert "Traceback" not in result.output
    return result


def run_json(state: Path, *args: str, timeout: float | None = None) -> tuple[int, Any]:
    """Run with ``--json``; return the exit code and the one JSON object printed."""
    extra = ["--timeout", str(timeout)] if timeout is not None else []
    result = run(state, "--json", *extra, *args)
    return result.exit_code, json.loads(result.stdout)


def _bound_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


class AppServer:
    """Serve an ASGI app with uvicorn on loopback in a thread; ``app`` can be switched live."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self._sock = _bound_socket()
        self.url = f"http://127.0.0.1:{self._sock.getsockname()[1]}"
        config = uvicorn.Config(
            self._asgi,
            log_level="warning",
            lifespan="off",
            ws="none",
            interface="asgi3",
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=lambda: asyncio.run(self._server.serve(sockets=[self._sock])), daemon=True
        )

    async def _asgi(self, scope: Any, receive: Any, send: Any) -> None:
        await self.app(scope, receive, send)

    def __enter__(self) -> AppServer:
        self._thread.start()
        deadline = time.monotonic() + WAIT
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise AssertionError("the test server did not start")
            time.sleep(0.01)
        return self

    def __exit__(self, *_: object) -> None:
        self._server.should_exit = True
        self._thread.join(WAIT)
        self._sock.close()


@dataclass
class Reply:
    """What the hostile server answers; the defaults make a well-formed JSON 200."""

    body: bytes = b""
    status: int = 200
    content_type: str = "application/json"
    content_length: int | None = None
    """Declared length when it should differ from the body's (a truncated answer)."""
    delay: float = 0.0
    """Seconds to wait before answering (cut short when the server stops)."""
    chunks: Iterable[bytes] | None = None
    """Sent after ``body`` with no length declared, then the connection closes."""

    @classmethod
    def json(cls, doc: Any, status: int = 200) -> Reply:
        """A JSON answer."""
        return cls(json.dumps(doc).encode(), status)

    @classmethod
    def text(cls, text: str) -> Reply:
        """A ``text/plain`` answer."""
        return cls(text.encode(), content_type="text/plain; charset=utf-8")


Route = Callable[[str, dict[str, int]], Reply]


class HostileServer:
    """A tiny HTTP/1.0 server on loopback; ``route(path, params)`` decides each answer."""

    def __init__(self, route: Route) -> None:
        self.route = route
        self.requests: list[str] = []
        self._stop = threading.Event()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                outer.requests.append(self.path)
                params = {k: int(v[0]) for k, v in parse_qs(parts.query).items()}
                reply = outer.route(parts.path, params)
                if reply.delay:
                    outer._stop.wait(reply.delay)
                self.send_response(reply.status)
                self.send_header("Content-Type", reply.content_type)
                if reply.chunks is None:
                    length = reply.content_length
                    self.send_header(
                        "Content-Length", str(len(reply.body) if length is None else length)
                    )
                self.end_headers()
                try:
                    self.wfile.write(reply.body)
                    for chunk in reply.chunks or ():
                        if outer._stop.is_set():
                            break
                        self.wfile.write(chunk)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up, as it should

            def log_message(self, *_: Any) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    def __enter__(self) -> HostileServer:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(WAIT)


GENESIS_TIME = "2026-01-01T00:00:00Z"


@dataclass
class FakeLog:
    """A log built from the specs alone, served by :meth:`route` exactly as specs/http.md says."""

    origin: str = "hostile.example/log"
    seed: bytes = b"\x07" * 32
    entries: list[bytes] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.entries:
            body = {"origin": self.origin, "verifier_key": self.key}
            self.entries.append(self.make(0, "0" * 64, "log.genesis", body))

    @property
    def key(self) -> str:
        """The log's verifier key."""
        return vkey(self.origin, self.seed)

    @staticmethod
    def make(seq: int, prev: str, type_: str, body: dict[str, Any], **over: Any) -> bytes:
        """Canonical entry bytes (entries.md §2); ``over`` replaces envelope members."""
        envelope = {
            "version": 1,
            "seq": seq,
            "time": f"2026-01-01T00:{seq // 60 % 60:02d}:{seq % 60:02d}Z",
            "type": type_,
            "prev": prev,
            "actor": "operator",
            "body": body,
            **over,
        }
        return canonicalize(envelope)

    def grow(self, n: int, tag: str = "a") -> FakeLog:
        """Append ``n`` well-formed plan entries: the rules first, then members joining."""
        for _ in range(n):
            seq = len(self.entries)
            prev = hashlib.sha256(self.entries[-1]).hexdigest()
            if seq == 1:
                time = json.loads(self.make(seq, prev, "plan.rules", {}))["time"]
                self.entries.append(self.make(seq, prev, "plan.rules", rules_body(time)))
            else:
                self.entries.append(self.make(seq, prev, "member.joined", joined_body(tag, seq)))
        return self

    @property
    def size(self) -> int:
        """Entries in the log."""
        return len(self.entries)

    def root(self, size: int | None = None) -> bytes:
        """RFC 9162 root of the first ``size`` entries."""
        return root_from_leaf_hashes([leaf_hash(e) for e in self.entries[: size or self.size]])

    def checkpoint(self, size: int | None = None, *, root: bytes | None = None) -> str:
        """A checkpoint note signed with the log's key."""
        n = self.size if size is None else size
        r = self.root(n) if root is None else root
        body = f"{self.origin}\n{n}\n{base64.b64encode(r).decode()}\n"
        return sign_note(body, (self.origin, self.seed))

    def proof(self, first: int, second: int) -> list[str]:
        """The consistency proof, base64."""
        leaves = [leaf_hash(e) for e in self.entries[:second]]
        return [base64.b64encode(h).decode() for h in consistency_proof(leaves, first)]

    def page(self, start: int, end: int) -> list[dict[str, Any]]:
        """An entries page, as the API serves it."""
        return [
            {
                "seq": seq,
                "leaf": base64.b64encode(raw).decode(),
                "entry": json.loads(raw),
            }
            for seq, raw in enumerate(self.entries[start : min(end, start + 1000)], start)
        ]

    def route(self, path: str, params: dict[str, int]) -> Reply:
        """Answer like a correct server."""
        if path == "/v1/log":
            return Reply.json(
                {"origin": self.origin, "verifier_key": self.key, "tree_size": self.size}
            )
        if path == "/v1/checkpoint":
            return Reply.text(self.checkpoint())
        if path == "/v1/entries":
            return Reply.json({"entries": self.page(params["start"], params["end"])})
        if path == "/v1/proof/consistency":
            first, second = params["first"], params["second"]
            return Reply.json(
                {"first": first, "second": second, "hashes": self.proof(first, second)}
            )
        return Reply.json({"type": "about:blank", "title": "Not found", "status": 404}, 404)
