"""A hostile server for the browser tests: a proxy in front of the real one that
rewrites what it answers, as a compromised or lying operator would.

Modes (``TamperingProxy.mode``):

- ``None``: passes everything through unchanged;
- ``"proof"``: one byte of one entry's inclusion proof in a statement bundle;
- ``"signature"``: one byte of the checkpoint's signature in a statement bundle;
- ``"charge"``: the member's charge (``amount_fen`` of the last contribution);
- ``"claim"``: one byte of a ``claim.paid`` entry's amount, in the entry's bytes;
- ``"forged"``: a claim's paid amount changed by an operator who holds the key,
  with a whole forged tree and a checkpoint of it signed with the real key;
- ``"periods"``: the last period's share in ``/v1/periods`` (not in its entry);
- ``"other-key"``: everything signed with another key of the same name, which the
  server also names as its own in ``/v1/log`` and in bundles.
"""

from __future__ import annotations

import base64
import json
import re
import threading
import time
from typing import Any

import httpx
import uvicorn
from starlette.types import Receive, Scope, Send

from ledger.publish.note import Signer, sign_note, split_note
from tests.web.forge import forge_bundle
from tests.web.live import free_port

STATEMENT = re.compile(r"^/v1/members/m-[0-9a-f]{20}/statement$")


def flip(text: str, at: int) -> str:
    """``text`` (base64) with one byte of its decoded bytes changed."""
    raw = bytearray(base64.b64decode(text))
    raw[at % len(raw)] ^= 0x01
    return base64.b64encode(bytes(raw)).decode()


class TamperingProxy:
    """An ASGI app forwarding to ``upstream`` and rewriting its answers per ``mode``."""

    def __init__(self, upstream: str, signer: Signer) -> None:
        self.upstream = upstream
        self.signer = signer
        self.other = Signer.generate(signer.name)
        self.mode: str | None = None
        self.client: httpx.AsyncClient | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self.lifespan(receive, send)
            return
        path, query = scope["path"], scope["query_string"].decode()
        assert self.client is not None
        upstream = await self.client.get(path + (f"?{query}" if query else ""))
        body, kind = upstream.content, upstream.headers.get("content-type", "application/json")
        if upstream.status_code == 200:
            body = self.rewrite(path, body)
        await send(
            {
                "type": "http.response.start",
                "status": upstream.status_code,
                "headers": [(b"content-type", kind.encode()), (b"cache-control", b"no-store")],
            }
        )
        await send({"type": "http.response.body", "body": body})

    async def lifespan(self, receive: Receive, send: Send) -> None:
        """One upstream client for the server's life, closed before its loop is."""
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                # No kept-alive connections: one the upstream closes as idle just as
                # it is reused would fail a request (a ReadError) for no reason of the test's.
                self.client = httpx.AsyncClient(
                    base_url=self.upstream,
                    timeout=60,
                    limits=httpx.Limits(max_keepalive_connections=0),
                )
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self.client is not None:
                    await self.client.aclose()
                await send({"type": "lifespan.shutdown.complete"})
                return

    def rewrite(self, path: str, body: bytes) -> bytes:
        """The answer to ``path`` as this mode's server gives it."""
        if self.mode == "other-key":
            if path in ("/v1/checkpoint", "/checkpoint"):
                return self.resign(body.decode()).encode()
            if path == "/v1/log":
                return json.dumps(dict(json.loads(body), verifier_key=self.other_key())).encode()
        if self.mode == "periods" and path == "/v1/periods":
            doc = json.loads(body)
            doc["periods"][-1]["body"]["share_fen"] += 100
            return json.dumps(doc).encode()
        if self.mode not in (None, "periods") and STATEMENT.match(path):
            return json.dumps(self.tamper(json.loads(body))).encode()
        return body

    def other_key(self) -> str:
        return self.other.verifier().to_string()

    def resign(self, note: str) -> str:
        body, _ = split_note(note)
        return sign_note(body, [self.other])

    def tamper(self, bundle: dict[str, Any]) -> dict[str, Any]:
        """``bundle`` altered by this mode."""
        if self.mode == "proof":
            item = bundle["entries"][len(bundle["entries"]) // 2]
            item["proof"][0] = flip(item["proof"][0], 5)
        elif self.mode == "signature":
            body, sigs = bundle["checkpoint"].rsplit("\n\n", 1)
            name, blob = sigs.removeprefix("\u2014 ").strip().split(" ")
            bundle["checkpoint"] = f"{body}\n\n\u2014 {name} {flip(blob, 20)}\n"
        elif self.mode == "charge":
            bundle["contributions"][-1]["amount_fen"] += 1
        elif self.mode == "claim":
            item = self.paid_entry(bundle)
            raw = base64.b64decode(item["leaf"]).decode()
            amount = re.search(r'"amount_fen":(\d+)', raw)
            assert amount is not None
            digits = amount.group(1)
            changed = digits[:-1] + str((int(digits[-1]) + 1) % 10)
            item["leaf"] = base64.b64encode(
                raw.replace(amount.group(0), f'"amount_fen":{changed}').encode()
            ).decode()
        elif self.mode == "forged":
            seq = self.paid_entry(bundle)["seq"]
            bundle = forge_bundle(bundle, self.upstream, self.signer, seq, "amount_fen", 100)
        elif self.mode == "other-key":
            bundle["verifier_key"] = self.other_key()
            bundle["checkpoint"] = self.resign(bundle["checkpoint"])
        return bundle

    @staticmethod
    def paid_entry(bundle: dict[str, Any]) -> dict[str, Any]:
        for item in bundle["entries"]:
            if b'"type":"claim.paid"' in base64.b64decode(item["leaf"]):
                return item  # type: ignore[no-any-return]
        raise AssertionError("the bundle pays no claim")


class ProxyServer:
    """Serve a TamperingProxy on a free loopback port in a thread."""

    def __init__(self, proxy: TamperingProxy) -> None:
        self.proxy = proxy
        self.port = free_port()
        self.server = uvicorn.Server(
            uvicorn.Config(
                proxy,
                host="127.0.0.1",
                port=self.port,
                log_level="warning",
                lifespan="on",
                loop="asyncio",
                http="h11",
            )
        )
        self.thread = threading.Thread(target=self.server.run, name="tampering-proxy", daemon=True)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def __enter__(self) -> ProxyServer:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("the tampering proxy did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
