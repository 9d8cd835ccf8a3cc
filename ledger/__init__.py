"""Tally's ledger: the append-only log, its signed checkpoints, and the operator tools."""
