"""The mutual-aid plan's arithmetic and cryptographic rules, re-derived from specs/plan.md.

- :mod:`verifier.plan.periods`: period ids, cutoffs, the period open at a time (§8.1);
- :mod:`verifier.plan.apportion`: fee, share, carry, charges, subsidy, conservation (§8.2);
- :mod:`verifier.plan.sumtree`: the contribution Merkle sum tree and its proofs (§9);
- :mod:`verifier.plan.draw`: pool root, pool signature, seed and juror draw (§6);
- :mod:`verifier.plan.vote`: the vote message and signature check (§7);
- :mod:`verifier.plan.errors`: the typed errors, under ``VerificationError``.

Pure functions only: reading the log to find their inputs is the caller's job.
"""
