"""Member-signed requests through ``POST /v1/requests``: how many a server accepts.

``python -m bench.requests --members 2000`` builds a SQLite ledger under the
reference rules (members sign their own actions), ``--members`` members joined with
their own keys, then serves it with ``tally serve`` (one worker, the signing key, no
client rate limit to speak of) and posts ``--posts`` signed accident claims (one
each by members spread over the plan) from ``--clients`` concurrent clients over
loopback, each answered with its receipt.
Every request must be accepted. Prints the rate and the latency percentiles; the
server checks each request's signature and the plan's rules, appends it in its own
transaction and signs its receipt.
"""

from __future__ import annotations

import argparse
import hashlib
import statistics
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

from bench.serving import serving
from ledger.domain.plan import Plan
from ledger.domain.requests import RequestDocument, public_key, sign_request
from ledger.domain.rules import reference_rules
from ledger.instance import init_ledger

ORIGIN = "bench.tally.example/requests"
START = "2025-01-01T00:00:00Z"
JOINED = "2025-01-02T00:00:00Z"
BATCH = 2_000


def seed_of(n: int) -> bytes:
    """Member ``n``'s key (a benchmark's own)."""
    return hashlib.sha256(b"bench requests member %d" % n).digest()


def member_of(n: int) -> str:
    """Member ``n``'s id."""
    return "m-" + hashlib.sha256(b"bench requests member id %d" % n).hexdigest()[:20]


def build(folder: Path, members: int) -> tuple[str, Path]:
    """The ledger's URL and key file: the rules, and ``members`` keyed joins."""
    url = f"sqlite:///{folder}/requests.db"
    key = folder / "requests.key"
    ledger, _ = init_ledger(url, key, ORIGIN, genesis_time=START)
    try:
        plan = Plan(ledger)
        plan.set_rules(reference_rules(START), at=START)
        for first in range(0, members, BATCH):
            numbers = range(first, min(first + BATCH, members))
            requests: list[RequestDocument | None] = []
            for n in numbers:
                body = {"member": member_of(n), "member_key": public_key(seed_of(n)), "request": 0}
                signed = sign_request(seed_of(n), ORIGIN, "member.joined", body)
                requests.append(RequestDocument("member.joined", signed))
            people = [("0-39", {"bench member": n}) for n in numbers]
            plan.join_many(people, requests=requests, at=JOINED)
    finally:
        ledger.close()
    return url, key


def filing(n: int) -> dict[str, Any]:
    """Member ``n``'s signed accident claim, as a request document."""
    body = {
        "member": member_of(n),
        "condition": "ACC",
        "amount_fen": 100_000,
        "diagnosed": "2025-01-03T00:00:00Z",
        "evidence_commitment": hashlib.sha256(b"discharge summary %d" % n).hexdigest(),
        "request": 1,
    }
    return {"type": "claim.filed", "body": sign_request(seed_of(n), ORIGIN, "claim.filed", body)}


def main(argv: list[str] | None = None) -> int:
    """Build, serve, post, print."""
    parser = argparse.ArgumentParser(prog="python -m bench.requests", description=__doc__)
    parser.add_argument("--members", type=int, default=2_000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--posts", type=int, default=2_000)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="tally-bench-requests-") as tmp:
        folder = Path(tmp)
        began = time.perf_counter()
        url, key = build(folder, args.members)
        print(f"{args.members:,} keyed members joined in {time.perf_counter() - began:.1f} s")
        posts = min(args.posts, args.members)
        documents = [filing(n * args.members // posts) for n in range(posts)]
        with serving(url, folder, key=key) as base, httpx.Client(base_url=base) as client:

            def post(document: dict[str, Any]) -> float:
                sent = time.perf_counter()
                answer = client.post("/v1/requests", json=document, timeout=60)
                if answer.status_code != 201:
                    raise RuntimeError(f"refused: {answer.status_code} {answer.text}")
                return time.perf_counter() - sent

            began = time.perf_counter()
            with ThreadPoolExecutor(args.clients) as pool:
                latencies = sorted(pool.map(post, documents))
            seconds = time.perf_counter() - began
        ms = [1000 * s for s in latencies]
        cuts = statistics.quantiles(ms, n=100)
        print(
            f"POST /v1/requests, one worker, {args.clients} clients: {len(ms):,} signed claims "
            f"accepted in {seconds:.1f} s = {len(ms) / seconds:,.0f}/s; latency p50 "
            f"{cuts[49]:.1f} ms, p99 {cuts[98]:.1f} ms"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
