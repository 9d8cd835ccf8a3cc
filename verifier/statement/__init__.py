"""A member's statement (specs/statement.md): check one bundle completely and offline.

A bundle is a sparse part of the log: some entries, each with its inclusion proof
against one signed checkpoint, and the member's contribution proofs. Nothing in it
is believed: the steps of :data:`~verifier.statement.verify.STEPS` check the
checkpoint's signature with the key the caller trusts, every proof, every entry's
bytes (entries.md), the chain links between adjacent seqs, and re-run the plan's
rules (plan.md) over the entries present with a sparse variant of
:class:`~verifier.plan.state.PlanReplay`. P's apportionment and the member's own
charge are recomputed from the entries and the contribution proofs.
:func:`verify_statement` also compares the bundle's checkpoint with the member's
saved one.

What one bundle cannot show is that nothing was left out of the log (statement.md
§3); the report says which checks a full ``audit`` adds.

Modules: :mod:`~verifier.statement.document` (the format),
:mod:`~verifier.statement.log_steps` and :mod:`~verifier.statement.plan_steps` (the
checks), :mod:`~verifier.statement.sparse` (the plan replay over a bundle),
:mod:`~verifier.statement.consistency` (the saved checkpoint),
:mod:`~verifier.statement.verify` (the sequence), :mod:`~verifier.statement.report`.
"""

from __future__ import annotations

from verifier.money import yuan
from verifier.statement.consistency import Comparison, ProofSource, compare_with_saved
from verifier.statement.document import BUNDLE_KEYS, FORMAT, parse_bundle_bytes
from verifier.statement.errors import StatementError
from verifier.statement.report import (
    NOT_CHECKED,
    ClaimPart,
    RecoveryPart,
    StatementReport,
    split_signed,
)
from verifier.statement.verify import (
    STEPS,
    StatementVerdict,
    Step,
    verify_bundle,
    verify_statement,
)

__all__ = [
    "BUNDLE_KEYS",
    "FORMAT",
    "NOT_CHECKED",
    "STEPS",
    "ClaimPart",
    "Comparison",
    "ProofSource",
    "RecoveryPart",
    "StatementError",
    "StatementReport",
    "StatementVerdict",
    "Step",
    "compare_with_saved",
    "parse_bundle_bytes",
    "split_signed",
    "verify_bundle",
    "verify_statement",
    "yuan",
]
