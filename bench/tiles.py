"""``python -m bench.tiles``: exporting the log as static tiles (``tally tiles export``).

On each backend: build a log of ``--entries`` entries of about 400 bytes (the same
workload as the log bench), export it into an empty folder (timed), grow it by
``--grow`` entries and export again (timed: the incremental case), then count the
files and bytes written. Prints one JSON document; docs/scale.md quotes it.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench.build import build_log
from bench.databases import DEFAULT_PG_URL, Target, postgres_target, sqlite_target
from bench.machine import describe_machine
from bench.workload import make_batch
from ledger.instance import init_ledger
from ledger.publish.static_tiles import export_tiles


@contextmanager
def _target(backend: str, workdir: Path, pg_url: str) -> Iterator[Target]:
    if backend == "sqlite":
        with sqlite_target(workdir, "tiles") as target:
            yield target
    else:
        with postgres_target(pg_url, workdir, "tiles") as target:
            yield target


def _folder_size(folder: Path) -> tuple[int, int]:
    files = [p for p in folder.rglob("*") if p.is_file()]
    return len(files), sum(p.stat().st_size for p in files)


def measure(backend: str, entries: int, grow: int, pg_url: str) -> dict[str, Any]:
    """Build, export, grow, export again; the times, rates and sizes."""
    rng = random.Random(1)
    with tempfile.TemporaryDirectory(prefix="tally-bench-tiles-") as work:
        workdir = Path(work)
        with _target(backend, workdir, pg_url) as target:
            ledger, _ = init_ledger(target.url, target.key_path, "bench.tally.example/log")
            try:
                build_log(ledger, rng, entries, lambda line: print(line, flush=True))
                out = workdir / "www"
                t0 = time.perf_counter()
                first = export_tiles(ledger.store, out)
                full_s = time.perf_counter() - t0
                files, size = _folder_size(out)
                raw = sum(len(r) for _, r in ledger.log.entries(0, min(entries, 10_000)))
                ledger.log.append_batch(make_batch(rng, entries, grow))
                ledger.publisher.publish()
                t0 = time.perf_counter()
                second = export_tiles(ledger.store, out)
                incremental_s = time.perf_counter() - t0
            finally:
                ledger.close()
            shutil.rmtree(out, ignore_errors=True)
    return {
        "backend": backend,
        "entries": first.tree_size,
        "full_export_s": round(full_s, 2),
        "full_export_entries_per_s": round(first.tree_size / full_s),
        "files": files,
        "bytes": size,
        "bytes_per_entry": round(size / first.tree_size, 1),
        "entry_bytes_mean": round(raw / min(entries, 10_000), 1),
        "grow": grow,
        "incremental_export_s": round(incremental_s, 3),
        "incremental_files_written": len(second.written),
        "incremental_tiles_kept": second.kept,
    }


def main() -> None:
    """Run the measurement on the backends asked for and print the results."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--entries", type=int, default=200_000)
    parser.add_argument("--grow", type=int, default=10_000)
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL)
    args = parser.parse_args()
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    results = [measure(b, args.entries, args.grow, args.pg_url) for b in backends]
    doc = {"machine": describe_machine().__dict__, "results": results}
    print(json.dumps(doc, indent=2, default=str))


if __name__ == "__main__":
    main()
