"""Member actions, signed by the member or assisted by the operator (specs/plan.md §3, §4.5).

A member action (``member.left``, ``juror.enrolled``, ``claim.filed``,
``claim.objected``, ``claim.appealed``) comes in two forms:

- **signed**: the keys plan.md §3 lists for the type, plus ``request`` and
  ``signature`` (and ``juror_signature`` for an enrolment, requests.md §3.1), under
  the actor ``member:<m>``, m being the member who acts (the ``member``,
  ``objector`` or ``appellant``). ``signature`` verifies with m's key in force at
  the entry's time (the key m joined with, or the one a rotation or a recovery put
  in its place, §4.6) over the request message of requests.md §2
  (``request.signature``), and
  ``request`` is greater than every request number m used before, the join's
  included (``request.replay``);
- **assisted**: exactly the keys of plan.md §3, under an ``operator`` actor. Under
  rules whose ``member_signatures`` is ``required`` it is refused
  (``request.required``).

When several of these fail, the first in this order is reported, the order the
ledger checks them in, so that both implementations name the same rule: the body's
form (``entry.keys``, ``entry.value``), the actor (``entry.actor``),
``request.required``, ``request.signature``, ``request.replay``, then the rules of
the type itself (the member is active, ...). A signed action by a member who never
joined, or who joined without a key, has no key to verify with: it is refused as
``request.signature``, before the type's own rules would say the member is unknown.

The changes of a member's own key that the member signs (``member.key_rotated``,
``member.key_recovery_refused``, §4.6) use the same signature and replay checks
(:meth:`Requests.verify`), after their own actor and ``member.key.active`` checks
(:mod:`verifier.plan.keys`).

A request number is recorded only once the whole entry is accepted
(:meth:`Requests.accept`), so a refused entry leaves the state as it was.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from verifier.b64 import encode
from verifier.entry import Entry
from verifier.plan.errors import RequestError
from verifier.plan.ids import OPERATOR_ACTOR
from verifier.plan.records import Body
from verifier.plan.requests import verify_request
from verifier.plan.roster import KEY_UNKNOWN, NO_KEY, MemberTable
from verifier.plan.rules import Rules
from verifier.plan.signatures import SignatureChecks

SIGNED_KEYS = ("request", "signature")
"""The keys a signed body has beside those of its type (requests.md §3)."""
MEMBER_ACTOR = re.compile(r"member:(m-[0-9a-f]{20})")
"""The actor of a signed member action: ``member:<m>``."""


@dataclass(frozen=True)
class Action:
    """A member action whose form, actor and request passed: who acts, and how."""

    member: str
    signed: bool
    ordinal: int = -1
    """The acting member's ordinal, for a signed action whose key is known."""
    request: int | None = None


def read_form(entry: Entry, keys: tuple[str, ...], extra: Mapping[str, int]) -> tuple[Body, bool]:
    """The body, read as signed or assisted by its keys, and whether it is signed.

    A body with any of ``request``, ``signature`` or an ``extra`` key is read as
    signed: it must then have exactly ``keys``, those two and the ``extra`` keys
    (each the base64 of its given number of bytes); any other body exactly ``keys``
    (``entry.keys``). Checks the values of the signing keys (``entry.value``).
    """
    signed = any(k in entry.body for k in (*SIGNED_KEYS, *extra))
    body = Body(entry, (*keys, *SIGNED_KEYS, *extra) if signed else keys)
    if signed:
        body.integer("request")
        body.b64("signature", 64)
        for key, size in extra.items():
            body.b64(key, size)
    return body, signed


class Requests:
    """The checks every member action shares (see the module doc), over the roster."""

    def __init__(self, members: MemberTable) -> None:
        self.members = members
        self.origin = ""
        """The log's origin, which every request names (set at genesis)."""
        self.every_key_change = True
        """Whether the replay reads every entry that may change a member's key (§4.6).
        A partial replay (a statement bundle) does not: a request that does not verify
        with the key it knows may have been signed with a key put in force by an entry
        it never read, so it is listed in :attr:`unchecked` instead of refused."""
        self.unchecked: list[tuple[int, str]] = []
        """(seq, member) of the signed requests a partial replay could not check."""
        self.signatures = SignatureChecks()
        """Where the signatures are checked: at once, or deferred to other cores."""

    def check(self, body: Body, signed: bool, member: str, rules: Rules) -> Action:
        """Actor, ``request.required``, signature and replay of a member action by ``member``.

        ``body`` was read by :func:`read_form` and its values checked.
        """
        entry = body.entry
        if signed:
            if entry.actor != f"member:{member}":
                body.fail(
                    "entry.actor",
                    f"expected the actor 'member:{member}' of the member who signed the "
                    f"request, found {entry.actor!r}",
                )
        elif not OPERATOR_ACTOR.fullmatch(entry.actor):
            why = (
                " (a member actor needs a signed body: request and signature)"
                if MEMBER_ACTOR.fullmatch(entry.actor)
                else ""
            )
            body.fail(
                "entry.actor",
                f"expected the actor 'operator' or 'operator:<name>' of an assisted action, "
                f"found {entry.actor!r}{why}",
            )
        if not signed:
            self.require(body, rules, f"an assisted {entry.type} for {member}")
            return Action(member, False)
        return self.verify(body, member)

    def require(self, body: Body, rules: Rules, what: str) -> None:
        """Refuse ``what`` (unsigned) as ``request.required`` under ``required`` rules."""
        if rules.member_signatures == "required":
            body.fail(
                "request.required",
                f"expected a member-signed request (member_signatures is required in rules "
                f"version {rules.version}), found {what}",
            )

    def verify(self, body: Body, member: str) -> Action:
        """``request.signature`` and ``request.replay`` of a signed body by ``member``,
        with their key in force (the roster was settled at the entry's time)."""
        entry = body.entry
        number = body.integer("request")
        o = self.members.ordinal(member)
        last = NO_KEY if o < 0 else self.members.last_request(o)
        if last == KEY_UNKNOWN:  # a placeholder of a partial replay: nothing to check with
            return Action(member, True, -1, number)
        key = None if o < 0 else self.members.member_key(o)
        if o >= 0 and not self.every_key_change and not _verifies(self.origin, entry, key):
            self.unchecked.append((entry.seq, member))
            if key is None:  # no number to keep for a member the replay knows no key of
                return Action(member, True, -1, number)
        else:
            self._signature(body, member, o, key)
        if number <= last:
            body.fail(
                "request.replay",
                f"expected a request number greater than {last}, the last {member} used, "
                f"found {number}",
            )
        return Action(member, True, o, number)

    def _signature(self, body: Body, member: str, o: int, key: bytes | None) -> None:
        entry = body.entry
        if key is None:
            why = (
                "who never joined" if o < 0 else "who joined without a key and was given none since"
            )
            body.fail(
                "request.signature",
                f"expected a request signed with the acting member's own key, found one by "
                f"{member}, {why}: they have no key to sign with",
            )
        signer = key

        def detail() -> str:
            return (
                f"expected a signature by {member}'s key in force {encode(signer)} over the "
                f"{entry.type} request on the log {self.origin}, found one that does not verify"
            )

        self.signatures.expect(body, key, self.origin, "request.signature", detail)

    def accept(self, action: Action) -> None:
        """Record the request number of an accepted signed action."""
        if action.ordinal >= 0 and action.request is not None:
            self.members.use_request(action.ordinal, action.request)


def _verifies(origin: str, entry: Entry, key: bytes | None) -> bool:
    """Whether ``entry``'s signed body verifies with ``key`` (``None``: no key)."""
    if key is None:
        return False
    try:
        verify_request(origin, entry.type, entry.body, key)
    except RequestError:
        return False
    return True
