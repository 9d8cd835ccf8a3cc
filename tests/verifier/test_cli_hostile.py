"""``tally-verify`` against a hostile server: every lie or breakage gets the right exit code.

The server here is a real HTTP server on loopback serving a log built from the
specs alone (:class:`FakeLog`), with one thing wrong per test. Which exit each case
deserves:

- **1, verification failure**: the answer is well-formed but a check on the log's
  data fails: a checkpoint not signed by the pinned key or naming another origin,
  an entry that breaks the entry or chain rules, a decoded entry that misrepresents
  its bytes, entries that do not hash to the signed root. The log (or whoever
  serves it) presented something false.
- **3, fork**: the new checkpoint *is* signed by the pinned key, and the log cannot
  show it extends the saved one: a consistency proof of well-formed 32-byte hashes
  that does not verify. Two signed checkpoints are then in conflict as far as the
  member can tell; the evidence file records it (as not conclusive, see
  :mod:`verifier.fork`).
- **4, server error**: the answer is not an answer in the contract at all: the
  server is unreachable or slow, says 500, sends garbage, too much, or too little,
  labels a page's entries out of order, duplicated or with a gap, or sends a proof
  whose hashes are not 32 bytes. Nothing is concluded about the log from it, and
  the saved state is left as it was.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.plan_entries import joined_body
from tests.verifier.cli_support import FakeLog, HostileServer, Reply, run, run_json
from tests.verifier.helpers import sign_note
from verifier.audit import fetch_pages
from verifier.client import MAX_RESPONSE_BYTES, LogClient
from verifier.errors import ServerError

OTHER_SEED = b"\x09" * 32


@pytest.fixture
def fake() -> FakeLog:
    return FakeLog().grow(9)  # 10 entries


@pytest.fixture
def server(fake: FakeLog) -> Iterator[HostileServer]:
    with HostileServer(fake.route) as served:
        yield served


@pytest.fixture
def state(tmp_path: Path, fake: FakeLog, server: HostileServer) -> Path:
    """A state initialised against the server while it still behaved."""
    folder = tmp_path / "state"
    result = run(folder, "init", server.url, "--key", fake.key)
    assert result.exit_code == 0, result.output
    return folder


def saved_state(state: Path) -> str:
    return (state / "state.json").read_text()


def serve(server: HostileServer, fake: FakeLog, path: str, reply: Any) -> None:
    """Answer ``path`` with ``reply`` (a Reply, or a function of the params), the rest as ``fake``.

    Only ``path`` changes; every other endpoint still answers correctly.
    """

    def route(p: str, params: dict[str, int]) -> Reply:
        if p == path:
            return reply(params) if callable(reply) else reply  # type: ignore[no-any-return]
        return fake.route(p, params)

    server.route = route


# -- exit 1: the data is false ---------------------------------------------------------


def test_checkpoint_signed_by_another_key(
    fake: FakeLog, server: HostileServer, state: Path
) -> None:
    before = saved_state(state)
    impostor = FakeLog(seed=OTHER_SEED).grow(15)
    serve(server, fake, "/v1/checkpoint", Reply.text(impostor.checkpoint()))
    result = run(state, "checkpoint")
    assert result.exit_code == 1, result.output
    assert "Verification failed: no signature from a known key" in result.stderr
    assert saved_state(state) == before


def test_checkpoint_naming_another_origin(
    fake: FakeLog, server: HostileServer, state: Path
) -> None:
    body = f"evil.example/log\n10\n{base64.b64encode(fake.root()).decode()}\n"
    note = sign_note(body, (fake.origin, fake.seed))  # the right key, the wrong log
    serve(server, fake, "/v1/checkpoint", Reply.text(note))
    result = run(state, "checkpoint")
    assert result.exit_code == 1, result.output
    assert "checkpoint origin must be the key name 'hostile.example/log'" in result.stderr


def test_init_with_a_checkpoint_of_another_key_fails(
    fake: FakeLog, server: HostileServer, tmp_path: Path
) -> None:
    serve(server, fake, "/v1/checkpoint", Reply.text(FakeLog(seed=OTHER_SEED).checkpoint()))
    result = run(tmp_path / "s", "init", server.url, "--key", fake.key)
    assert result.exit_code == 1
    assert not (tmp_path / "s" / "state.json").exists()


def test_leaf_bytes_differ_from_the_decoded_entry(
    fake: FakeLog, server: HostileServer, state: Path
) -> None:
    """The exact bytes are fine, but ``entry`` shows the reader something else."""

    def page(params: dict[str, int]) -> Reply:
        items = fake.page(params["start"], params["end"])
        items[3]["entry"]["body"]["age_band"] = "40-59"
        return Reply.json({"entries": items})

    serve(server, fake, "/v1/entries", page)
    code, doc = run_json(state, "audit")
    assert code == 1
    assert [v["seq"] for v in doc["violations"]] == [3]
    assert (
        "decoded 'entry' is not what the entry's exact bytes say" in doc["violations"][0]["message"]
    )
    assert json.loads(saved_state(state))["audit"] is None


def test_an_altered_entry_breaks_the_chain(
    fake: FakeLog, server: HostileServer, state: Path
) -> None:
    """Entry 5's body is changed (still a well-formed entry): entry 6 no longer chains to it."""
    altered = list(fake.entries)
    altered[5] = altered[5].replace(b'"age_band":"0-39"', b'"age_band":"40-59"')
    lying = FakeLog(entries=altered)
    serve(server, fake, "/v1/entries", lambda p: Reply.json({"entries": lying.page(**p)}))
    result = run(state, "audit")
    assert result.exit_code == 1, result.output
    assert "Audit failed: 2 violation(s) found:" in result.stderr
    assert "  seq 6: log.prev (log.md §3): prev must be" in result.stderr
    assert "(SHA-256 of entry 5)" in result.stderr
    assert "but the signed checkpoint of that size has" in result.stderr


def test_a_non_canonical_entry_is_named(fake: FakeLog, server: HostileServer, state: Path) -> None:
    altered = list(fake.entries)
    altered[2] = altered[2].replace(b'"seq":2', b'"seq": 2')
    lying = FakeLog(entries=altered)
    serve(server, fake, "/v1/entries", lambda p: Reply.json({"entries": lying.page(**p)}))
    code, doc = run_json(state, "audit")
    assert code == 1
    assert doc["violations"][0]["seq"] == 2
    assert "not_canonical" in doc["violations"][0]["message"]


def test_genesis_naming_another_key(tmp_path: Path) -> None:
    """A log whose genesis commits to another key is refused at seq 0."""
    honest = FakeLog().grow(3)
    genesis = FakeLog.make(
        0, "0" * 64, "log.genesis", {"origin": honest.origin, "verifier_key": "x+00000000+AA=="}
    )
    forged = FakeLog(entries=[genesis])
    forged.seed = honest.seed
    forged.grow(3)
    with HostileServer(forged.route) as server:
        folder = tmp_path / "s"
        assert run(folder, "init", server.url, "--key", honest.key).exit_code == 0
        code, doc = run_json(folder, "audit")
    assert code == 1
    assert doc["violations"][0]["seq"] == 0
    assert "the genesis entry must name the pinned log" in doc["violations"][0]["message"]


# -- exit 3: the signed checkpoints conflict ------------------------------------------------


def test_wrong_proof_hashes_for_a_validly_signed_checkpoint(
    fake: FakeLog, server: HostileServer, state: Path, tmp_path: Path
) -> None:
    """Exit 3: the key signed 10 and 20 entries, and the log's proof between them fails."""
    before = saved_state(state)
    fake.grow(10)
    wrong = [base64.b64encode(os.urandom(32)).decode() for _ in fake.proof(10, 20)]
    serve(
        server,
        fake,
        "/v1/proof/consistency",
        Reply.json({"first": 10, "second": 20, "hashes": wrong}),
    )
    evidence = tmp_path / "evidence.json"
    result = run(state, "checkpoint", "--evidence", str(evidence))
    assert result.exit_code == 3, result.output
    assert "FORK: the operator has shown two different histories" in result.stderr
    assert "the log's proof that the second extends the first does not verify" in result.stderr
    assert saved_state(state) == before
    doc = json.loads(evidence.read_text())
    assert doc["kind"] == "unproven"
    assert doc["conclusive"] is False
    assert doc["consistency_proof"]["hashes"] == wrong

    checked = run(state, "evidence", str(evidence))
    assert checked.exit_code == 3
    assert "rests on what the verifier recorded the server answering" in checked.stdout


# -- exit 4: not an answer in the contract ---------------------------------------------------


@pytest.mark.parametrize(
    ("body", "says"),
    [
        (b"{not json", "expected JSON, found a syntax error"),
        (b"[1, 2]", "expected a JSON object, found an array"),
        (b'{"origin": NaN}', "NaN, which is not JSON"),
        (b'{"origin": "a", "origin": "b"}', "the key 'origin' twice"),
        (b'{"origin": "a", "verifier_key": "b", "tree_size": "10"}', "found a string"),
        (b'{"origin": "a", "verifier_key": "b", "tree_size": 1.5}', "not an integer"),
        (b'{"origin": "a", "verifier_key": "b"}', "expected a member 'tree_size'"),
        (b"\xff\xfe", "expected UTF-8 JSON"),
        (b'{"tree_size": 1' + b"0" * 5000 + b"}", "longer than any the contract has"),
        (b"[" * 100_000, "expected JSON, found nesting too deep"),
    ],
)
def test_garbage_json(
    fake: FakeLog, server: HostileServer, tmp_path: Path, body: bytes, says: str
) -> None:
    serve(server, fake, "/v1/log", Reply(body))
    result = run(tmp_path / "s", "init", server.url)
    assert result.exit_code == 4, result.output
    assert "Server error: /v1/log: " in result.stderr
    assert says in result.stderr


def test_wrong_content_type(fake: FakeLog, server: HostileServer, state: Path) -> None:
    serve(server, fake, "/v1/checkpoint", Reply(fake.checkpoint().encode()))  # as JSON
    result = run(state, "checkpoint")
    assert result.exit_code == 4
    assert "expected content type text/plain" in result.stderr


def test_truncated_body(fake: FakeLog, server: HostileServer, state: Path) -> None:
    note = fake.checkpoint().encode()
    reply = Reply(note[:40], content_type="text/plain", content_length=len(note))
    serve(server, fake, "/v1/checkpoint", reply)
    result = run(state, "checkpoint")
    assert result.exit_code == 4, result.output
    assert "the answer broke off" in result.stderr


def test_truncated_json_without_a_length(fake: FakeLog, server: HostileServer, state: Path) -> None:
    full = json.dumps({"entries": fake.page(0, 10)}).encode()
    serve(server, fake, "/v1/entries", Reply(b"", chunks=[full[: len(full) // 2]]))
    result = run(state, "audit")
    assert result.exit_code == 4, result.output
    assert "expected JSON, found a syntax error" in result.stderr


def test_declared_length_over_the_cap(fake: FakeLog, server: HostileServer, state: Path) -> None:
    serve(
        server,
        fake,
        "/v1/checkpoint",
        Reply(b"", content_type="text/plain", content_length=MAX_RESPONSE_BYTES + 1),
    )
    result = run(state, "checkpoint")
    assert result.exit_code == 4
    assert "more than the 16,777,216 this client reads" in result.stderr


def test_streamed_answer_over_the_cap(fake: FakeLog, server: HostileServer, state: Path) -> None:
    chunk = b" " * (1024 * 1024)
    serve(
        server, fake, "/v1/checkpoint", Reply(b"", content_type="text/plain", chunks=[chunk] * 17)
    )
    result = run(state, "checkpoint")
    assert result.exit_code == 4
    assert "went past the 16,777,216 bytes" in result.stderr


def test_slow_answer_times_out(fake: FakeLog, server: HostileServer, state: Path) -> None:
    serve(server, fake, "/v1/checkpoint", Reply.text(fake.checkpoint()))
    server.route = _delayed(server.route, 3.0)
    result = run(state, "checkpoint", timeout=0.5)
    assert result.exit_code == 4
    # The message shows the client gave up at its own timeout, not the server's 3 s.
    assert "no answer within the 0.5-second timeout" in result.stderr


def _delayed(route: Any, seconds: float) -> Any:
    def slow(path: str, params: dict[str, int]) -> Reply:
        reply: Reply = route(path, params)
        reply.delay = seconds
        return reply

    return slow


def test_a_dripping_answer_hits_the_deadline(
    fake: FakeLog, server: HostileServer, state: Path
) -> None:
    """Each byte comes within the read timeout, but the whole answer never does."""

    def drip() -> Iterator[bytes]:
        for _ in range(100):
            time.sleep(0.02)
            yield b" "

    serve(server, fake, "/v1/checkpoint", Reply(b"", content_type="text/plain", chunks=drip()))
    result = run(state, "checkpoint", timeout=0.1)
    assert result.exit_code == 4, result.output
    assert "the answer took longer than 1 seconds" in result.stderr


@pytest.mark.parametrize(
    ("order", "says"),
    [
        ([0, 2, 1, 3], "entry [1] must have seq 1, found seq 2 (a gap)"),
        ([0, 1, 1, 2], "entry [2] must have seq 2, found seq 1 (a repeat)"),
        ([0, 1, 3, 4], "entry [2] must have seq 2, found seq 3 (a gap)"),
        ([1, 2, 3], "entry [0] must have seq 0, found seq 1 (a gap)"),
        ([], "expected at least entry 0, found an empty page"),
        (list(range(11)), "expected at most 10 entries, found 11"),
    ],
)
def test_entries_out_of_order_duplicated_or_with_a_gap(
    fake: FakeLog, server: HostileServer, state: Path, order: list[int], says: str
) -> None:
    """The page's own seq labels break the contract: a server error, not a verdict on the log."""
    everything = FakeLog(entries=[*fake.entries, fake.entries[-1]]).page(0, 11)
    serve(server, fake, "/v1/entries", Reply.json({"entries": [everything[i] for i in order]}))
    result = run(state, "audit")
    assert result.exit_code == 4, result.output
    assert says in result.stderr
    assert json.loads(saved_state(state))["audit"] is None


def test_an_empty_page_before_the_end(fake: FakeLog, server: HostileServer, state: Path) -> None:
    def page(params: dict[str, int]) -> Reply:
        if params["start"] >= 4:
            return Reply.json({"entries": []})
        return Reply.json({"entries": fake.page(params["start"], 4)})

    serve(server, fake, "/v1/entries", page)
    result = run(state, "audit")
    assert result.exit_code == 4
    assert "/v1/entries?start=4&end=10: expected at least entry 4, found an empty page" in (
        result.stderr
    )
    assert json.loads(saved_state(state))["audit"]["next_seq"] == 4


@pytest.mark.parametrize(
    ("proof", "says"),
    [
        (
            {"first": 10, "second": 20, "hashes": ["AAAA"]},
            "expected base64 of 32 bytes, found 3 bytes",
        ),
        ({"first": 10, "second": 20, "hashes": ["not base64!"]}, "expected standard base64"),
        ({"first": 9, "second": 20, "hashes": []}, "expected first 10, found 9"),
        ({"first": 10, "second": 20, "hashes": "x"}, "expected 'hashes' to be an array"),
    ],
)
def test_malformed_proofs(
    fake: FakeLog, server: HostileServer, state: Path, proof: dict[str, Any], says: str
) -> None:
    fake.grow(10)
    serve(server, fake, "/v1/proof/consistency", Reply.json(proof))
    result = run(state, "checkpoint")
    assert result.exit_code == 4, result.output
    assert says in result.stderr


def test_http_500(fake: FakeLog, server: HostileServer, state: Path) -> None:
    problem = {"type": "about:blank", "title": "Error", "status": 500, "detail": "disk on fire"}
    serve(server, fake, "/v1/checkpoint", Reply.json(problem, 500))
    result = run(state, "checkpoint")
    assert result.exit_code == 4
    assert "expected HTTP 200, found 500 Internal Server Error: 'disk on fire'" in result.stderr
    assert "Nothing was concluded about the log" in result.stderr


def test_no_checkpoint_yet(fake: FakeLog, server: HostileServer, tmp_path: Path) -> None:
    serve(server, fake, "/v1/checkpoint", Reply.json({"detail": "none signed"}, 404))
    result = run(tmp_path / "s", "init", server.url, "--key", fake.key)
    assert result.exit_code == 4
    assert "404" in result.stderr


def test_server_text_cannot_drive_the_terminal(
    fake: FakeLog, server: HostileServer, state: Path
) -> None:
    problem = {"detail": "\x1b[2J\x1b]0;owned\x07 [bold]x[/bold]"}
    serve(server, fake, "/v1/checkpoint", Reply.json(problem, 503))
    result = run(state, "checkpoint")
    assert result.exit_code == 4
    assert "\x1b" not in result.output
    assert "\x07" not in result.output
    assert "[bold]x[/bold]" in result.stderr  # printed as text, not markup


def test_json_output_for_a_server_error(fake: FakeLog, server: HostileServer, state: Path) -> None:
    serve(server, fake, "/v1/checkpoint", Reply.json({}, 502))
    code, doc = run_json(state, "checkpoint")
    assert code == 4
    assert doc["ok"] is False
    assert doc["error"] == "server_error"
    assert doc["exit_code"] == 4


# -- the client on its own --------------------------------------------------------------------


def test_pages_too_large_for_the_cap_are_asked_again_smaller(
    fake: FakeLog, server: HostileServer
) -> None:
    fake.grow(40)
    with LogClient(server.url, max_bytes=3000) as client:
        pages = list(fetch_pages(client, 0, fake.size))
    assert [e.raw for page in pages for e in page] == fake.entries
    assert len(pages) > 1


def test_a_single_entry_over_the_cap_is_a_server_error(
    fake: FakeLog, server: HostileServer
) -> None:
    with LogClient(server.url, max_bytes=100) as client, pytest.raises(ServerError):
        list(fetch_pages(client, 0, fake.size))


@pytest.mark.parametrize(
    "url",
    ["ftp://example.org/log", "example.org/log", "http://", "http://h/log?x=1"],
)
def test_urls_that_are_not_a_log_base(url: str, tmp_path: Path) -> None:
    result = run(tmp_path / "s", "init", url)
    assert result.exit_code == 2
    assert "expected" in result.stderr


def test_an_entry_dated_in_the_future_is_named(tmp_path: Path) -> None:
    """log.md §3: no entry more than 600 s later than when its checkpoint was received."""
    fake = FakeLog().grow(5)
    prev = hashlib.sha256(fake.entries[-1]).hexdigest()
    fake.entries.append(
        FakeLog.make(
            len(fake.entries),
            prev,
            "member.joined",
            joined_body("a", 99),
            time="2099-01-01T00:00:00Z",
        )
    )
    with HostileServer(fake.route) as server:
        folder = tmp_path / "s"
        assert run(folder, "init", server.url, "--key", fake.key).exit_code == 0
        code, doc = run_json(folder, "audit")
        assert code == 1
        assert (doc["violations"][0]["seq"], doc["violations"][0]["rule"]) == (6, "log.time.ahead")
        code, doc = run_json(folder, "audit", "--log-only")
        assert code == 1
        assert doc["violations"][0]["seq"] == 6
        assert "log.time.ahead" in doc["violations"][0]["message"]
