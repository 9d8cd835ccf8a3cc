"""The chain-and-tree replay (verifier.links): vectors, seams, and every break it names."""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from verifier.entry import ZERO_PREV, TimeBounds
from verifier.links import LinkReplay, Segment, scan
from verifier.merkle import leaf_hash, root_from_leaf_hashes

VECTORS = Path(__file__).resolve().parents[2] / "specs" / "vectors" / "log"


def load(name: str) -> dict[str, Any]:
    return json.loads((VECTORS / name).read_text())  # type: ignore[no-any-return]


def entry(seq: int, prev: str, time: str = "2026-01-01T00:00:00Z", **extra: Any) -> bytes:
    fields: dict[str, Any] = {
        "version": 1,
        "seq": seq,
        "time": time,
        "type": "log.genesis" if seq == 0 else "demo.thing",
        "prev": prev,
        "actor": "operator",
        "body": {"i": seq, "note": 'a "quoted" ,"prev":" in the body'},
    }
    fields.update(extra)
    return json.dumps(fields, sort_keys=True, separators=(",", ":")).encode()


def chain(n: int) -> list[bytes]:
    out: list[bytes] = []
    prev = ZERO_PREV
    for seq in range(n):
        raw = entry(seq, prev)
        out.append(raw)
        prev = hashlib.sha256(raw).hexdigest()
    return out


def replay(
    raws: list[bytes], cuts: Sequence[int] = (), times: TimeBounds | None = None
) -> LinkReplay:
    links = LinkReplay()
    bounds = [0, *sorted(set(cuts)), len(raws)]
    for begin, end in itertools.pairwise(bounds):
        links.join(scan(raws[begin:end], begin, times))
    return links


def test_the_vector_log_hashes_to_its_roots() -> None:
    case = load("log-7.json")
    raws = [base64.b64decode(e) for e in case["entries_b64"]]
    for size in range(len(raws) + 1):
        links = replay(raws[:size])
        assert links.break_count == 0
        assert links.tree.root() == base64.b64decode(case["roots"][str(size)])
        if size:
            assert links.last_hash == case["entry_hashes"][size - 1]


@pytest.mark.parametrize("path", sorted(VECTORS.glob("broken-*.json")), ids=lambda p: p.stem)
def test_broken_vectors_name_their_position(path: Path) -> None:
    case = json.loads(path.read_text())
    raws = [base64.b64decode(e) for e in case["entries_b64"]]
    times = None
    if "checked_at" in case:  # a checkpoint covering every entry, received then
        times = TimeBounds(((len(raws), case["checked_at"]),))
    for cuts in ([], [1], list(range(1, len(raws)))):
        links = replay(raws, cuts, times)
        assert links.breaks, f"{path.stem} with cuts {cuts}: no break found"
        assert links.breaks[0].seq == case["error_seq"]
        assert case["rule"] in links.breaks[0].message


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 70), st.lists(st.integers(1, 69), max_size=6))
def test_any_cutting_gives_the_same_root(n: int, cuts: list[int]) -> None:
    raws = chain(n)
    links = replay(raws, [c for c in cuts if c < n])
    assert links.break_count == 0
    assert links.next_seq == n
    assert links.tree.root() == root_from_leaf_hashes([leaf_hash(r) for r in raws])
    assert links.last_hash == (hashlib.sha256(raws[-1]).hexdigest() if raws else ZERO_PREV)


def test_resuming_from_a_saved_frontier() -> None:
    raws = chain(45)
    first = replay(raws[:29])
    resumed = LinkReplay(29, first.last_hash, "2026-01-01T00:00:00Z", first.tree.frontier)
    resumed.join(scan(raws[29:], 29))
    assert resumed.break_count == 0
    assert resumed.tree.root() == root_from_leaf_hashes([leaf_hash(r) for r in raws])


def test_an_altered_entry_breaks_the_next_link_at_a_seam_or_inside() -> None:
    raws = chain(20)
    raws[7] = raws[7].replace(b'"i":7', b'"i":8')
    for cuts in ([], [8], [7], [5, 12]):
        links = replay(raws, cuts)
        assert [b.seq for b in links.breaks] == [8]
        assert "SHA-256 of entry 7" in links.breaks[0].message


def test_time_going_back_at_a_seam_is_a_break() -> None:
    raws = chain(3)
    late = entry(3, hashlib.sha256(raws[2]).hexdigest(), time="2025-12-31T23:59:59Z")
    links = replay([*raws, late], [3])
    assert [b.seq for b in links.breaks] == [3]
    assert "log.time.order" in links.breaks[0].message


def test_an_unreadable_tail_is_a_break_and_the_chain_goes_on_from_its_bytes() -> None:
    raws = chain(6)
    raws[2] = raws[2].replace(b',"version":1}', b',"version":1,"x":0}')
    raws[3] = entry(3, hashlib.sha256(raws[2]).hexdigest())
    raws[4] = entry(4, hashlib.sha256(raws[3]).hexdigest())
    raws[5] = entry(5, hashlib.sha256(raws[4]).hexdigest())
    links = replay(raws)
    assert [b.seq for b in links.breaks] == [2]
    assert "cannot be read" in links.breaks[0].message


def test_a_wrong_seq_is_named() -> None:
    raws = chain(4)
    raws[2] = entry(5, hashlib.sha256(raws[1]).hexdigest())
    links = replay(raws)
    assert links.breaks[0].seq == 2
    assert "log.seq: expected seq 2 here, found 5" in links.breaks[0].message


def test_a_segment_must_start_where_the_replay_is() -> None:
    links = LinkReplay()
    with pytest.raises(ValueError, match="expected a segment from 0"):
        links.join(Segment(3))


def test_breaks_past_the_cap_are_counted() -> None:
    raws = [entry(i, ZERO_PREV) for i in range(150)]  # every prev but the first is wrong
    links = replay(raws, [75])
    assert links.break_count == 149
    assert len(links.breaks) == 100
