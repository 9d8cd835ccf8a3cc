"""The member's statement bundle (specs/statement.md): everything to check a share offline."""

from __future__ import annotations

import base64
from typing import Any

from api.problems import ProblemError
from ledger.domain.model import PeriodClose
from ledger.domain.periods import parse_period
from ledger.domain.state import PlanState
from ledger.domain.store import stored_proof
from ledger.log.log import Log
from ledger.publish.checkpoint import parse_checkpoint
from ledger.publish.note import split_note
from ledger.publish.publisher import latest_checkpoint

FORMAT = "tally-statement/v1"


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def build_statement(log: Log, state: PlanState, member: str, period: str | None) -> dict[str, Any]:
    """Assemble the bundle; raises :class:`ProblemError` (404/503) when it cannot be made."""
    found = state.members.get(member)
    if found is None:
        raise ProblemError(404, "Not found", f"no member {member} has joined")
    if not state.closed:
        raise ProblemError(404, "Not found", "no period has been closed yet")
    close = state.closed[-1] if period is None else _closed(state, period)
    index = state.closed.index(close)
    year = close.period[:4]
    earlier = [c for c in state.closed[: index + 1] if c.period[:4] == year]

    note = latest_checkpoint(log.store)
    if note is None:
        raise ProblemError(503, "Not yet signed", "no checkpoint has been signed yet")
    body, _ = split_note(note)
    size = parse_checkpoint(body).size

    seqs = {0, close.seq, found.joined_seq}
    seqs.update(s for s in state.rules_seqs if s < close.seq)
    if found.left is not None and found.left_seq < close.seq:
        seqs.add(found.left_seq)
    if index > 0:
        seqs.add(state.closed[index - 1].seq)
    contributions = []
    with log.store.reader() as conn:
        for c in earlier:
            proof = stored_proof(conn, c.period, member, int(c.body["members"]))
            if proof is None:
                continue
            position, amount, siblings = proof
            seqs.add(c.seq)
            contributions.append(
                {
                    "period": c.period,
                    "index": position,
                    "amount_fen": amount,
                    "siblings": [
                        {"hash": _b64(n.hash), "count": n.count, "total": n.total} for n in siblings
                    ],
                }
            )
    if not contributions or contributions[-1]["period"] != close.period:
        raise ProblemError(
            404, "Not found", f"member {member} was not counted in period {close.period}"
        )
    claims = [str(c) for c in close.body["claims"]]
    claims += [c for c, _ in state.recovered_in.get(close.period, [])]
    for claim_id in claims:
        claim = state.claims[claim_id]
        seqs.update(s for s, _, _ in claim.history)
        seqs.add(state.members[claim.member].joined_seq)
        for juror in claim.pool or []:
            seqs.update((state.members[juror].juror_seq, state.members[juror].joined_seq))
    if max(seqs) >= size:
        raise ProblemError(
            503,
            "Not yet signed",
            f"entries up to seq {max(seqs)} are not yet covered by a signed checkpoint "
            f"(size {size}); retry shortly",
        )
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


def _closed(state: PlanState, period: str) -> PeriodClose:
    parse_period(period)
    for close in state.closed:
        if close.period == period:
            return close
    raise ProblemError(404, "Not found", f"period {period} has not been closed")
