"""Typed errors of the plan rules (specs/plan.md §6-§9) and member requests (specs/requests.md).

Every error says what was expected and what was found. The hierarchy, under
:class:`verifier.errors.VerificationError`::

    PlanError                   a plan value breaks a rule of specs/plan.md
    ├── IdError                 a member or claim id, or a log origin, is malformed (§1)
    ├── PeriodError             a period id or an entry time is malformed (§8.1)
    ├── ApportionmentError      apportionment inputs are malformed (§8.2)
    │   └── ConservationError   Σ charges differs from aid + fee - carry_in + carry_out - subsidy
    ├── SumTreeError            a sum-tree node or proof is malformed (§9)
    │   └── SumTreeMismatchError  a proof computes a root other than the announced one
    ├── DrawError               a pool, secret, seed or panel size is malformed (§6)
    │   ├── PoolSignatureError  the pool signature does not verify
    │   └── SecretMismatchError the revealed secret does not open its commitment
    ├── VoteError               a vote's fields are malformed (§7)
    │   └── VoteSignatureError  the vote signature does not verify
    └── RequestError            a member's request is malformed (requests.md §2-§3)
        └── RequestSignatureError  a request's or juror key's signature does not verify

Misuse of the API by a caller (passing a float where an int is expected, say) raises
``TypeError``; values that come from the log raise these errors.
"""

from __future__ import annotations

from verifier.errors import VerificationError


class PlanError(VerificationError):
    """A value of the mutual-aid plan breaks a rule of specs/plan.md."""


class ReplayOrderError(PlanError):
    """The replay was fed an entry out of seq order, or an entry 0 that is no genesis.

    The log's own checks (specs/log.md §2-§3) catch both before a replay sees them;
    reaching the replay with either is a caller's mistake.
    """


class IdError(PlanError):
    """A member id, claim id or log origin does not match its pattern (§1)."""


class PeriodError(PlanError):
    """A period id (``YYYY-MMa``/``YYYY-MMb``) or a time is malformed, or out of range (§8.1)."""


class ApportionmentError(PlanError):
    """The inputs of an apportionment are malformed (§8.2)."""


class ConservationError(ApportionmentError):
    """Σ charges is not aid + fee - carry_in + carry_out - subsidy (§8.2)."""

    def __init__(self, charged: int, expected: int, terms: str) -> None:
        super().__init__(
            f"conservation broken: expected sum of charges = {terms} = {expected}, "
            f"found sum of charges = {charged}"
        )
        self.charged = charged
        self.expected = expected


class SumTreeError(PlanError):
    """A contribution sum-tree node or proof is malformed (§9)."""


class SumTreeMismatchError(SumTreeError):
    """A sum-tree proof computes a root ``component`` other than the announced one."""

    def __init__(self, component: str, expected: object, calculated: object) -> None:
        super().__init__(
            f"contribution root {component} mismatch: expected {expected}, calculated {calculated}"
        )
        self.component = component
        self.expected = expected
        self.calculated = calculated


class DrawError(PlanError):
    """A panel draw's pool, secret, seed or panel size is malformed (§6)."""


class PoolSignatureError(DrawError):
    """The operator's pool signature does not verify with the log's key (§6)."""


class SecretMismatchError(DrawError):
    """The revealed secret does not hash to the appeal's ``secret_commitment`` (§6)."""


class VoteError(PlanError):
    """A vote's origin, claim, choice, rationale hash, key or signature is malformed (§7)."""


class VoteSignatureError(VoteError):
    """A vote signature does not verify with the juror's key (§7)."""


class RequestError(PlanError):
    """A member's request (origin, entry type, body, key or signature) is malformed
    (specs/requests.md §2-§3)."""


class RequestSignatureError(RequestError):
    """A request's signature does not verify with the member's key, or a juror key's
    own signature with that key (specs/requests.md §2, §3.1)."""
