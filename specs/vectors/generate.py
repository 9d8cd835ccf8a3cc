"""Write the conformance vectors of specs/ from the ledger's own code.

Run ``make vectors`` (or ``python specs/vectors/generate.py``). The output is
deterministic: a fixed test key, fixed times, fixed content. The ledger's tests
check that regenerating changes nothing; the verifier's tests check every file
independently, so a bug in either implementation shows as a disagreement.
"""

from __future__ import annotations

import base64
import hashlib
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))

from ledger.errors import EntryError  # noqa: E402
from ledger.log.entry import ZERO_HASH, encode_entry, entry_hash, parse_entry  # noqa: E402
from ledger.log.log import Log, NewEntry  # noqa: E402
from ledger.log.store import Store  # noqa: E402
from ledger.log.tree import leaf_hash  # noqa: E402
from ledger.publish.checkpoint import Checkpoint  # noqa: E402
from ledger.publish.note import Signer, sign_note  # noqa: E402
from ledger.publish.publisher import Publisher  # noqa: E402

ORIGIN = "vectors.tally.example/log"
# A published test key: never use it for a real log.
SEED = hashlib.sha256(b"tally conformance vector key v1").digest()
SIGNER = Signer(ORIGIN, SEED)
OTHER = Signer(ORIGIN, hashlib.sha256(b"tally conformance vector key, another").digest())


def b64(data: bytes) -> str:
    """Standard base64 with padding."""
    return base64.b64encode(data).decode()


OUT = HERE


def write(path: str, value: dict[str, Any]) -> None:
    """Write one vector file, sorted and indented so diffs stay readable."""
    target = OUT / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False) + "\n")


def entry(seq: int, prev: str, type_: str, body: dict[str, Any], time: str) -> bytes:
    """Canonical bytes of one envelope."""
    return encode_entry(seq=seq, time=time, type=type_, prev=prev, actor="operator", body=body)


def keys() -> None:
    """The test key in both string forms."""
    verifier = SIGNER.verifier()
    write(
        "keys/log-key.json",
        {
            "description": "The conformance test key: signer and verifier key strings "
            "(specs/checkpoint.md §2). Published: never use it for a real log.",
            "origin": ORIGIN,
            "signer_key": SIGNER.to_string(),
            "verifier_key": verifier.to_string(),
            "key_id": verifier.key_id.hex(),
            "public_key": b64(verifier.public_key),
        },
    )


def valid_entries() -> None:
    """Entries that must parse, with their hashes."""
    genesis = entry(
        0,
        ZERO_HASH,
        "log.genesis",
        {"origin": ORIGIN, "verifier_key": SIGNER.verifier().to_string()},
        "2026-01-01T00:00:00Z",
    )
    cases = {
        "genesis": ("entry 0 of the vector log", genesis),
        "contribution": (
            "an ordinary entry: integers in fen, a nested object, a list",
            entry(
                1,
                entry_hash(genesis),
                "demo.contribution",
                {"member": "m-00c0ffee42", "amount_fen": 528, "period": {"n": 1}, "tags": ["a"]},
                "2026-01-01T00:00:05Z",
            ),
        ),
        "unicode": (
            "non-ASCII text and keys: RFC 8785 sorts keys by UTF-16 code units, so the "
            "key U+1F600 (UTF-16 D83D DE00) sorts before U+E000; strings are written "
            'literally except " \\ and control characters',
            entry(
                7,
                "ab" * 32,
                "demo.note",
                {
                    "\ue000": 1,
                    "\U0001f600": 2,
                    "text": '病\u0007\t/\u007f"\\',
                    "z": -9007199254740991,
                },
                "2026-02-28T23:59:59Z",
            ),
        ),
    }
    for name, (description, raw) in cases.items():
        parsed = parse_entry(raw)
        write(
            f"entries/valid/{name}.json",
            {
                "description": description,
                "entry_b64": b64(raw),
                "entry_text": raw.decode(),
                "entry_hash": entry_hash(raw),
                "leaf_hash": b64(leaf_hash(raw)),
                "seq": parsed.seq,
                "type": parsed.type,
                "prev": parsed.prev,
                "time": parsed.time,
            },
        )


def invalid_entries() -> None:
    """Byte strings every implementation must refuse, with the reason (specs/entries.md §5)."""
    good = entry(3, "cd" * 32, "demo.thing", {"amount_fen": 1}, "2026-01-01T00:00:00Z")
    text = good.decode()
    big_body = {"pad": "x" * 65_600}
    big = json.dumps(
        {
            "actor": "operator",
            "body": big_body,
            "prev": "cd" * 32,
            "seq": 3,
            "time": "2026-01-01T00:00:00Z",
            "type": "demo.thing",
            "version": 1,
        },
        separators=(",", ":"),
    ).encode()
    cases: dict[str, tuple[str, str, bytes]] = {
        "empty": ("empty", "zero bytes", b""),
        "too-large": ("too_large", "65,536 bytes or more", big),
        "bad-utf8": (
            "bad_utf8",
            "a byte that is not UTF-8",
            good.replace(b"operator", b"oper\xffor"),
        ),
        "lone-surrogate": (
            "malformed_json",
            "an escaped lone surrogate",
            text.replace('"amount_fen":1', '"amount_fen":1,"s":"\\ud800"').encode(),
        ),
        "not-json": ("malformed_json", "truncated JSON", good[:-1]),
        "nan": (
            "malformed_json",
            "a non-JSON constant",
            good.replace(b'"amount_fen":1', b'"amount_fen":NaN'),
        ),
        "float": (
            "float",
            "a number with a fraction",
            good.replace(b'"amount_fen":1', b'"amount_fen":1.0'),
        ),
        "exponent": (
            "float",
            "a number with an exponent",
            good.replace(b'"amount_fen":1', b'"amount_fen":1e2'),
        ),
        "integer-range": (
            "integer_range",
            "an integer beyond 2^53-1",
            good.replace(b'"amount_fen":1', b'"amount_fen":9007199254740992'),
        ),
        "duplicate-key": (
            "duplicate_key",
            "a key twice in one object",
            good.replace(b'"amount_fen":1', b'"amount_fen":1,"amount_fen":2'),
        ),
        "whitespace": (
            "not_canonical",
            "a space after a colon",
            good.replace(b'"seq":3', b'"seq": 3'),
        ),
        "unsorted-keys": (
            "not_canonical",
            "keys out of order",
            good.replace(b'{"actor":"operator",', b"{").replace(
                b'"version":1}', b'"version":1,"actor":"operator"}'
            ),
        ),
        "escaped-ascii": (
            "not_canonical",
            "an unnecessary \\u escape",
            good.replace(b'"operator"', b'"\\u006fperator"'),
        ),
        "leading-zero-seq": (
            "malformed_json",
            "a number with a leading zero",
            good.replace(b'"seq":3', b'"seq":03'),
        ),
        "missing-field": ("bad_envelope", "no actor", good.replace(b'"actor":"operator",', b"")),
        "extra-field": (
            "bad_envelope",
            "an unknown envelope key",
            good.replace(b'"version":1}', b'"version":1,"zzz":0}'),
        ),
        "version-2": (
            "bad_envelope",
            "an unknown version",
            good.replace(b'"version":1}', b'"version":2}'),
        ),
        "negative-seq": ("bad_envelope", "a negative seq", good.replace(b'"seq":3', b'"seq":-3')),
        "time-offset": (
            "bad_envelope",
            "a time with an offset",
            good.replace(b"2026-01-01T00:00:00Z", b"2026-01-01T08:00:00+08:00"),
        ),
        "time-fraction": (
            "bad_envelope",
            "a time with a fraction",
            good.replace(b"2026-01-01T00:00:00Z", b"2026-01-01T00:00:00.5Z"),
        ),
        "time-not-a-date": (
            "bad_envelope",
            "February 30th",
            good.replace(b"2026-01-01T00:00:00Z", b"2026-02-30T00:00:00Z"),
        ),
        "prev-uppercase": (
            "bad_envelope",
            "prev in upper-case hex",
            good.replace(b"cd" * 32, b"CD" * 32),
        ),
        "type-one-word": (
            "bad_envelope",
            "a type without a dot",
            good.replace(b'"demo.thing"', b'"thing"'),
        ),
        "actor-space": (
            "bad_envelope",
            "an actor with a space",
            good.replace(b'"operator"', b'"oper ator"'),
        ),
        "body-list": (
            "bad_envelope",
            "a body that is not an object",
            good.replace(b'{"amount_fen":1}', b"[1]"),
        ),
        "top-level-list": ("bad_envelope", "not an object at all", b"[1]"),
    }
    for name, (kind, description, raw) in cases.items():
        try:
            parse_entry(raw)
        except EntryError as exc:
            if exc.kind != kind:
                raise SystemExit(
                    f"vector {name}: expected {kind}, the ledger says {exc.kind}"
                ) from None
        else:
            raise SystemExit(f"vector {name}: the ledger accepted it")
        write(
            f"entries/invalid/{name}.json",
            {"description": description, "entry_b64": b64(raw), "error": kind},
        )


def vector_log() -> list[bytes]:
    """A 7-entry log built by the real sequencer, with roots, proofs and checkpoints."""
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(f"sqlite:///{tmp}/v.db", create=True)
        store.create_schema()
        with store.writer() as conn:
            conn.exec_driver_sql(
                "INSERT INTO log_meta (id, schema_version, origin, verifier_key) "
                "VALUES (?, ?, ?, ?)",
                (1, 1, ORIGIN, SIGNER.verifier().to_string()),
            )
        log = Log(store)
        publisher = Publisher(store, SIGNER)
        checkpoints = []
        bodies = [
            ("log.genesis", {"origin": ORIGIN, "verifier_key": SIGNER.verifier().to_string()}),
            ("demo.contribution", {"member": "m-0000000001", "amount_fen": 528}),
            ("demo.contribution", {"member": "m-0000000002", "amount_fen": 528}),
            ("demo.claim", {"claimant": "m-0000000002", "illness": "C50", "amount_fen": 30000000}),
            ("demo.contribution", {"member": "m-0000000003", "amount_fen": 527}),
            ("demo.note", {"text": "相互宝"}),
            ("demo.contribution", {"member": "m-0000000001", "amount_fen": 1}),
        ]
        for seq, (type_, body) in enumerate(bodies):
            log.append(NewEntry(type_, "operator", body, time=f"2026-01-01T00:00:{seq * 7:02d}Z"))
            if seq + 1 in (1, 3, 7):
                signed = publisher.publish()
                checkpoints.append({"tree_size": signed.checkpoint.size, "note": signed.note})
        size = log.size()
        raws = [raw for _, raw in log.entries(0, size)]
        roots = {str(n): b64(log.root(n)) for n in range(0, size + 1)}
        inclusion = [
            {
                "seq": i,
                "tree_size": n,
                "leaf_hash": b64(leaf_hash(raws[i])),
                "hashes": [b64(h) for h in log.inclusion_proof(i, n)],
            }
            for n in range(1, size + 1)
            for i in range(n)
        ]
        consistency = [
            {"first": m, "second": n, "hashes": [b64(h) for h in log.consistency_proof(m, n)]}
            for n in range(1, size + 1)
            for m in range(1, n + 1)
        ]
        http_examples(store)
        tile_examples(store)
        store.dispose()
    write(
        "log/log-7.json",
        {
            "description": "A log of 7 entries made by the ledger's sequencer: the chain, "
            "the RFC 9162 root at every size, every inclusion and consistency proof, and "
            "the checkpoints signed at sizes 1, 3 and 7 with the test key.",
            "origin": ORIGIN,
            "verifier_key": SIGNER.verifier().to_string(),
            "entries_b64": [b64(r) for r in raws],
            "entry_hashes": [entry_hash(r) for r in raws],
            "leaf_hashes": [b64(leaf_hash(r)) for r in raws],
            "roots": roots,
            "inclusion": inclusion,
            "consistency": consistency,
            "checkpoints": checkpoints,
        },
    )
    return raws


def http_examples(store: Store) -> None:
    """What the public log contract answers for the vector log (specs/http.md)."""
    import warnings

    from api.app import create_app

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the test client's notice about httpx2
        from fastapi.testclient import TestClient

    requests = {
        "log": "/v1/log",
        "checkpoint": "/v1/checkpoint",
        "entries": "/v1/entries?start=0&end=2",
        "inclusion": "/v1/proof/inclusion?seq=2&tree_size=7",
        "consistency": "/v1/proof/consistency?first=3&second=7",
        "problem": "/v1/proof/inclusion?seq=7&tree_size=7",
    }
    client = TestClient(create_app(store))
    for name, path in requests.items():
        response = client.get(path)
        is_json = "json" in response.headers["content-type"]
        write(
            f"http/{name}.json",
            {
                "description": f"GET {path} on the 7-entry vector log (log/log-7.json)",
                "request": path,
                "status": response.status_code,
                "content_type": response.headers["content-type"],
                "body": response.json() if is_json else response.text,
            },
        )


def tile_examples(store: Store) -> None:
    """What the tiles of the vector log are (specs/http.md §Tiles), and paths that are none."""
    import warnings

    from api.app import create_app

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the test client's notice about httpx2
        from fastapi.testclient import TestClient

    paths = [
        "/checkpoint",
        "/tile/0/000.p/7",
        "/tile/0/000.p/3",
        "/tile/entries/000.p/7",
        "/tile/entries/000.p/2",
        "/tile/0/000",  # a full tile: the log has only 7 entries
        "/tile/0/000.p/8",
        "/tile/1/000.p/1",
        "/tile/0/x000/000.p/7",  # not the canonical path of tile 0
        "/tile/0/000.p/07",
        "/tile/00/000.p/7",
        "/tile/0/000.p/256",
        "/tile/64/000.p/1",
    ]
    client = TestClient(create_app(store))
    examples = []
    for path in paths:
        response = client.get(path)
        kind = response.headers["content-type"]
        example: dict[str, object] = {"request": path, "status": response.status_code}
        if response.status_code == 200:
            example["content_type"] = kind
            if kind.startswith("text/plain"):
                example["body"] = response.text
            else:
                example["body_b64"] = b64(response.content)
        examples.append(example)
    write(
        "http/tiles.json",
        {
            "description": "C2SP tlog-tiles resources of the 7-entry vector log (log/log-7.json): "
            "its checkpoint, partial hash tiles and entry bundles, and paths that name no "
            "tile or a tile beyond the log (404)",
            "examples": examples,
        },
    )


def broken_chains(raws: list[bytes]) -> None:
    """Chains a verifier must refuse, each naming the first bad seq (specs/log.md §4)."""

    def remade(seq: int, prev: str, time: str, type_: str = "demo.contribution") -> bytes:
        return entry(seq, prev, type_, {"member": "m-0000000009", "amount_fen": 1}, time)

    second = remade(1, "00" * 32, "2026-01-01T00:00:07Z")
    late = remade(2, entry_hash(raws[1]), "2026-01-01T01:20:00Z")
    cases: dict[str, tuple[str, list[bytes], int, str]] = {
        "wrong-prev": (
            "entry 1's prev is not the hash of entry 0",
            [raws[0], second],
            1,
            "log.prev",
        ),
        "gap": (
            "seq jumps from 1 to 3 (entry 3 chained to entry 1)",
            [raws[0], raws[1], remade(3, entry_hash(raws[1]), "2026-01-01T00:00:21Z")],
            2,
            "log.seq",
        ),
        "time-backwards": (
            "entry 1 is dated before entry 0",
            [raws[0], remade(1, entry_hash(raws[0]), "2025-12-31T23:59:59Z")],
            1,
            "log.time.order",
        ),
        "no-genesis": (
            "the first entry is not log.genesis",
            [remade(0, "00" * 32, "2026-01-01T00:00:00Z")],
            0,
            "log.genesis",
        ),
        "second-genesis": (
            "log.genesis again at seq 1",
            [raws[0], remade(1, entry_hash(raws[0]), "2026-01-01T00:00:07Z", "log.genesis")],
            1,
            "log.genesis",
        ),
        "time-ahead": (
            "entry 2 is dated an hour after checked_at, when the checkpoint covering all three "
            "entries was received (at most 600 s ahead are allowed)",
            [raws[0], raws[1], late],
            2,
            "log.time.ahead",
        ),
    }
    for name, (description, chain, bad_seq, rule) in cases.items():
        vector: dict[str, Any] = {
            "description": description,
            "entries_b64": [b64(r) for r in chain],
            "error_seq": bad_seq,
            "rule": rule,
        }
        if rule == "log.time.ahead":
            vector["checked_at"] = "2026-01-01T00:10:00Z"
        write(f"log/broken-{name}.json", vector)


def checkpoints() -> None:
    """Checkpoint notes that verify, and ones that must not (specs/checkpoint.md §5)."""
    root = hashlib.sha256(b"\x00").digest()
    body = Checkpoint(ORIGIN, 7, root).to_body()
    note = sign_note(body, [SIGNER])
    vkey = SIGNER.verifier().to_string()
    write(
        "checkpoint/valid.json",
        {
            "description": "a checkpoint of size 7 signed by the test key",
            "verifier_key": vkey,
            "note": note,
            "valid": True,
            "origin": ORIGIN,
            "tree_size": 7,
            "root": b64(root),
        },
    )
    cosigned = note + sign_note(body, [Signer("witness.example/w1", SEED)]).split("\n\n")[-1]
    write(
        "checkpoint/valid-extra-signature.json",
        {
            "description": "an extra signature by an unknown key is ignored",
            "verifier_key": vkey,
            "note": cosigned,
            "valid": True,
            "origin": ORIGIN,
            "tree_size": 7,
            "root": b64(root),
        },
    )
    sig_line = note.split("\n\n")[1]
    blob = bytearray(base64.b64decode(sig_line.split(" ")[2]))
    blob[10] ^= 0x01
    flipped = note.replace(sig_line.split(" ")[2].rstrip("\n"), b64(bytes(blob)))
    invalid = {
        "bad-signature": ("one bit of the signature flipped", flipped),
        "other-key": ("signed by another key with the same name", sign_note(body, [OTHER])),
        "altered-size": ("the size changed after signing", note.replace("\n7\n", "\n8\n", 1)),
        "leading-zero": (
            "a size with a leading zero, signed",
            sign_note(body.replace("\n7\n", "\n07\n", 1), [SIGNER]),
        ),
        "short-root": (
            "a 31-byte root, signed",
            sign_note(
                Checkpoint(ORIGIN, 7, root).to_body().replace(b64(root), b64(root[:31])), [SIGNER]
            ),
        ),
        "no-signature": ("no signature lines", body + "\n"),
        "origin-not-key-name": (
            "the origin differs from the key name",
            sign_note(Checkpoint("other.example/log", 7, root).to_body(), [SIGNER]),
        ),
    }
    for name, (description, text) in invalid.items():
        write(
            f"checkpoint/invalid-{name}.json",
            {
                "description": description,
                "verifier_key": vkey,
                "note": text,
                "valid": False,
            },
        )


def _member(n: int) -> str:
    """A member id of the vectors: ``m-`` and 20 hex digits (specs/plan.md §1)."""
    return f"m-{n:020x}"


def plan_vectors() -> None:
    """Worked examples of specs/plan.md §6 to §9."""
    from ledger.domain import sumtree
    from ledger.domain.apportion import apportion
    from ledger.domain.draw import draw, pool_root, pool_signature_message, secret_commitment
    from ledger.domain.draw import seed as make_seed
    from ledger.domain.periods import cutoff, period_open_at
    from ledger.domain.vote import sign_vote

    apportion_cases = {
        "basic": (
            "a 1,000-yuan claim shared by 7 members, one near the annual cap and one already at it",
            100_000,
            1_234,
            [
                (_member(1), 0),
                (_member(2), 500),
                (_member(3), 18_000),
                (_member(4), 18_800),
                (_member(5), 0),
                (_member(6), 100),
                (_member(7), 0),
            ],
        ),
        "credit": (
            "the carried-in surplus exceeds aid and fee: nobody pays, the rest carries",
            1_000,
            5_000,
            [(_member(1), 0), (_member(2), 0)],
        ),
        "rounding": (
            "aid that does not divide evenly: the share rounds up, the surplus carries out",
            1_000_003,
            0,
            [(_member(i), 0) for i in range(1, 10)],
        ),
    }
    for name, (description, aid, carry_in, members) in apportion_cases.items():
        result = apportion(
            aid_fen=aid, fee_bp=800, carry_in_fen=carry_in, annual_cap_fen=18_800, members=members
        )
        write(
            f"plan/apportion-{name}.json",
            {
                "description": description,
                "aid_fen": aid,
                "fee_bp": 800,
                "carry_in_fen": carry_in,
                "annual_cap_fen": 18_800,
                "members": [{"member": m, "charged_before_fen": c} for m, c in members],
                "expected": {
                    "fee_fen": result.fee_fen,
                    "share_fen": result.share_fen,
                    "carry_out_fen": result.carry_out_fen,
                    "subsidy_fen": result.subsidy_fen,
                    "capped_members": result.capped_members,
                    "charges": result.charges,
                },
            },
        )

    for size in (1, 5):
        leaves = [("m-%020x" % (i * 7919), 528 - i) for i in range(size)]
        nodes = [sumtree.leaf("2026-01a", m, a) for m, a in leaves]
        tree = sumtree.levels(nodes)
        top = sumtree.root(tree)
        node_json = lambda n: {"hash": b64(n.hash), "count": n.count, "total": n.total}  # noqa: E731
        write(
            f"plan/sumtree-{size}.json",
            {
                "description": f"the contribution sum tree of {size} members in period 2026-01a",
                "period": "2026-01a",
                "leaves": [{"member": m, "amount_fen": a} for m, a in leaves],
                "root": node_json(top),
                "proofs": [
                    {"index": i, "siblings": [node_json(n) for n in sumtree.proof(tree, i)]}
                    for i in range(size)
                ],
            },
        )

    claim = "c-1234"
    pool = sorted("m-%020x" % (i * 104729 + 17) for i in range(20))
    root_bytes = pool_root(claim, pool)
    signature = SIGNER.sign(pool_signature_message(ORIGIN, claim, root_bytes))
    secret = hashlib.sha256(b"the appellant's secret").digest()
    seed_bytes = make_seed(root_bytes, signature, secret)
    write(
        "plan/draw-basic.json",
        {
            "description": "a panel of 15 drawn from a pool of 20, signed with the test key",
            "origin": ORIGIN,
            "claim": claim,
            "pool": pool,
            "pool_root": root_bytes.hex(),
            "verifier_key": SIGNER.verifier().to_string(),
            "pool_signature": b64(signature),
            "secret": secret.hex(),
            "secret_commitment": secret_commitment(secret),
            "seed": seed_bytes.hex(),
            "panel_size": 15,
            "jurors": draw(pool, seed_bytes, 15),
        },
    )

    juror_seed = hashlib.sha256(b"tally test juror").digest()
    juror = Signer("juror", juror_seed).verifier()
    rationale = hashlib.sha256(
        b"The records show the diagnosis after the waiting period."
    ).hexdigest()
    good = sign_vote(juror_seed, ORIGIN, claim, "approve", rationale)
    for name, choice, signature_b64, valid in (
        ("valid", "approve", good, True),
        ("altered-choice", "deny", good, False),
        (
            "other-claim",
            "approve",
            sign_vote(juror_seed, ORIGIN, "c-1235", "approve", rationale),
            False,
        ),
    ):
        write(
            f"plan/vote-{name}.json",
            {
                "description": {
                    "valid": "a juror's signed vote",
                    "altered-choice": "the choice changed after signing",
                    "other-claim": "a signature made for another claim",
                }[name],
                "origin": ORIGIN,
                "claim": claim,
                "choice": choice,
                "rationale_hash": rationale,
                "juror_key": b64(juror.public_key),
                "signature": signature_b64,
                "valid": valid,
            },
        )

    times = [
        "2026-01-01T00:00:00Z",
        "2026-01-13T23:59:59Z",
        "2026-01-14T00:00:00Z",
        "2026-01-27T12:00:00Z",
        "2026-01-28T00:00:00Z",
        "2026-12-28T00:00:00Z",
        "2028-02-29T10:00:00Z",
    ]
    write(
        "plan/periods.json",
        {
            "description": "the period open at a time and its cutoff (specs/plan.md §8.1)",
            "cases": [
                {"time": t, "period_open": period_open_at(t), "cutoff": cutoff(period_open_at(t))}
                for t in times
            ],
        },
    )


def plan_log() -> None:
    """A small plan run end to end by the ledger's Plan, for replay by a verifier."""
    import random
    from dataclasses import replace

    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from ledger.domain.plan import Plan
    from ledger.domain.rules import reference_rules
    from ledger.domain.vote import sign_vote
    from ledger.instance import Ledger, Publisher

    start = "2025-01-01T00:00:00Z"
    rng = random.Random(20250101)  # noqa: S311 - vectors are reproducible by design
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(f"sqlite:///{tmp}/plan.db", create=True)
        store.create_schema()
        with store.writer() as conn:
            conn.exec_driver_sql(
                "INSERT INTO log_meta (id, schema_version, origin, verifier_key) "
                "VALUES (?, ?, ?, ?)",
                (1, 1, ORIGIN, SIGNER.verifier().to_string()),
            )
        log = Log(store)
        log.append(
            NewEntry(
                "log.genesis",
                "operator",
                {"origin": ORIGIN, "verifier_key": SIGNER.verifier().to_string()},
                time=start,
            )
        )
        ledger = Ledger(store, log, SIGNER, Publisher(store, SIGNER))
        plan = Plan(ledger, random_bytes=rng.randbytes)
        rules = replace(reference_rules(start, member_signatures=None), panel_size=3, quorum=2)
        plan.set_rules(rules, at=start)
        people = [
            m
            for m, _ in plan.join_many(
                [("0-39" if i % 2 else "40-59", {"n": i}) for i in range(8)],
                at="2025-01-02T00:00:00Z",
            )
        ]
        for day in ("2025-01-14", "2025-01-28"):
            plan.close_period(at=f"{day}T00:00:00Z")
        seeds = {}
        for i, person in enumerate(people[3:]):
            seeds[person] = hashlib.sha256(b"vector juror %d" % i).digest()
            key = (
                Ed25519PrivateKey.from_private_bytes(seeds[person]).public_key().public_bytes_raw()
            )
            plan.enrol_juror(person, key, at="2025-02-05T00:00:00Z")
        plan.close_period(at="2025-02-14T00:00:00Z")
        paid = plan.file_claim(
            people[0], "ACC", 2_000_000, "2025-02-15T00:00:00Z", b"e", at="2025-02-16T00:00:00Z"
        )
        plan.assess(paid, "approve", 2_000_000, "covered", b"r", at="2025-02-16T01:00:00Z")
        plan.disclose(paid, at="2025-02-16T02:00:00Z")
        appealed = plan.file_claim(
            people[1], "ACC", 900_000, "2025-02-15T00:00:00Z", b"e", at="2025-02-16T03:00:00Z"
        )
        plan.assess(appealed, "deny", 0, "not an accident", b"r", at="2025-02-16T04:00:00Z")
        plan.disclose(appealed, at="2025-02-16T05:00:00Z")
        secret = hashlib.sha256(b"vector appellant secret").digest()
        plan.appeal(
            appealed, people[1], hashlib.sha256(secret).hexdigest(), at="2025-02-17T00:00:00Z"
        )
        plan.sign_pool(appealed, at="2025-02-17T03:00:00Z")
        jurors = plan.draw_panel(appealed, secret, at="2025-02-17T06:00:00Z")
        rationale = hashlib.sha256(b"the fall is documented").hexdigest()
        for juror in jurors:
            signature = sign_vote(seeds[juror], ORIGIN, appealed, "approve", rationale)
            plan.cast_vote(
                appealed, juror, "approve", rationale, signature, at="2025-02-17T12:00:00Z"
            )
        plan.decide(appealed, at="2025-02-18T00:00:00Z")
        plan.pay(appealed, at="2025-02-19T06:00:00Z")
        plan.decide(paid, at="2025-02-23T00:00:00Z")
        plan.pay(paid, at="2025-02-23T00:00:01Z")
        plan.close_period(at="2025-02-28T00:00:00Z")
        ledger.publisher.publish()
        raws = [raw for _, raw in log.entries(0, log.size())]
        state = plan.state
        members = len(state.members)
        outcomes = {
            c.id: {"outcome": c.outcome, "paid_fen": c.paid_fen} for c in state.all_claims()
        }
        from api.statement import build_statement

        statement = build_statement(log, state, people[0], "2025-02b")
        closed = [c.body for c in state.closed]
        proofs = []
        for person in people[:2]:
            found = plan.contribution_proof("2025-02b", person)
            assert found is not None
            index, leaf, siblings, _ = found
            proofs.append(
                {
                    "member": person,
                    "index": index,
                    "amount_fen": leaf.total,
                    "siblings": [
                        {"hash": b64(n.hash), "count": n.count, "total": n.total} for n in siblings
                    ],
                }
            )
        store.dispose()
    write(
        "statement/statement.json",
        {
            "description": "the statement of the first member of plan/plan-log.json for "
            "period 2025-02b (specs/statement.md): a paid claim and a panel-overturned "
            "denial, every entry with its proof, the member's contributions that year",
            "request": f"/v1/members/{people[0]}/statement?period=2025-02b",
            "statement": statement,
        },
    )
    write(
        "plan/plan-log.json",
        {
            "description": "a small plan run end to end (rules with a panel of 3, 8 members, 5 "
            "jurors, a paid claim and a denial overturned by a drawn panel, four periods "
            "closed); replaying it must reproduce the period bodies and the panel",
            "origin": ORIGIN,
            "verifier_key": SIGNER.verifier().to_string(),
            "entries_b64": [b64(r) for r in raws],
            "expected": {
                "members": members,
                "claims": outcomes,
                "panel": {appealed: jurors},
                "periods": closed,
                "contribution_proofs": proofs,
            },
        },
    )


def main() -> None:
    """Regenerate every vector file (into the folder given as argument, by default here)."""
    global OUT
    if len(sys.argv) > 1:
        OUT = Path(sys.argv[1])
    keys()
    valid_entries()
    invalid_entries()
    raws = vector_log()
    broken_chains(raws)
    checkpoints()
    plan_vectors()
    plan_log()


if __name__ == "__main__":
    main()
