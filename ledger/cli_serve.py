"""What ``tally serve`` and ``tally demo`` need besides the app: a socket, and what to try.

The listening socket is bound before the server starts, so that a port in use is a
sentence and exit code 4, not a traceback from deep inside the server; the server
is then handed that socket, so no other process can take the port in between.
"""

from __future__ import annotations

import errno
import socket

from ledger.errors import LedgerError
from ledger.log.entry import parse_entry
from ledger.log.log import Log

_SCAN = 1_000


class AddressError(LedgerError):
    """The address to serve on cannot be used (in use, not allowed, or not this host's)."""


def bind_socket(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host``:``port``, or :class:`AddressError` saying why not."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise AddressError(f"cannot serve on {host}: {exc.strerror}") from None
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise AddressError(
                f"port {port} on {host} is already in use (another server, perhaps an earlier "
                f"'make demo' or 'tally serve'?): stop it, or pick another port with --port "
                f"(make demo PORT=...)"
            ) from None
        raise AddressError(f"cannot serve on {host} port {port}: {exc.strerror}") from None
    sock.set_inheritable(True)
    return sock


def sample_member(log: Log) -> str | None:
    """A member worth showing: a claimant paid in the latest period that paid a claim.

    Falls back to the latest member to join, so that a log with members always gives
    one. Reads the log backwards in chunks; None for a log without members.
    """
    end = log.size()
    joined: str | None = None
    while end > 0:
        start = max(0, end - _SCAN)
        for _, raw in reversed(log.entries(start, end)):
            entry = parse_entry(raw)
            if entry.type == "period.closed" and entry.body["claims"]:
                claim_seq = int(str(entry.body["claims"][0]).removeprefix("c-"))
                filed = parse_entry(log.entries(claim_seq, claim_seq + 1)[0][1])
                return str(filed.body["member"])
            if entry.type == "member.joined" and joined is None:
                joined = str(entry.body["member"])
        end = start
    return joined


def demo_addresses(base: str, db: str, size: int, member: str | None) -> list[str]:
    """The lines ``tally demo`` prints: every address to try, and commands to run."""
    lines = [
        f"  open {base}/   # the members' page: the plan, 公示, a statement checked in the browser",
        f"  curl {base}/v1/log",
        f"  curl {base}/v1/checkpoint",
        f"  curl '{base}/v1/entries?start=0&end=3'          # genesis, the rules, a member",
        f"  curl '{base}/v1/proof/inclusion?seq=42&tree_size={size}'",
        f"  curl '{base}/v1/proof/consistency?first=1000&second={size}'",
        f"  curl {base}/v1/stats                       # each period: members, aid, fee, share",
        f"  curl '{base}/v1/claims?status=paid'",
        f"  curl {base}/checkpoint                     # the log as C2SP tiles, for any cache",
    ]
    if member is not None:
        lines += [
            f"  open '{base}/#/statement?member={member}'   # their statement, in the browser",
            f"  curl '{base}/v1/members/{member}/statement'   # how this member's share was used",
            f"  .venv/bin/tally-verify init {base}   # then, checking every number:",
            f"  .venv/bin/tally-verify statement --member {member}",
        ]
    lines += [
        f"  open {base}/docs for the API's own documentation",
        f"  .venv/bin/tally --db {db} plan status     # in another terminal",
        f"  .venv/bin/tally --db {db} check           # re-derive the log and the plan",
        f"  .venv/bin/tally --db {db} token create --role operator --name demo",
        "      # a token for the admin API at /admin/v1 (see the docs page)",
    ]
    return lines
