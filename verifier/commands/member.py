"""``tally-verify member ...``: a member's own key, signed requests, and their check.

The member holds an Ed25519 key (specs/requests.md) in a key file
(:mod:`verifier.member_key` describes it and the files kept beside it) and signs
their own actions with it; the log's signed receipt of each is kept. Commands:

``member keygen --out FILE``
    A new key and member id, written to FILE (mode 0600, never overwritten).
``member join-request --key FILE --out REQ.json``
    The signed join request, for the member to hand to the operator.
``member object | appeal | leave | enrol-juror | rotate | refuse-recovery --key FILE ...``
    Sign the request with the next request number, post it to ``/v1/requests``,
    verify and keep the receipt. ``rotate`` replaces the key in the file once the log
    took the new one (plan.md §4.6).
``member vote --key FILE --juror-key JFILE ...``
    A juror's vote, signed with the juror key, posted and its receipt kept.
``member reveal --key FILE --claim C``
    An appellant's secret, posted to ``/v1/reveals`` only once the claim's
    ``panel.pooled`` is proven in a signed checkpoint's tree (plan.md §6).
``member check --key FILE``
    Check that every action in the member's name is one the member signed with the
    key in force at its time, report any recovery of the member's key, and that the
    log honoured every kept receipt (:mod:`verifier.member_check`).

The log is ``--server URL``, else the one ``tally-verify init`` set up; the log's key
is ``--log-key KEY``, else the pinned one when the server is the pinned log's, else
the key the server states (trusted for this run only, with a warning).
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import click

from verifier.b64 import encode
from verifier.client import Accepted, LogClient
from verifier.commands.app import EXIT_SERVER, EXIT_VERIFICATION, App, fail, parse_url
from verifier.entry import Entry, parse_entry
from verifier.errors import (
    KeyFormatError,
    ServerError,
    StateError,
    StatusError,
    UsageError,
    VerificationError,
)
from verifier.jcs import JSONValue
from verifier.member_check import PanelView, check_member, find_panel
from verifier.member_key import (
    KEY_REQUESTS,
    MemberKey,
    appeal_secret,
    create_juror_key,
    create_member_key,
    load_appeal_secret,
    load_juror_key,
    load_member_key,
    save_member_key,
    save_receipt,
    saved_receipts,
    sign_vote,
)
from verifier.note import Verifier, parse_verifier_key
from verifier.plan.errors import PlanError
from verifier.plan.ids import MEMBER_PATTERN, check_claim, check_origin
from verifier.plan.requests import (
    public_key,
    request_document,
    sign_juror_key,
    sign_member_key,
    sign_request,
)
from verifier.plan.vote import CHOICES, rationale_hash
from verifier.receipt import verify_receipt
from verifier.session import Session, open_session
from verifier.state import write_atomic

REFUSED_HELP = (
    "If the log refuses the request (a plan rule, named by its id, or a malformed "
    "request) the command exits 1 and the request number is not used up; a server "
    "that is busy (429) or unreachable exits 4: try again later."
)
REVEAL_HELP = (
    "Exits 4 without sending anything while the pool is not on the log or no signed "
    "checkpoint covers it yet (try again later), 1 if the log refuses the secret or "
    "serves a pool it cannot prove."
)


_REFUSALS = frozenset({400, 409, 413, 415, 422})
"""Statuses by which the log refuses the request itself (specs/requests.md §5)."""


@click.group("member", short_help="Your own member key and signed requests.")
def member() -> None:
    """Your own member key: sign your requests to the log, and check what it says you did.

    Start with `member keygen --out FILE`, hand the operator the file `member
    join-request` writes, and once you are on the log, act with `member object`,
    `appeal` (then `reveal`), `leave` or `enrol-juror` (then `vote`); change your key
    with `rotate`, refuse a recovery you did not ask for with `refuse-recovery`;
    `member check` shows that the log speaks for you only as you asked.
    """


key_option = click.option(
    "--key",
    "key_path",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Your member key file (from `member keygen`).",
)


def _server_url(_: click.Context, __: click.Parameter, value: str | None) -> str | None:
    return None if value is None else parse_url(value)


server_option = click.option(
    "--server",
    callback=_server_url,
    help="The log's base URL [default: the log `tally-verify init` set up].",
)


def _keep_request(ctx: click.Context, _: click.Parameter, value: int | None) -> None:
    ctx.meta[_REQUEST_META] = value


_REQUEST_META = "tally-verify.member.request"
request_option = click.option(
    "--request",
    type=click.IntRange(min=1),
    expose_value=False,
    callback=_keep_request,
    help="Use this request number instead of the key file's next one: for a key file "
    "behind the log (the log refused a replay); it must be above every number used.",
)
log_key_option = click.option(
    "--log-key",
    help="The log's verifier key [default: the pinned key, for the pinned log].",
)


@member.command("keygen")
@click.option(
    "--out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The key file to create (it must not exist).",
)
@click.pass_obj
def keygen(app: App, out: Path) -> None:
    """Make a new member key and member id, and write them to a new file (mode 0600).

    The private key is never printed; keep the file safe, and a copy of it: whoever
    holds it can act in your name.
    """
    key = create_member_key(out)
    app.finish(
        {
            "command": "member keygen",
            "member": key.member,
            "member_key": key.member_key,
            "key_file": str(out),
        },
        [
            f"Made the key file {out} (mode 0600; keep it secret, and keep a copy).",
            f"Your member id: {key.member}",
            f"Your public key: {key.member_key}",
            f"Next: `tally-verify member join-request --key {out} --server URL --out "
            "join.json`, and hand join.json to the plan's operator.",
        ],
    )


@member.command("recovery-request")
@click.option("--member", "member_id", required=True, help="Your member id.")
@server_option
@click.option("--origin", help="The log's origin (its key name) [default: asked of the log].")
@log_key_option
@click.option(
    "--out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The new key file to create (it must not exist).",
)
@click.pass_obj
def recovery_request(
    app: App,
    member_id: str,
    server: str | None,
    origin: str | None,
    log_key: str | None,
    out: Path,
) -> None:
    """Lost your key? Make a new one for your member id, and what the operator needs.

    The operator writes a recovery (plan.md §4.6): the new key takes force only after
    the rules' notice, and until then your old key, if someone else holds it, can
    refuse it on the log, as you can with `member check` and `refuse-recovery` if the
    recovery is not yours.
    """
    if not MEMBER_PATTERN.fullmatch(member_id):
        raise UsageError(f"expected a member id (m- and 20 hex digits), found {member_id!r}")
    origin = _log_origin(app, server, log_key, origin)
    key = create_member_key(out, member_id, origin)
    new_key, key_signature = sign_member_key(key.seed, origin, member_id)
    app.finish(
        {
            "command": "member recovery-request",
            "member": member_id,
            "member_key": new_key,
            "key_signature": key_signature,
            "key_file": str(out),
        },
        [
            f"Made the key file {out} (mode 0600) with a new key for {member_id}.",
            "Hand the operator, after they have checked who you are:",
            f"  tally member recover-key {member_id} --new-key {new_key} "
            f"--key-signature {key_signature}",
            "The key takes force after the plan's notice; then `tally-verify member check "
            f"--key {out}` shows it in force, and your requests use the numbers after the "
            "highest on the log (--request).",
        ],
    )


@member.command("join-request")
@key_option
@server_option
@click.option("--origin", help="The log's origin (its key name) [default: asked of the log].")
@log_key_option
@click.option(
    "--out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write the signed join request (JSON).",
)
@click.pass_obj
def join_request(
    app: App,
    key_path: Path,
    server: str | None,
    origin: str | None,
    log_key: str | None,
    out: Path,
) -> None:
    """Write your signed join request, for the operator to append with your identity.

    The request names your member id and public key and is signed with your key, for
    one log only: --origin, or the origin of --log-key, the pinned log or --server.
    """
    key = load_member_key(key_path)
    origin = _log_origin(app, server, log_key, origin)
    if key.origin is not None and key.origin != origin:
        raise UsageError(
            f"{key_path} was made into a join request for the log {key.origin}, not {origin}"
        )
    body: dict[str, JSONValue] = {
        "member": key.member,
        "member_key": key.member_key,
        "request": key.last_request,
    }
    document = request_document(
        "member.joined", sign_request(key.seed, origin, "member.joined", body)
    )
    text = json.dumps(document, indent=2) + "\n"
    try:
        write_atomic(out, text.encode())
    except OSError as exc:
        raise StateError(f"cannot write {out}: {exc}") from None
    if key.origin is None:
        save_member_key(MemberKey(key.path, key.member, key.seed, key.last_request, origin))
    app.finish(
        {
            "command": "member join-request",
            "member": key.member,
            "origin": origin,
            "request": key.last_request,
            "file": str(out),
            "document": document,
        },
        [
            f"Wrote the signed join request of {key.member} for the log {origin} to {out}.",
            "Next: hand it to the plan's operator with proof of who you are; they append it "
            f"with `tally member join --request {out.name} --identity FILE --age-band BAND`.",
            f"Once it is on the log, `tally-verify member check --key {key_path}` shows it.",
        ],
    )


@member.command("object", epilog=REFUSED_HELP)
@key_option
@server_option
@log_key_option
@request_option
@click.option("--claim", required=True, help="The claim id (c-...).")
@click.option("--reason", required=True, help="Why you object; only its SHA-256 goes on the log.")
@click.pass_context
def object_(
    ctx: click.Context,
    key_path: Path,
    server: str | None,
    log_key: str | None,
    claim: str,
    reason: str,
) -> None:
    """Object to a disclosed claim (plan.md §5.4), signed with your key.

    The log records the SHA-256 of the reason text (UTF-8), never the text; the text
    is kept with the receipt, beside the key file.
    """
    _claim_id(claim)
    reason_hash = hashlib.sha256(reason.encode("utf-8")).hexdigest()

    def body(key: MemberKey, origin: str) -> dict[str, JSONValue]:
        return {"claim": claim, "objector": key.member, "reason_hash": reason_hash}

    _submit(
        ctx,
        key_path,
        server,
        log_key,
        "claim.objected",
        body,
        f"Your objection to {claim} is on the log (reason hash {reason_hash}). If the "
        "assessment stands, you may appeal it: `tally-verify member appeal`.",
        kept={"reason": reason},
    )


@member.command("appeal", epilog=REFUSED_HELP)
@key_option
@server_option
@log_key_option
@request_option
@click.option("--claim", required=True, help="The claim id (c-...).")
@click.pass_context
def appeal(
    ctx: click.Context, key_path: Path, server: str | None, log_key: str | None, claim: str
) -> None:
    """Appeal a claim's assessment (plan.md §5.5, §6), signed with your key.

    A new 32-byte secret is kept in a file beside the key (mode 0600) and only its
    SHA-256 (the secret commitment) is sent. Reveal the secret when the panel's pool
    is on the log; without it, the appeal gets no panel.
    """
    _claim_id(claim)
    key = load_member_key(key_path)
    secret, made = appeal_secret(key, claim)
    commitment = hashlib.sha256(secret).hexdigest()
    where = key.secret_path(claim)

    def body(key: MemberKey, origin: str) -> dict[str, JSONValue]:
        return {"claim": claim, "appellant": key.member, "secret_commitment": commitment}

    def refused() -> None:
        if made:
            where.unlink(missing_ok=True)

    _submit(
        ctx,
        key_path,
        server,
        log_key,
        "claim.appealed",
        body,
        f"Your appeal of {claim} is on the log. Your secret is in {where}: keep it, and "
        "reveal it to the operator when the pool is on the log (panel.pooled, covered by "
        "a signed checkpoint); it fixes the panel's draw with the pool's signature.",
        on_refusal=refused,
        extra={"secret_file": str(where), "secret_commitment": commitment},
    )


@member.command("leave", epilog=REFUSED_HELP)
@key_option
@server_option
@log_key_option
@request_option
@click.pass_context
def leave(ctx: click.Context, key_path: Path, server: str | None, log_key: str | None) -> None:
    """Leave the plan (plan.md §4.2), signed with your key.

    You are not charged for periods whose cutoff is after you leave, and can no longer
    file, object, appeal or vote.
    """

    def body(key: MemberKey, origin: str) -> dict[str, JSONValue]:
        return {"member": key.member}

    _submit(
        ctx,
        key_path,
        server,
        log_key,
        "member.left",
        body,
        "You have left the plan; periods whose cutoff is after now will not charge you.",
    )


@member.command("enrol-juror", epilog=REFUSED_HELP)
@key_option
@server_option
@log_key_option
@request_option
@click.option(
    "--juror-key-out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The juror key file to create (mode 0600; it must not exist).",
)
@click.pass_context
def enrol_juror(
    ctx: click.Context,
    key_path: Path,
    server: str | None,
    log_key: str | None,
    juror_key_out: Path,
) -> None:
    """Enrol as a juror (plan.md §4.4) with a new juror key, signed with both keys.

    The juror key, which signs your votes, is written to --juror-key-out; it signs
    its own enrolment (requests.md §3.1) and your member key signs the request.
    """

    def body(key: MemberKey, origin: str) -> dict[str, JSONValue]:
        juror = create_juror_key(juror_key_out, key.member)
        juror_key, juror_signature = sign_juror_key(juror.seed, origin, key.member)
        return {"member": key.member, "juror_key": juror_key, "juror_signature": juror_signature}

    def refused() -> None:
        juror_key_out.unlink(missing_ok=True)

    _submit(
        ctx,
        key_path,
        server,
        log_key,
        "juror.enrolled",
        body,
        f"You are enrolled as a juror; your juror key is in {juror_key_out}: keep it "
        "secret, it signs your votes.",
        on_refusal=refused,
        extra={"juror_key_file": str(juror_key_out)},
    )


@member.command("vote", epilog=REFUSED_HELP)
@key_option
@server_option
@log_key_option
@click.option(
    "--juror-key",
    "juror_key_path",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Your juror key file (from `member enrol-juror`): it signs the vote.",
)
@click.option("--claim", required=True, help="The claim id (c-...).")
@click.option("--choice", required=True, type=click.Choice(CHOICES), help="Your vote.")
@click.option(
    "--rationale", required=True, help="Why you vote so; only its SHA-256 goes on the log."
)
@click.pass_context
def vote(
    ctx: click.Context,
    key_path: Path,
    server: str | None,
    log_key: str | None,
    juror_key_path: Path,
    claim: str,
    choice: str,
    rationale: str,
) -> None:
    """Vote on a claim whose panel drew you (plan.md §7), signed with your juror key.

    The log records the SHA-256 of the rationale text (UTF-8), never the text; the
    text is kept with the receipt, beside the key file. A vote uses no request
    number: the juror key's signature is its authority, and you vote once a claim.
    """
    _claim_id(claim)
    key = load_member_key(key_path)
    juror = load_juror_key(juror_key_path)
    if juror.member != key.member:
        raise UsageError(f"{juror_key_path} is the juror key of {juror.member}, not {key.member}")
    hashed = rationale_hash(rationale)

    def body(key: MemberKey, origin: str) -> dict[str, JSONValue]:
        signature = sign_vote(juror.seed, origin, claim, choice, hashed)
        return {
            "claim": claim,
            "juror": key.member,
            "choice": choice,
            "rationale_hash": hashed,
            "signature": signature,
        }

    _submit(
        ctx,
        key_path,
        server,
        log_key,
        "vote.cast",
        body,
        f"Your vote ({choice}) on {claim} is on the log (rationale hash {hashed}).",
        kept={"rationale": rationale},
        numbered=False,
        extra={"choice": choice, "rationale_hash": hashed},
    )


@member.command("rotate", epilog=REFUSED_HELP)
@key_option
@server_option
@log_key_option
@request_option
@click.pass_context
def rotate(ctx: click.Context, key_path: Path, server: str | None, log_key: str | None) -> None:
    """Replace your member key with a new one (plan.md §4.6).

    The new key signs itself (requests.md §3.2) and your current key signs the
    request. The new key is written to the key file before the request is sent (as
    pending) and becomes the file's key only once the log took it; the old public
    key stays in the file's history, so `member check` still checks your earlier
    signatures. If the answer is lost, run `member rotate` again (it sends the same
    new key) or `member check`, which adopts the new key once the log shows it.
    """
    key = load_member_key(key_path)
    new_seed = key.pending_seed if key.pending_seed is not None else secrets.token_bytes(32)
    fresh = key.pending_seed is None

    def body(key: MemberKey, origin: str) -> dict[str, JSONValue]:
        new_key, key_signature = sign_member_key(new_seed, origin, key.member)
        return {"member": key.member, "member_key": new_key, "key_signature": key_signature}

    def refused() -> None:
        if fresh:
            save_member_key(load_member_key(key_path).with_pending(None))
        else:
            ctx.obj.warn(
                "Rotation sent before",
                f"{key_path} holds the new key of a rotation sent before whose answer was "
                f"lost; if the log took it, `tally-verify member check --key {key_path}` "
                "finds it and makes it the key file's key.",
            )

    _submit(
        ctx,
        key_path,
        server,
        log_key,
        "member.key_rotated",
        body,
        f"Your new key is in force from this entry on, and in {key_path}; sign with it from "
        "now on. Your old key signs nothing more.",
        on_refusal=refused,
        before=lambda key: key.with_pending(new_seed),
        after=lambda key, accepted: key.rotated(new_seed, accepted.seq),
        extra={"old_key": key.member_key, "new_key": encode(public_key(new_seed))},
    )


@member.command("refuse-recovery", epilog=REFUSED_HELP)
@key_option
@server_option
@log_key_option
@request_option
@click.option(
    "--recovery",
    required=True,
    type=click.IntRange(min=0),
    help="The seq of the operator's member.key_recovery (`member check` names it).",
)
@click.pass_context
def refuse_recovery(
    ctx: click.Context, key_path: Path, server: str | None, log_key: str | None, recovery: int
) -> None:
    """Refuse a recovery of your key that you did not ask for (plan.md §4.6).

    Signed with your key in force, before the recovery's effective time: the
    recovery then never takes force, and the refusal is on the log for all to see.
    """

    def body(key: MemberKey, origin: str) -> dict[str, JSONValue]:
        return {"member": key.member, "recovery": recovery}

    _submit(
        ctx,
        key_path,
        server,
        log_key,
        "member.key_recovery_refused",
        body,
        f"The recovery at seq {recovery} will never take force; your key stays yours.",
        extra={"recovery": recovery},
    )


@member.command("reveal", epilog=REVEAL_HELP)
@key_option
@server_option
@log_key_option
@click.option("--claim", required=True, help="The claim id (c-...) you appealed.")
@click.pass_context
def reveal(
    ctx: click.Context, key_path: Path, server: str | None, log_key: str | None, claim: str
) -> None:
    """Reveal your appeal's secret, to draw the panel (plan.md §6), once it is safe.

    Before sending anything, finds the claim's panel.pooled on the log and checks it
    is in the tree of a checkpoint verified with the log's key (an inclusion proof)
    and that the pool signature is the log key's: the pool's signature is then fixed
    before the operator learns your secret. Then posts the secret kept beside the key
    file to /v1/reveals, keeps the receipt and shows the jurors drawn.
    """
    _claim_id(claim)
    app: App = ctx.obj
    key = load_member_key(key_path)
    secret = load_appeal_secret(key, claim)
    if secret is None:
        raise UsageError(
            f"no appeal secret for {claim} beside {key_path} ({key.secret_path(claim)}): "
            "only the appellant's own tool holds it"
        )
    commitment = hashlib.sha256(secret).hexdigest()
    with _log(app, server, log_key, session=True) as log:
        note = None
        if log.session is not None:
            log.session.refresh()
            note = log.session.state.checkpoint
        view = find_panel(log.client, log.verifier, claim, _appeal_seq(key, claim), note)
        _check_appeal(ctx, view, key, claim, commitment)
        if view.drawn is not None:
            _drawn(ctx, app, view.drawn, None, log.warning)
            return
        if view.pooled is None:
            _not_yet(ctx, claim, view)
        try:
            accepted = log.client.post_reveal(claim, secret)
        except StatusError as exc:
            if exc.status not in _REFUSALS:
                raise
            _refused(ctx, exc, key, numbered=False)
        document: dict[str, Any] = {"type": "panel.drawn", "body": {"claim": claim}}
        saved = save_receipt(key, accepted.json(), document)
        receipt = verify_receipt(accepted.receipt, log.verifier)
        if (receipt.seq, receipt.entry_hash) != (accepted.seq, accepted.entry_hash):
            raise VerificationError(
                f"the log's answer names seq {accepted.seq} and hash {accepted.entry_hash}, but "
                f"its signed receipt says seq {receipt.seq} and hash {receipt.entry_hash} "
                f"(kept in {saved})"
            )
        drawn = _served_entry(log.client, accepted.seq, accepted.entry_hash)
        if drawn is not None and (drawn.type, drawn.body.get("claim")) != ("panel.drawn", claim):
            raise VerificationError(
                f"the log's receipt for your reveal is of seq {drawn.seq}, a {drawn.type} of "
                f"{drawn.body.get('claim')}, not the panel.drawn of {claim} (kept in {saved})"
            )
    _drawn(ctx, app, drawn, (accepted, saved), log.warning, claim)


def _appeal_seq(key: MemberKey, claim: str) -> int:
    """Where the appeal is, from its kept receipt: the pool comes after it (else 0)."""
    for seq, path in saved_receipts(key):
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if not isinstance(doc, dict) or doc.get("type") != "claim.appealed":
            continue
        body = doc.get("body")
        if isinstance(body, dict) and body.get("claim") == claim:
            return seq
    return 0


def _check_appeal(
    ctx: click.Context, view: PanelView, key: MemberKey, claim: str, commitment: str
) -> None:
    """The appeal on the log is the member's, with the commitment to the kept secret."""
    appealed = view.appealed
    if appealed is None:
        return  # not found from the kept receipt on: the log refuses a wrong secret anyway
    body = appealed.body
    if body.get("appellant") != key.member or body.get("secret_commitment") != commitment:
        fail(
            ctx,
            EXIT_VERIFICATION,
            "not_your_appeal",
            f"The appeal of {claim} at seq {appealed.seq} is not yours with the secret kept in "
            f"{key.secret_path(claim)}: it names {body.get('appellant')} and the commitment "
            f"{body.get('secret_commitment')}, not {commitment}. Nothing was sent.",
            extra={"command": "member reveal", "claim": claim, "appeal_seq": appealed.seq},
        )


def _not_yet(ctx: click.Context, claim: str, view: PanelView) -> NoReturn:
    size = view.checkpoint.size
    if view.pooled_uncovered is not None:
        message = (
            f"The pool of {claim} is on the log at seq {view.pooled_uncovered}, but no signed "
            f"checkpoint covers it yet (the latest covers {size:,} entries). Nothing was sent: "
            "try again in a minute or two, once a checkpoint covers it."
        )
    else:
        message = (
            f"The pool of {claim} is not on the log yet (no panel.pooled in {size:,} entries). "
            "Nothing was sent: try again once the operator has signed the pool (a "
            "panel.pooled entry); it must do so within the rules' reveal_days of your appeal."
        )
    fail(
        ctx,
        EXIT_SERVER,
        "not_yet",
        message,
        extra={
            "command": "member reveal",
            "claim": claim,
            "tree_size": size,
            "pooled_seq": view.pooled_uncovered,
        },
    )


def _served_entry(client: LogClient, seq: int, entry_hash: str) -> Entry | None:
    """The entry at ``seq`` if the server serves it with the receipt's hash, else None."""
    try:
        page = client.entries(seq, seq + 1)
    except ServerError:
        return None
    raw = page[0].raw
    if hashlib.sha256(raw).hexdigest() != entry_hash:
        return None
    return parse_entry(raw)


def _drawn(
    ctx: click.Context,
    app: App,
    drawn: Entry | None,
    answer: tuple[Accepted, Path] | None,
    warning: str | None,
    claim: str | None = None,
) -> None:
    """Print the draw: the jurors and when voting closes (from the entry when served)."""
    jurors = drawn.body.get("jurors") if drawn is not None else None
    closes = drawn.body.get("voting_closes") if drawn is not None else None
    claim = claim or (str(drawn.body.get("claim")) if drawn is not None else None)
    result: dict[str, Any] = {
        "command": "member reveal",
        "claim": claim,
        "drawn_seq": None if drawn is None else drawn.seq,
        "jurors": jurors,
        "voting_closes": closes,
        "log_key_warning": warning,
    }
    if answer is None:
        assert drawn is not None
        lines = [f"The panel of {claim} is already drawn, at seq {drawn.seq:,}: nothing was sent."]
    else:
        accepted, saved = answer
        result.update(accepted.json(), receipt_file=str(saved))
        lines = [
            f"The log took your secret and drew the panel of {claim} at seq {accepted.seq:,}; "
            f"a signed checkpoint will cover it by {accepted.covered_by}.",
            f"Its receipt, verified with the log's key, is kept in {saved}.",
        ]
    if isinstance(jurors, list):
        lines.append(f"Jurors drawn: {', '.join(str(j) for j in jurors)}")
        lines.append(f"Voting closes at {closes}.")
    else:
        lines.append(
            "The server did not serve the panel.drawn entry yet: `tally-verify audit` "
            "shows the jurors once it does."
        )
    app.finish(result, lines)


@member.command("check")
@key_option
@server_option
@log_key_option
@click.option(
    "--juror-key",
    "juror_key_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Your juror key file: check it is the juror key enrolled for you.",
)
@click.pass_obj
def check(
    app: App,
    key_path: Path,
    server: str | None,
    log_key: str | None,
    juror_key_path: Path | None,
) -> None:
    """Check that the log speaks for you only as you asked, and kept every receipt.

    Reads the whole log (in pages) up to a checkpoint verified with the log's key
    (for the pinned log, one checked to extend the saved checkpoint, as `checkpoint`
    does, and saved), and checks: your join names your key; every action in your
    name (leaving, enrolling, filing, objecting, appealing, rotating your key,
    refusing a recovery) is signed by you with your key in force at its time (the
    join's, then each rotation's, or a recovery's from its effective time unless you
    refused it); every vote in your name verifies with your enrolled juror key,
    which is the one in --juror-key; every receipt kept beside your key file is
    honoured. Each recovery of your key by the operator is shown with its seq, its
    effective time and whether you refused it. Exits 1 naming the seq of each action
    you did not sign or that does not verify, of a recovery in force with a key your
    file never held (the operator replaced your key without you), and of each
    receipt not honoured. A rotation whose answer was lost is adopted into the key
    file once the log shows it.
    """
    key = load_member_key(key_path)
    juror = None if juror_key_path is None else load_juror_key(juror_key_path)
    if juror is not None and juror.member != key.member:
        raise UsageError(f"{juror_key_path} is the juror key of {juror.member}, not {key.member}")
    with _log(app, server, log_key, session=True) as log:
        note = None
        if log.session is not None:
            log.session.refresh()  # a fork with the saved checkpoint: exit 3, with evidence
            note = log.session.state.checkpoint
        report = check_member(log.client, log.verifier, key, juror, note=note)
    if report.adopt_pending and key.pending_seed is not None:
        # The log took a rotation whose answer was lost: its number is used, too.
        rotated = report.rotations[-1] if report.rotations else None
        adopted = key.rotated(key.pending_seed, rotated)
        save_member_key(adopted.with_request(report.highest_request or 0))
    lines = [
        f"Member {report.member} on the log {report.origin} ({report.tree_size:,} entries, "
        "checked against its signed checkpoint):",
        f"  joined at seq {report.joined_seq}" if report.joined_seq is not None else "  not joined",
        f"  {len(report.signed)} action(s) signed by you: "
        + (", ".join(f"seq {s}" for s in report.signed) or "none"),
        f"  receipts honoured: {len(report.receipts_honoured)}; pending: "
        f"{len(report.receipts_pending)}",
    ]
    if report.juror_key is not None:
        lines.append(f"  juror key enrolled: {report.juror_key}")
    if report.votes:
        lines.append(
            "  votes signed with your juror key: " + ", ".join(f"seq {s}" for s in report.votes)
        )
    if report.rotations:
        lines.append("  key rotations: " + ", ".join(f"seq {s}" for s in report.rotations))
    if report.key_in_force is not None:
        lines.append(f"  key in force: {report.key_in_force}")
    for r in report.recoveries:
        state = {
            "pending": f"PENDING: in force from {r.effective} unless you refuse it",
            "refused": f"refused by you at seq {r.by}",
            "void": f"void: your rotation at seq {r.by} came first",
            "in force": f"IN FORCE since {r.effective}",
        }[r.status]
        lines.append(
            f"  RECOVERY of your key by the operator at seq {r.seq} ({r.time}), new key "
            f"{r.member_key}, effective {r.effective}: {state}"
        )
    lines += [f"Note: {note}" for note in report.notes]
    result = {"command": "member check", **report.json(), "log_key_warning": log.warning}
    if report.ok:
        app.finish(result, [*lines, "Everything in your name is yours, and every receipt kept."])
        return
    lines += [f"FAILED: {f.message}" for f in report.findings]
    app.finish(result, lines, code=EXIT_VERIFICATION)


# -- shared --------------------------------------------------------------------------


@dataclass(frozen=True)
class _Log:
    client: LogClient
    verifier: Verifier
    warning: str | None
    session: Session | None = None
    """With the pinned log, for ``check``: the saved state, to bring up to date."""


@dataclass(frozen=True)
class _Trust:
    url: str | None
    verifier: Verifier
    pinned: bool = False


def _trusted(app: App, server: str | None, log_key: str | None) -> _Trust | None:
    """The log's key: --log-key, else the pinned one (for the pinned log), else ``None``."""
    state = app.state_dir.load()
    if log_key is not None:
        try:
            verifier = parse_verifier_key(log_key)
        except KeyFormatError as exc:
            raise click.BadParameter(str(exc), param_hint="--log-key") from None
        return _Trust(server or (state.url if state else None), verifier)
    if state is not None and (server is None or server == state.url):
        return _Trust(state.url, state.verifier, pinned=True)
    if server is None:
        raise UsageError(
            "no log is set up: give --server URL (and --log-key KEY), or run "
            "`tally-verify init URL` first"
        )
    return None  # the server's stated key, for this run only


@contextmanager
def _log(
    app: App, server: str | None, log_key: str | None, *, session: bool = False
) -> Iterator[_Log]:
    """A client of the log and the key to check its signatures with.

    With ``session``, the pinned log is opened with its saved state (locked), so that
    the caller can check the latest checkpoint extends the one saved.
    """
    trust = _trusted(app, server, log_key)
    if trust is None:
        assert server is not None
        with LogClient(server, timeout=app.timeout) as client:
            info = client.log_info()
            try:
                verifier = parse_verifier_key(info.verifier_key)
            except KeyFormatError as exc:
                raise VerificationError(f"the log's stated key is refused: {exc}") from None
            warning = (
                f"the log's key {info.verifier_key} is the one its server states, trusted for "
                "this run only; pin the key your plan publishes with `tally-verify init URL "
                "--key KEY` or give --log-key"
            )
            app.warn("Key not pinned", warning)
            yield _Log(client, verifier, warning)
        return
    if trust.url is None:
        raise UsageError("no log is set up: give --server URL, or run `tally-verify init URL`")
    if session and trust.pinned:
        with open_session(app.state_dir, app.timeout) as opened:
            yield _Log(opened.client, opened.key, None, opened)
        return
    with LogClient(trust.url, timeout=app.timeout) as client:
        yield _Log(client, trust.verifier, None)


def _submit(
    ctx: click.Context,
    key_path: Path,
    server: str | None,
    log_key: str | None,
    entry_type: str,
    make_body: Callable[[MemberKey, str], dict[str, JSONValue]],
    next_step: str,
    *,
    on_refusal: Callable[[], None] | None = None,
    extra: dict[str, Any] | None = None,
    kept: dict[str, Any] | None = None,
    numbered: bool = True,
    before: Callable[[MemberKey], MemberKey] | None = None,
    after: Callable[[MemberKey, Accepted], MemberKey] | None = None,
) -> None:
    """Sign ``entry_type`` with the next request number, post it, keep and check the receipt.

    Without ``numbered`` (a vote), ``make_body`` gives the whole signed body. ``before``
    is the key file as saved before posting (a rotation's pending key), ``after`` as
    saved once the log took the request.
    """
    app: App = ctx.obj
    key = load_member_key(key_path)
    with _log(app, server, log_key) as log:
        origin = log.verifier.name
        if key.origin is not None and key.origin != origin:
            raise UsageError(f"{key_path} is a member key of the log {key.origin}, not of {origin}")
        given = ctx.meta.get(_REQUEST_META)
        number = (key.last_request + 1 if given is None else int(given)) if numbered else None
        document = _document(key, origin, entry_type, make_body(key, origin), number)
        if before is not None:
            key = before(key)
            save_member_key(key)
        try:
            accepted = log.client.post_request(document)
        except StatusError as exc:
            if exc.status not in _REFUSALS:
                raise
            if on_refusal is not None:
                on_refusal()
            _refused(ctx, exc, key, numbered=numbered)
        # Taken: the number is used whatever happens next.
        if number is not None:
            key = key.with_request(number)
        if after is not None:
            key = after(key, accepted)
        if number is not None or after is not None:
            save_member_key(key)
        saved = save_receipt(key, accepted.json(), document, kept)
    receipt = verify_receipt(accepted.receipt, log.verifier)
    if (receipt.seq, receipt.entry_hash) != (accepted.seq, accepted.entry_hash):
        raise VerificationError(
            f"the log's answer names seq {accepted.seq} and hash {accepted.entry_hash}, but its "
            f"signed receipt says seq {receipt.seq} and hash {receipt.entry_hash} (kept in {saved})"
        )
    asked = f" (request {number})" if number is not None else ""
    lines = [
        f"The log took your signed {entry_type}{asked} at seq {accepted.seq:,}; "
        f"a signed checkpoint will cover it by {accepted.covered_by}.",
        f"Its receipt, verified with the log's key, is kept in {saved} "
        f"(`tally-verify receipt {saved}` checks the log kept it).",
        next_step,
    ]
    app.finish(
        {
            "command": f"member {ctx.info_name}",
            "member": key.member,
            "type": entry_type,
            "request": number,
            **accepted.json(),
            "receipt_file": str(saved),
            "log_key_warning": log.warning,
            **(extra or {}),
        },
        lines,
    )


def _document(
    key: MemberKey,
    origin: str,
    entry_type: str,
    body: dict[str, JSONValue],
    number: int | None,
) -> dict[str, JSONValue]:
    """The request document: the body signed with the member key and numbered, or (a
    vote, ``number`` None) as it was given, signed by the juror key."""
    if number is None:
        return {"type": entry_type, "body": body}
    body = {**body, "request": number}
    if entry_type in KEY_REQUESTS:
        return {"type": entry_type, "body": sign_request(key.seed, origin, entry_type, body)}
    return request_document(entry_type, sign_request(key.seed, origin, entry_type, body))


def _refused(
    ctx: click.Context, exc: StatusError, key: MemberKey, *, numbered: bool = True
) -> NoReturn:
    problem = exc.problem
    rule = None if problem is None else problem.rule
    detail = str(exc) if problem is None else problem.detail or problem.title
    message = f"The log refused the request ({f'rule {rule}' if rule else exc.status}): {detail}"
    details = ["Nothing was appended" + ("; the request number was not used." if numbered else ".")]
    if rule == "request.replay":
        details.append(
            f"The log has seen a request number of {key.member} at least "
            f"{key.last_request + 1}: this key file is behind the log (an older copy?). "
            "`tally-verify member check` shows the highest number on the log; give "
            "--request with a number above it."
        )
    fail(
        ctx,
        EXIT_VERIFICATION,
        "refused",
        message,
        details=details,
        extra={
            "command": f"member {ctx.info_name}",
            "status": exc.status,
            "rule": rule,
            "detail": detail,
        },
    )


def _claim_id(claim: str) -> None:
    try:
        check_claim(claim)
    except PlanError as exc:
        raise click.BadParameter(str(exc), param_hint="--claim") from None


def _log_origin(app: App, server: str | None, log_key: str | None, origin: str | None) -> str:
    """The log a request is made for: ``--origin``, or the name of the log's key (given,
    or pinned for the pinned log), or what the server says."""
    if origin is None:
        trust = _trusted(app, server, log_key)
        if trust is not None:
            origin = trust.verifier.name
        else:
            if server is None:
                raise UsageError("give --origin, --log-key or --server to name the log")
            with LogClient(server, timeout=app.timeout) as client:
                origin = client.log_info().origin
    _check_origin(origin)
    return origin


def _check_origin(origin: str) -> None:
    try:
        check_origin(origin)
    except PlanError as exc:
        raise click.BadParameter(str(exc), param_hint="--origin") from None
