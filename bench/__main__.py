"""Entry point for ``python -m bench``; see :mod:`bench.cli`."""

from bench.cli import main

# Guarded: `tally check` starts worker processes that re-import this module.
if __name__ == "__main__":
    raise SystemExit(main())
