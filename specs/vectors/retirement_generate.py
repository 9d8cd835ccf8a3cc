"""Write the log-retirement vectors of specs/log.md §7 from the ledger's own code.

Run ``python specs/vectors/retirement_generate.py [OUT]``. It writes, under OUT
(by default this folder):

- ``retirement/retired.json``: a log of four entries retired by the ledger's own
  ``tally retire`` code (ledger.retirement) with the published test key, its final
  checkpoint, and the successor it names;
- ``retirement/invalid.json``: logs that break §7, each naming the first bad seq
  and why: an entry after the retirement, and retirements naming no proper
  successor; plus a checkpoint signed beyond the final one.

Entry times are fixed and Ed25519 signatures deterministic, so the files come out
byte for byte the same; a test regenerates them and fails if any byte changes.
"""

from __future__ import annotations

import base64
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))

from ledger.clock import SimulatedClock  # noqa: E402
from ledger.instance import Ledger  # noqa: E402
from ledger.log.entry import RETIRED_TYPE, encode_entry, entry_hash  # noqa: E402
from ledger.log.log import Log, NewEntry  # noqa: E402
from ledger.log.store import Store, meta_table  # noqa: E402
from ledger.log.tree import Frontier, leaf_hash  # noqa: E402
from ledger.publish.checkpoint import Checkpoint  # noqa: E402
from ledger.publish.note import Signer, parse_signer_key, sign_note  # noqa: E402
from ledger.publish.publisher import Publisher  # noqa: E402
from ledger.retirement import retire  # noqa: E402

SUCCESSOR_ORIGIN = "vectors.tally.example/log2"
SUCCESSOR = Signer(SUCCESSOR_ORIGIN, b"\x02" * 32)
TIMES = [f"2026-02-01T00:00:{n * 5:02d}Z" for n in range(8)]


def b64(data: bytes) -> str:
    """Standard base64 with padding."""
    return base64.b64encode(data).decode()


def retired_log(signer: Signer) -> tuple[list[bytes], str]:
    """Genesis, two entries and ``log.retired``, through the real sequencer; the final note."""
    origin, vkey = signer.name, signer.verifier().to_string()
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(f"sqlite:///{tmp}/r.db", create=True)
        store.create_schema()
        with store.writer() as conn:
            conn.execute(
                meta_table.insert(),
                {"id": 1, "schema_version": 1, "origin": origin, "verifier_key": vkey},
            )
        log = Log(store)
        ledger = Ledger(store, log, signer, Publisher(store, signer))
        log.append(
            NewEntry("log.genesis", "operator", {"origin": origin, "verifier_key": vkey}, TIMES[0])
        )
        log.append(NewEntry("demo.contribution", "operator", {"amount_fen": 528}, TIMES[1]))
        log.append(NewEntry("demo.note", "operator", {"text": "moving on"}, TIMES[2]))
        ledger.publisher.publish()
        _, final = retire(
            ledger,
            SUCCESSOR_ORIGIN,
            SUCCESSOR.verifier().to_string(),
            clock=SimulatedClock(TIMES[3]),
            at=TIMES[3],
        )
        raws = [raw for _, raw in log.entries(0, log.size())]
        store.dispose()
    return raws, final.note


def remade(raws: list[bytes], seq: int, type_: str, body: dict[str, Any]) -> list[bytes]:
    """``raws`` cut at ``seq``, with a new entry there, chained to the one before."""
    prev = entry_hash(raws[seq - 1])
    raw = encode_entry(seq=seq, time=TIMES[seq], type=type_, prev=prev, actor="operator", body=body)
    return [*raws[:seq], raw]


def root(raws: list[bytes]) -> bytes:
    """The RFC 9162 root of the entries."""
    frontier = Frontier(0, [])
    for raw in raws:
        frontier.append(leaf_hash(raw))
    return frontier.root()


def main() -> None:
    """Write both vector files under the folder given (default: this one)."""
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE
    key = json.loads((HERE / "keys" / "log-key.json").read_text())
    signer = parse_signer_key(key["signer_key"])
    raws, final = retired_log(signer)
    successor = {
        "origin": SUCCESSOR_ORIGIN,
        "verifier_key": SUCCESSOR.verifier().to_string(),
    }
    seq = len(raws) - 1
    good = {
        "successor_origin": successor["origin"],
        "successor_verifier_key": successor["verifier_key"],
    }
    after = [
        *raws,
        encode_entry(
            seq=seq + 1,
            time=TIMES[seq + 1],
            type="demo.note",
            prev=entry_hash(raws[-1]),
            actor="operator",
            body={"text": "one more"},
        ),
    ]
    beyond = sign_note(Checkpoint(signer.name, len(after), root(after)).to_body(), [signer])
    other_key = Signer("someone.else/log", b"\x03" * 32).verifier().to_string()
    cases = [
        ("an entry appended after the retirement", after, "after_retirement", seq + 1),
        (
            "the successor is this log itself",
            remade(
                raws,
                seq,
                RETIRED_TYPE,
                {"successor_origin": signer.name, "successor_verifier_key": key["verifier_key"]},
            ),
            "retirement_body",
            seq,
        ),
        (
            "the successor's key is named after another origin",
            remade(raws, seq, RETIRED_TYPE, {**good, "successor_verifier_key": other_key}),
            "retirement_body",
            seq,
        ),
        (
            "the successor's key is this log's key",
            remade(
                raws, seq, RETIRED_TYPE, {**good, "successor_verifier_key": key["verifier_key"]}
            ),
            "retirement_body",
            seq,
        ),
        (
            "the body has a key more than the two of the spec",
            remade(raws, seq, RETIRED_TYPE, {**good, "reason": "key leaked"}),
            "retirement_body",
            seq,
        ),
        (
            "no successor key",
            remade(raws, seq, RETIRED_TYPE, {"successor_origin": successor["origin"]}),
            "retirement_body",
            seq,
        ),
    ]
    target = out / "retirement"
    target.mkdir(parents=True, exist_ok=True)
    write(
        target / "retired.json",
        {
            "description": "A log of four entries whose last, log.retired, names its "
            "successor; the final checkpoint, signed with the test key, covers it. Nothing "
            "may follow it, and no larger checkpoint may be signed.",
            "origin": signer.name,
            "verifier_key": key["verifier_key"],
            "entries_b64": [b64(r) for r in raws],
            "retired_seq": seq,
            "successor": successor,
            "final_checkpoint": final,
        },
    )
    write(
        target / "invalid.json",
        {
            "description": "Logs that break specs/log.md §7; error_seq is the first bad "
            "entry. beyond_final is a checkpoint of the 'after' log signed by the test key: "
            "with the final checkpoint it proves the key signed past the end.",
            "origin": signer.name,
            "verifier_key": key["verifier_key"],
            "cases": [
                {
                    "description": description,
                    "entries_b64": [b64(r) for r in entries],
                    "error": error,
                    "rule": "log.retired",
                    "error_seq": error_seq,
                }
                for description, entries, error, error_seq in cases
            ],
            "beyond_final": beyond,
        },
    )


def write(path: Path, value: dict[str, Any]) -> None:
    """One vector file, sorted and indented so that diffs stay readable."""
    path.write_text(json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
