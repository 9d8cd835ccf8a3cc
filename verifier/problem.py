"""The server's error answers: RFC 9457 problem documents (specs/http.md §Errors).

An error answer is ``{"type", "title", "status", "detail"}``. The ``type`` is
``about:blank`` except where the contract gives an error its own stable type, so
that a client can tell a question about something the log does not hold (a member
id, a period) from a failure of the server. A problem document is what the server
*says*; the verifier concludes nothing about the log from it.
"""

from __future__ import annotations

from dataclasses import dataclass

from verifier.errors import NotOnLogError, StatusError

UNKNOWN_MEMBER = "tag:tally,2025:problem/unknown-member"
"""``GET /v1/members/{member}/statement``: the log has no such member (404)."""
UNKNOWN_PERIOD = "tag:tally,2025:problem/unknown-period"
"""``GET /v1/members/{member}/statement?period=P``: P is not a closed period (404)."""
_SHOWN = 300
"""Characters of a problem's title or detail kept."""


@dataclass(frozen=True)
class Problem:
    """A problem document, as the server wrote it (untrusted text, shortened)."""

    status: int
    type: str
    title: str
    detail: str
    rule: str | None = None
    """A refusal's plan rule id (specs/plan.md §10), as ``POST /v1/requests`` names it in 409."""

    def summary(self) -> str:
        """``404 Not found: no member m-… has joined``."""
        head = f"{self.status} {self.title}".strip()
        return f"{head}: {self.detail}" if self.detail else head


def as_problem(doc: object) -> Problem | None:
    """``doc`` as a problem document, or ``None`` if it is not one.

    A problem document here is a JSON object whose ``status`` is an HTTP error
    status (400 to 599), with a string ``title`` or ``detail``, and whose ``type``,
    ``title`` and ``detail``, where present, are strings.
    """
    if not isinstance(doc, dict):
        return None
    status = doc.get("status")
    if type(status) is not int or not 400 <= status <= 599:
        return None
    texts = {k: doc.get(k, "") for k in ("type", "title", "detail")}
    if not all(isinstance(v, str) for v in texts.values()):
        return None
    if not (texts["title"] or texts["detail"]):
        return None
    rule = doc.get("rule")
    return Problem(
        status,
        str(texts["type"]) or "about:blank",
        str(texts["title"])[:_SHOWN],
        str(texts["detail"])[:_SHOWN],
        rule[:_SHOWN] if isinstance(rule, str) else None,
    )


def not_on_log(exc: StatusError, member: str, period: str | None) -> NotOnLogError | None:
    """What a statement's error answer means when its type says the log holds no such thing.

    ``None`` for any other answer: a server failure, about which nothing is concluded.
    """
    problem = exc.problem
    if exc.status != 404 or problem is None:
        return None
    if problem.type == UNKNOWN_MEMBER:
        return NotOnLogError(
            f"the log has no member {member}, its server says; check the member id", problem
        )
    if problem.type == UNKNOWN_PERIOD and period is not None:
        return NotOnLogError(
            f"the log has no closed period {period}, its server says; leave out --period "
            "for the latest closed one",
            problem,
        )
    if problem.type == UNKNOWN_PERIOD:
        return NotOnLogError(
            "the log has no closed period yet, its server says; a statement covers a closed period",
            problem,
        )
    return None
