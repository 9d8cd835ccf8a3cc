"""Tally's benchmark: ``python -m bench``.

Measures what an operator needs to size a deployment, on SQLite and PostgreSQL:
durable append rates (batched and one entry per commit), the latency from an
append to a signed checkpoint covering it, inclusion proofs served from the store
on a large log (one and two threads), the rate of building that log, and the rate
of ``tally check`` over it. Every database it uses is created fresh and removed
at the end. It only measures and reports; it never asserts a timing.
"""
