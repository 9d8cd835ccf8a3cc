"""The page's verifier, a third implementation of specs/, against the vectors, in the browser.

Each vector file is handed to the JavaScript modules the page itself loads (from the
live server), so what is tested is exactly what a member's browser runs.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import SPEC_VECTORS
from verifier.note import parse_verifier_key
from verifier.statement import parse_bundle_bytes, verify_bundle


@pytest.fixture(scope="module")
def page(browser: Any, server: str) -> Any:
    """One page of the live site, to import the verifier's modules from."""
    context = browser.new_context()
    page = context.new_page()
    page.goto(server + "#/key")
    page.wait_for_selector("main[data-ready='true']")
    yield page
    context.close()


def run(page: Any, script: str, arg: object) -> Any:
    return page.evaluate(script, arg)


def load(*parts: str) -> Any:
    return json.loads(SPEC_VECTORS.joinpath(*parts).read_text())


ENTRY = """async (v) => {
  const { parseEntry, chainHash, leafHash } = await import("./site/js/verify/entry.js");
  const { fromBase64, toHex } = await import("./site/js/verify/bytes.js");
  const raw = fromBase64(v.entry_b64);
  try {
    const e = parseEntry(raw);
    const leaf = toHex(await leafHash(raw));
    return { ok: true, seq: e.seq, type: e.type, chain: await chainHash(raw), leaf };
  } catch (err) { return { ok: false, kind: err.kind ?? "crash: " + err.message }; }
}"""


@pytest.mark.parametrize(
    "path",
    sorted((SPEC_VECTORS / "entries").glob("*/*.json")),
    ids=lambda p: f"{p.parent.name}/{p.stem}",
)
def test_entries(page: Any, path: Path) -> None:
    vector = json.loads(path.read_text())
    got = run(page, ENTRY, vector)
    if path.parent.name == "valid":
        assert got == {
            "ok": True,
            "seq": vector["seq"],
            "type": vector["type"],
            "chain": vector["entry_hash"],
            "leaf": base64.b64decode(vector["leaf_hash"]).hex(),
        }
    else:
        assert got == {"ok": False, "kind": vector["error"]}


CHECKPOINT = """async (v) => {
  const { verifyCheckpoint } = await import("./site/js/verify/checkpoint.js");
  const { parseVerifierKey } = await import("./site/js/verify/note.js");
  const { toBase64 } = await import("./site/js/verify/bytes.js");
  try {
    const cp = await verifyCheckpoint(v.note, await parseVerifierKey(v.verifier_key));
    return { ok: true, size: String(cp.size), root: toBase64(cp.root), origin: cp.origin };
  } catch (err) { return { ok: false, why: err.message }; }
}"""


@pytest.mark.parametrize(
    "path", sorted((SPEC_VECTORS / "checkpoint").glob("*.json")), ids=lambda p: p.stem
)
def test_checkpoints(page: Any, path: Path) -> None:
    vector = json.loads(path.read_text())
    got = run(page, CHECKPOINT, vector)
    assert got["ok"] is vector["valid"], got
    if vector["valid"]:
        assert (got["size"], got["root"], got["origin"]) == (
            str(vector["tree_size"]),
            vector["root"],
            vector["origin"],
        )


NOTE = """async (v) => {
  const { openNote, parseVerifierKey } = await import("./site/js/verify/note.js");
  const key = await parseVerifierKey(v.verifier_key);
  try { return { ok: true, body: await openNote(v.note, [key]) }; }
  catch (err) { return { ok: false, why: err.message }; }
}"""


def test_signed_notes(page: Any, shared_vectors: Path) -> None:
    for vector in json.loads((shared_vectors / "signed-note.json").read_text())["vectors"]:
        got = run(page, NOTE, vector)
        assert got["ok"] is vector["valid"], (vector["name"], got)
        assert vector["note"].startswith(got["body"])
    checkpoint = load("checkpoint", "valid.json")
    unknown = json.loads((shared_vectors / "signed-note.json").read_text())["vectors"][0][
        "verifier_key"
    ]
    got = run(page, NOTE, {**checkpoint, "verifier_key": unknown})
    assert got["ok"] is False
    assert "no signature from a known key" in got["why"]


INCLUSION = """async (cases) => {
  const { verifyInclusion } = await import("./site/js/verify/merkle.js");
  const { fromBase64 } = await import("./site/js/verify/bytes.js");
  const b = (x) => (x === null ? new Uint8Array(0) : fromBase64(x));
  const out = [];
  for (const c of cases) {
    const proof = (c.proof ?? []).map(b);
    try {
      await verifyInclusion(BigInt(c.leafIdx), BigInt(c.treeSize), b(c.leafHash), proof, b(c.root));
      out.push(true);
    }
    catch { out.push(false); }
  }
  return out;
}"""
CONSISTENCY = """async (cases) => {
  const { verifyConsistency } = await import("./site/js/verify/merkle.js");
  const { fromBase64 } = await import("./site/js/verify/bytes.js");
  const b = (x) => (x === null ? new Uint8Array(0) : fromBase64(x));
  const out = [];
  for (const c of cases) {
    const proof = (c.proof ?? []).map(b);
    try {
      await verifyConsistency(BigInt(c.size1), BigInt(c.size2), b(c.root1), b(c.root2), proof);
      out.push(true);
    }
    catch { out.push(false); }
  }
  return out;
}"""


def test_rfc9162_inclusion(page: Any, shared_vectors: Path) -> None:
    cases = [
        json.loads(p.read_text())
        for p in sorted((shared_vectors / "rfc9162" / "inclusion").rglob("*.json"))
    ]
    assert len(cases) > 50
    assert run(page, INCLUSION, cases) == [not c["wantErr"] for c in cases]


BATCH = """async (groups) => {
  const { verifyInclusions } = await import("./site/js/verify/merkle.js");
  const { fromBase64 } = await import("./site/js/verify/bytes.js");
  const b = (x) => (x === null ? new Uint8Array(0) : fromBase64(x));
  const out = [];
  for (const g of groups) {
    const items = g.cases.map((c) => (
      { index: c.leafIdx, leaf: b(c.leafHash), proof: (c.proof ?? []).map(b) }));
    out.push((await verifyInclusions(items, BigInt(g.size), b(g.root))).map((e) => e === null));
  }
  return out;
}"""


def test_rfc9162_inclusion_walked_together(page: Any, shared_vectors: Path) -> None:
    """The statement walks all its proofs at once (verifyInclusions): the same verdicts."""
    cases = [
        json.loads(p.read_text())
        for p in sorted((shared_vectors / "rfc9162" / "inclusion").rglob("*.json"))
    ]
    alone = [{"size": c["treeSize"], "root": c["root"], "cases": [c]} for c in cases]
    assert run(page, BATCH, alone) == [[not c["wantErr"]] for c in cases]
    log = load("log", "log-7.json")
    together = []
    for size in range(1, 8):
        proofs = [p for p in log["inclusion"] if p["tree_size"] == size]
        good = [
            {"leafIdx": p["seq"], "leafHash": log["leaf_hashes"][p["seq"]], "proof": p["hashes"]}
            for p in proofs
        ]
        bad = (
            [{**c, "leafHash": log["leaf_hashes"][(c["leafIdx"] + 1) % 7]} for c in good]
            if size > 1
            else []
        )
        together.append({"size": size, "root": log["roots"][str(size)], "cases": good + bad})
    expected = []
    for g in together:
        half = len(g["cases"]) // 2 if g["size"] > 1 else len(g["cases"])
        expected.append([True] * half + [False] * (len(g["cases"]) - half))
    assert run(page, BATCH, together) == expected


def test_rfc9162_consistency(page: Any, shared_vectors: Path) -> None:
    cases = [
        json.loads(p.read_text())
        for p in sorted((shared_vectors / "rfc9162" / "consistency").rglob("*.json"))
    ]
    assert len(cases) > 50
    assert run(page, CONSISTENCY, cases) == [not c["wantErr"] for c in cases]


def test_log7_proofs(page: Any) -> None:
    log = load("log", "log-7.json")
    leaves = log["leaf_hashes"]
    inclusion = [
        {
            "leafIdx": p["seq"],
            "treeSize": p["tree_size"],
            "leafHash": leaves[p["seq"]],
            "proof": p["hashes"],
            "root": log["roots"][str(p["tree_size"])],
        }
        for p in log["inclusion"]
    ]
    consistency = [
        {
            "size1": p["first"],
            "size2": p["second"],
            "root1": log["roots"][str(p["first"])],
            "root2": log["roots"][str(p["second"])],
            "proof": p["hashes"],
        }
        for p in log["consistency"]
    ]
    assert run(page, INCLUSION, inclusion) == [True] * len(inclusion)
    assert run(page, CONSISTENCY, consistency) == [True] * len(consistency)
    swapped = [
        {**c, "root1": c["root2"], "root2": c["root1"]}
        for c in consistency
        if c["size1"] != c["size2"]
    ]
    assert run(page, CONSISTENCY, swapped) == [False] * len(swapped)


SUMTREE = """async (v) => {
  const { leaf, makeNode, verifySumProof } = await import("./site/js/plan/sumtree.js");
  const { fromBase64 } = await import("./site/js/verify/bytes.js");
  const root = makeNode(fromBase64(v.root.hash), v.root.count, v.root.total);
  const out = [];
  for (const [i, p] of v.proofs.entries()) {
    const l = v.leaves[i];
    const sibs = p.siblings.map((s) => makeNode(fromBase64(s.hash), s.count, s.total));
    const check = async (amount, sib) => {
      const node = await leaf(v.period, l.member, amount);
      try { await verifySumProof(node, p.index, v.root.count, sib, root); return true; }
      catch { return false; }
    };
    const bumped = sibs.map((s, k) => (k === 0 ? { ...s, total: s.total + 1n } : s));
    out.push([
      await check(l.amount_fen, sibs),
      await check(l.amount_fen + 1, sibs),
      sibs.length ? await check(l.amount_fen, bumped) : false,
    ]);
  }
  return out;
}"""


@pytest.mark.parametrize("name", ["sumtree-1.json", "sumtree-5.json"])
def test_sum_tree_proofs(page: Any, name: str) -> None:
    vector = load("plan", name)
    assert run(page, SUMTREE, vector) == [[True, False, False]] * len(vector["leaves"])


DRAW_AND_VOTES = """async ([d, votes]) => {
  const draw = await import("./site/js/plan/draw.js");
  const { verifyVote } = await import("./site/js/plan/vote.js");
  const { parseVerifierKey } = await import("./site/js/verify/note.js");
  const { fromHex, toHex } = await import("./site/js/verify/bytes.js");
  const root = await draw.poolRoot(d.claim, d.pool);
  const key = await parseVerifierKey(d.verifier_key);
  const sig = await draw.verifyPoolSignature(key, d.origin, d.claim, root, d.pool_signature);
  const secret = await draw.checkSecret(d.secret, d.secret_commitment);
  const seed = await draw.seedOf(root, sig, secret);
  const jurors = await draw.draw(d.pool, seed, d.panel_size);
  const checked = [];
  for (const v of votes) {
    const ok = await verifyVote(
      v.juror_key, v.origin, v.claim, v.choice, v.rationale_hash, v.signature);
    checked.push(ok);
  }
  return { root: toHex(root), seed: toHex(seed), jurors, checked };
}"""


def test_draw_and_votes(page: Any) -> None:
    d = load("plan", "draw-basic.json")
    votes = [
        load("plan", n)
        for n in ("vote-valid.json", "vote-altered-choice.json", "vote-other-claim.json")
    ]
    got = run(page, DRAW_AND_VOTES, [d, votes])
    assert got == {
        "root": d["pool_root"],
        "seed": d["seed"],
        "jurors": d["jurors"],
        "checked": [v["valid"] for v in votes],
    }


STATEMENT = """async ([doc, keyText]) => {
  const { verifyStatement } = await import("./site/js/statement/run.js");
  const { parseVerifierKey } = await import("./site/js/verify/note.js");
  const r = await verifyStatement(doc, await parseVerifierKey(keyText), {});
  return r.ok ? { ok: true, checks: r.checks.length, charge: r.report.charge, fee: r.report.feePart,
                   parts: r.report.claims.map((c) => [c.id, c.part]) }
              : { ok: false, check: r.check, message: r.message };
}"""


def test_whole_statement(page: Any) -> None:
    vector = load("statement", "statement.json")["statement"]
    key = load("keys", "log-key.json")["verifier_key"]
    got = run(page, STATEMENT, [vector, key])
    report, _ = verify_bundle(
        parse_bundle_bytes(json.dumps(vector).encode()), parse_verifier_key(key)
    )
    assert got["ok"] is True, got
    assert got["charge"] == report.charge_fen
    assert got["fee"] == report.fee_part_fen
    assert got["parts"] == [[c.claim, c.part_fen] for c in report.claims]


STATEMENT_EXPECTED = """async ([doc, keyText]) => {
  const { verifyStatement } = await import("./site/js/statement/run.js");
  const { parseVerifierKey } = await import("./site/js/verify/note.js");
  const r = await verifyStatement(doc, await parseVerifierKey(keyText), {});
  if (!r.ok) return { ok: false, check: r.check, message: r.message };
  const p = r.report;
  return {
    ok: true, counted: p.counted, charge_fen: p.charge, share_fen: p.share,
    parts: {
      claims: Object.fromEntries(p.claims.map((c) => [c.id, c.part])),
      recoveries: Object.fromEntries(p.recoveries.map((x) => [x.id, x.part])),
      fee: p.feePart, carry_in: p.carryInPart, carry_out: p.carryOutPart,
    },
    reversed: Object.fromEntries(p.claims.filter((c) => c.recovered !== null)
      .map((c) => [c.id, { recovered_fen: c.recovered, period: c.recoveredPeriod }])),
  };
}"""

EXPECTED_CASES = sorted(
    p.stem
    for p in (SPEC_VECTORS / "statement").glob("*.json")
    if "expected" in json.loads(p.read_text())
)


@pytest.mark.parametrize("name", EXPECTED_CASES)
def test_statement_reports_what_the_vector_expects(page: Any, name: str) -> None:
    """statement.md §4: the page reports what the ledger reckoned: counted or not, the
    charge, the share, every signed part (a recovery's negative), each reversal."""
    vector = load("statement", f"{name}.json")
    key = load("keys", "log-key.json")["verifier_key"]
    got = run(page, STATEMENT_EXPECTED, [vector["statement"], key])
    assert got.pop("ok") is True, got
    assert got == vector["expected"]


def _absence(doc: dict[str, Any]) -> dict[str, Any]:
    return next(c["absent"] for c in doc["contributions"] if "absent" in c)  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    ("mutate", "check"),
    [
        (lambda d: _absence(d)["left"].update(member="m-" + "f" * 20), "contribution.absence"),
        (lambda d: _absence(d)["right"]["siblings"].pop(), "contribution.proof"),
        (lambda d: _absence(d).update(index=_absence(d)["index"] + 1), "contribution.proof"),
        (lambda d: d["contributions"].pop(), "bundle.complete"),
        (lambda d: d["contributions"].pop(0), "bundle.complete"),
    ],
    ids=["left-not-below", "short-proof", "index-moved", "no-absence", "earlier-leaf-gone"],
)
def test_an_altered_absence_fails(page: Any, mutate: Any, check: str) -> None:
    """statement.md §1: an absence proof whose leaves do not bracket the member, or do
    not verify, fails; so does a covered period with no contribution at all."""
    vector = load("statement", "absent.json")["statement"]
    mutate(vector)
    got = run(page, STATEMENT, [vector, load("keys", "log-key.json")["verifier_key"]])
    assert got["ok"] is False
    assert got["check"] == check, got


@pytest.mark.parametrize(
    ("mutate", "check"),
    [
        (lambda d: d["contributions"][-1].update(amount_fen=18801), "contribution.proof"),
        (lambda d: d["entries"].pop(3), "bundle.complete"),
        (lambda d: d.update(period="2025-03a"), "bundle.complete"),
        (lambda d: d["entries"][5]["proof"].reverse(), "entry.inclusion"),
        (lambda d: d.update(verifier_key=d["verifier_key"][:-2] + "zz"), "bundle.key"),
    ],
    ids=["charge", "missing-join", "unclosed-period", "proof-order", "key"],
)
def test_statement_vector_altered(page: Any, mutate: Any, check: str) -> None:
    vector = load("statement", "statement.json")["statement"]
    mutate(vector)
    got = run(page, STATEMENT, [vector, load("keys", "log-key.json")["verifier_key"]])
    assert got["ok"] is False
    assert got["check"] == check, got


BASE64 = """async (cases) => {
  const { fromBase64, toHex } = await import("./site/js/verify/bytes.js");
  return cases.map((c) => { try { return toHex(fromBase64(c)); } catch { return null; } });
}"""


def test_base64_is_strict_and_canonical(page: Any) -> None:
    cases = [
        "",
        "AA==",
        "AB==",
        "AAA=",
        "AAB=",
        "AAAA",
        "AA=",
        "AA",
        "A===",
        "AA==\n",
        " AAAA",
        "-_==",
    ]
    assert run(page, BASE64, cases) == [
        "",
        "00",
        None,
        "0000",
        None,
        "000000",
        None,
        None,
        None,
        None,
        None,
        None,
    ]
