"""Typed errors of the verifier.

Every error says what was expected and what was found. The hierarchy::

    VerificationError
    ├── ProofError              an RFC 9162 proof is malformed or does not verify
    │   └── RootMismatchError   a proof computes a root other than the expected one
    ├── NoteError               a C2SP signed note is malformed
    │   ├── SignatureError      a known key's signature on a note is invalid
    │   └── UnverifiedNoteError no known key signed the note
    ├── KeyFormatError          a verifier-key string is malformed
    ├── CheckpointFormatError   a checkpoint body breaks C2SP tlog-checkpoint
    ├── EntryError              an entry's bytes break the entry rules (has ``kind``)
    ├── ChainError              the seq order or hash chain is broken (has ``seq``)
    ├── ForkError               two checkpoints signed by the log's key conflict
    │                           (in :mod:`verifier.fork`, with the evidence)
    ├── AuditFailedError        a replay found violations, each with its seq
    │                           (in :mod:`verifier.audit`)
    └── DumpError               an offline dump is not in the dump format
                                (in :mod:`verifier.dump`)

Three more roots are about the verifier's surroundings, not the data it checks::

    ServerError                 the server was unreachable or answered outside specs/http.md
    ├── ResponseTooLargeError   an answer exceeded the client's size cap
    └── StatusError             the server answered with an error status (has ``problem``)
    StateError                  the verifier's own state or files are missing or unusable
    UsageError                  what the member asked for cannot be checked as asked
    ├── NotOnLogError           the server answers that the log has no such member or period
    └── ProblemFileError        a file holds the server's error answer, not the document asked

Misuse of the API (a negative start seq, say) raises ``ValueError`` instead.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # verifier.problem imports this module; only the type is needed here
    from verifier.problem import Problem


class VerificationError(Exception):
    """Root of every error the verifier raises about the data it checks."""


class ProofError(VerificationError):
    """An RFC 9162 inclusion or consistency proof is malformed or does not verify."""


class RootMismatchError(ProofError):
    """A proof led to ``calculated`` where the trusted root is ``expected``."""

    def __init__(self, expected: bytes, calculated: bytes, what: str = "root") -> None:
        super().__init__(
            f"{what} mismatch: expected {expected.hex()}, calculated {calculated.hex()}"
        )
        self.expected = expected
        self.calculated = calculated


class NoteError(VerificationError):
    """A signed note is malformed (C2SP signed-note)."""


class SignatureError(NoteError):
    """A signature line from a known key does not verify over the note text."""


class UnverifiedNoteError(NoteError):
    """The note is well formed but carries no signature from any known key."""


class KeyFormatError(VerificationError):
    """A verifier-key string ``<name>+<hex8>+<base64>`` is malformed."""


class CheckpointFormatError(VerificationError):
    """A checkpoint body breaks C2SP tlog-checkpoint or the origin is not the expected one."""


class EntryError(VerificationError):
    """An entry is refused; ``kind`` names the broken rule (e.g. ``"not_canonical"``).

    ``seq`` is the chain position being checked when known, else ``None``.
    """

    def __init__(self, kind: str, message: str, seq: int | None = None) -> None:
        where = "" if seq is None else f"entry at seq {seq}: "
        super().__init__(f"{where}{kind}: {message}")
        self.kind = kind
        self.detail = message
        self.seq = seq


class ChainError(VerificationError):
    """A rule of the chain (specs/log.md §3) is broken at ``seq``; ``rule`` is its id.

    The ids: ``log.genesis``, ``log.seq``, ``log.prev``, ``log.time.order`` and
    ``log.time.ahead``.
    """

    def __init__(self, seq: int, message: str, rule: str) -> None:
        super().__init__(f"seq {seq}: {rule} (log.md §3): {message}")
        self.seq = seq
        self.rule = rule


class ServerError(Exception):
    """The server could not be reached, or its answer broke the contract of specs/http.md.

    Nothing is concluded about the log from such an answer: it is neither accepted
    nor held against the log.
    """


class ResponseTooLargeError(ServerError):
    """An answer was larger than the client accepts (the cap protects memory)."""


class StateError(Exception):
    """The verifier's saved state is missing or unusable, or a local file cannot be written."""


class StatusError(ServerError):
    """The server answered with an error status; ``problem`` is its problem document, if any."""

    def __init__(self, message: str, status: int, problem: Problem | None) -> None:
        super().__init__(message)
        self.status = status
        self.problem = problem


class UsageError(Exception):
    """What the member asked for, or the file given, cannot be checked as asked (exit 2)."""


class NotOnLogError(UsageError):
    """The log's server answers that the log has no such member, or no such closed period.

    Nothing is concluded about the log: a server can say so falsely, but then it
    has shown nothing, and there is nothing to check.
    """

    def __init__(self, message: str, problem: Problem) -> None:
        super().__init__(message)
        self.problem = problem


class ProblemFileError(UsageError):
    """A file given to be checked holds the server's error answer instead (a saved 404, say)."""

    def __init__(self, problem: Problem, expected: str) -> None:
        super().__init__(
            f"this file is the server's error answer, not {expected}: {problem.summary()}"
        )
        self.problem = problem
