"""The mutual-aid plan's rules, re-derived from specs/plan.md, and their replay over a log.

Arithmetic and cryptography, as pure functions of their inputs:

- :mod:`verifier.plan.periods`: period ids, cutoffs, the period open at a time (§8.1);
- :mod:`verifier.plan.apportion`: fee, share, carry, charges, subsidy, conservation (§8.2);
- :mod:`verifier.plan.sumtree`: the contribution Merkle sum tree and its proofs (§9);
- :mod:`verifier.plan.draw`: pool root, pool signature, seed and juror draw (§6);
- :mod:`verifier.plan.vote`: the vote message and signature check (§7);
- :mod:`verifier.plan.ids`: the id and value formats they share;
- :mod:`verifier.plan.errors`: the typed errors, under ``VerificationError``.

The replay, which reads the log's entries in order and keeps the state they imply:

- :mod:`verifier.plan.state`: :class:`~verifier.plan.state.PlanReplay`, from genesis,
  entry by entry: dispatch, actors, members and jurors (§4), the wind-down, periods
  and contribution roots (§8-§9);
- :mod:`verifier.plan.rules`: the versioned rules and which is in force when (§2);
- :mod:`verifier.plan.keys`: rotations and recoveries of a member's key, and their
  refusal (§4.6), over the roster's record of every member key ever named;
- :mod:`verifier.plan.claims`: each claim's lifecycle (§5);
- :mod:`verifier.plan.panel`: the signed pool, the draw and the votes (§6-§7);
- :mod:`verifier.plan.records`: the rule error, strict body readers, times, records.

Like the rest of ``verifier``, nothing here imports the ledger or the API: the plan is
re-derived from the spec and the entries alone.
"""
