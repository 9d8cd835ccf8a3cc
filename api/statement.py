"""The member's statement bundle (specs/statement.md): everything to check a share offline."""

from __future__ import annotations

import base64
from typing import Any

from sqlalchemy.engine import Connection

from api.problems import ProblemError
from ledger.domain import sumtree
from ledger.domain.model import Member, PeriodClose
from ledger.domain.periods import parse_period
from ledger.domain.state import PlanState
from ledger.domain.store import stored_neighbours, stored_proofs
from ledger.log.log import Log
from ledger.publish.checkpoint import parse_checkpoint
from ledger.publish.note import split_note
from ledger.publish.publisher import latest_checkpoint

FORMAT = "tally-statement/v1"


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _nodes(nodes: list[sumtree.Node]) -> list[dict[str, Any]]:
    return [{"hash": _b64(n.hash), "count": n.count, "total": n.total} for n in nodes]


def build_statement(log: Log, state: PlanState, member: str, period: str | None) -> dict[str, Any]:
    """Assemble the bundle; raises :class:`ProblemError` (404/503) when it cannot be made."""
    found = state.members.get(member)
    if found is None:
        raise ProblemError(404, "Not found", f"no member {member} has joined")
    if not state.closed:
        raise ProblemError(404, "Not found", "no period has been closed yet")
    close = state.closed[-1] if period is None else _closed(state, period)
    index = state.closed.index(close)
    covered = [c for c in state.closed[: index + 1] if c.period[:4] == close.period[:4]]

    note = latest_checkpoint(log.store)
    if note is None:
        raise ProblemError(503, "Not yet signed", "no checkpoint has been signed yet")
    body, _ = split_note(note)
    size = parse_checkpoint(body).size

    seqs = _required_seqs(state, found, close, index, covered)
    if max(seqs) >= size:
        raise ProblemError(
            503,
            "Not yet signed",
            f"entries up to seq {max(seqs)} are not yet covered by a signed checkpoint "
            f"(size {size}); retry shortly",
        )
    # A claim's later steps (a reversal after P) are shown when the checkpoint has them.
    for claim_id in _claims_of(state, close):
        seqs.update(s for s, _, _ in state.claims[claim_id].history if s < size)
    with log.store.reader() as conn:
        contributions = _contributions(conn, covered, member)
    raws = log.entries_at(seqs)
    proofs = log.inclusion_proofs(seqs, size)
    entries = [
        {"seq": seq, "leaf": _b64(raw), "proof": [_b64(h) for h in proofs[seq]]}
        for seq, raw in raws.items()
    ]
    return {
        "format": FORMAT,
        "origin": state.origin,
        "verifier_key": state.log_key.to_string() if state.log_key else "",
        "member": member,
        "period": close.period,
        "checkpoint": note,
        "entries": entries,
        "contributions": contributions,
    }


def _claims_of(state: PlanState, close: PeriodClose) -> list[str]:
    """The claims paid in P and those whose reversal P was credited with (statement.md §2.5)."""
    claims = [str(c) for c in close.body["claims"]]
    recovered = state.recovered_in_period(close.period)
    return claims + [c for c, _ in recovered if c not in claims]


def _required_seqs(
    state: PlanState, found: Member, close: PeriodClose, index: int, covered: list[PeriodClose]
) -> set[int]:
    """The entries statement.md §2 lists, up to P's close."""
    seqs = {0, close.seq, found.joined_seq}
    seqs.update(s for s in state.rules_seqs if s < close.seq)
    if found.left is not None and found.left_seq < close.seq:
        seqs.add(found.left_seq)
    if index > 0:
        seqs.add(state.closed[index - 1].seq)
    seqs.update(c.seq for c in covered)
    claims = [state.claims[claim_id] for claim_id in _claims_of(state, close)]
    state.read_members({c.member for c in claims} | {j for c in claims for j in c.pool or []})
    for claim in claims:
        seqs.update(s for s, _, _ in claim.history if s <= close.seq)
        seqs.add(state.members[claim.member].joined_seq)
        for juror in claim.pool or []:
            seqs.update((state.members[juror].juror_seq, state.members[juror].joined_seq))
    return seqs


def _contributions(
    conn: Connection, covered: list[PeriodClose], member: str
) -> list[dict[str, Any]]:
    """The member's leaf of each covered period's sum tree, or the proof that they have
    none (two bracketing leaves, statement.md §1): the proofs read in one batch."""
    sizes = {c.period: int(c.body["members"]) for c in covered}
    proofs = stored_proofs(conn, [(c.period, member, sizes[c.period]) for c in covered])
    out: list[dict[str, Any]] = []
    absent: list[tuple[dict[str, Any], tuple[str, int] | None, tuple[str, int] | None]] = []
    for close, proof in zip(covered, proofs, strict=True):
        if proof is not None:
            position, amount, siblings = proof
            out.append(
                {
                    "period": close.period,
                    "index": position,
                    "amount_fen": amount,
                    "siblings": _nodes(siblings),
                }
            )
            continue
        index, left, right = stored_neighbours(conn, close.period, member)
        entry: dict[str, Any] = {"period": close.period, "absent": {"index": index}}
        absent.append((entry, left, right))
        out.append(entry)
    wanted = [
        (str(entry["period"]), leaf[0], sizes[str(entry["period"])])
        for entry, left, right in absent
        for leaf in (left, right)
        if leaf is not None
    ]
    found = iter(stored_proofs(conn, wanted))
    for entry, left, right in absent:
        for side, leaf in (("left", left), ("right", right)):
            if leaf is None:
                entry["absent"][side] = None
                continue
            proof = next(found)
            assert proof is not None  # the row was just read
            entry["absent"][side] = {
                "member": leaf[0],
                "amount_fen": leaf[1],
                "siblings": _nodes(proof[2]),
            }
    return out


def _closed(state: PlanState, period: str) -> PeriodClose:
    parse_period(period)
    for close in state.closed:
        if close.period == period:
            return close
    raise ProblemError(404, "Not found", f"period {period} has not been closed")
