"""Tally's independent verifier: checks proofs, checkpoints and entries against specs/ alone."""
