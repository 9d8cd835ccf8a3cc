"""The human-readable table (stdout) and the JSON file (``--json``).

One column per backend, one row per number, grouped by what an operator asks:
how fast can I write durably, how soon is an entry provable, how many proofs can
I serve, how long does a full re-verification take.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

from bench.results import BackendResult, Run

Cell = Callable[[BackendResult], str]
DASH = "-"


def _int(value: float) -> str:
    return f"{value:,.0f}" if math.isfinite(value) else DASH


def _ms(value: float) -> str:
    return f"{value:,.2f}" if math.isfinite(value) else DASH


def _pair(a: float, b: float) -> str:
    return f"{_ms(a)} / {_ms(b)}"


def _rows(run: Run) -> list[tuple[str, Cell | None]]:
    c = run.config
    return [
        ("Durable appends", None),
        (
            f"  batched ({c.batch_size:,}/commit, {c.batched_entries:,}), entries/s",
            lambda r: _int(r.batched.per_s) if r.batched else DASH,
        ),
        (
            "  batch commit p50 / p99, ms",
            lambda r: _pair(r.batched.batch_p50_ms, r.batched.batch_p99_ms) if r.batched else DASH,
        ),
        (
            "  mean entry size, bytes",
            lambda r: _int(r.batched.mean_entry_bytes) if r.batched else DASH,
        ),
        (
            f"  one per commit ({c.single_entries:,}), entries/s",
            lambda r: _int(r.single.per_s) if r.single else DASH,
        ),
        (
            "  commit p50 / p99, ms",
            lambda r: _pair(r.single.commit_p50_ms, r.single.commit_p99_ms) if r.single else DASH,
        ),
        (
            f"Append -> signed checkpoint ({c.latency_rounds} rounds, "
            f"1-{c.latency_max_batch} entries)",
            None,
        ),
        ("  p50, ms", lambda r: _ms(r.latency.p50_ms) if r.latency else DASH),
        ("  p99, ms", lambda r: _ms(r.latency.p99_ms) if r.latency else DASH),
        (
            "  mean / max, ms",
            lambda r: _pair(r.latency.mean_ms, r.latency.max_ms) if r.latency else DASH,
        ),
        (
            "  append p50 / publish p50, ms",
            lambda r: (
                _pair(r.latency.append_p50_ms, r.latency.publish_p50_ms) if r.latency else DASH
            ),
        ),
        (f"Large log ({c.entries:,} entries)", None),
        ("  build (5,000/commit), entries/s", lambda r: _int(r.build.per_s) if r.build else DASH),
        ("  build time, s", lambda r: _ms(r.build.seconds) if r.build else DASH),
        (
            "  log tables on disk, bytes/entry",
            lambda r: _int(r.build.bytes_per_entry) if r.build else DASH,
        ),
        ("  inclusion proofs/s, 1 thread", lambda r: _proofs(r, 1)),
        ("  inclusion proofs/s, 2 threads", lambda r: _proofs(r, 2)),
        ("  tally check (fast, 1 process), entries/s", lambda r: _check(r, "fast, 1 process")),
        ("  tally check (fast, all cores), entries/s", lambda r: _check(r, "fast, all cores")),
        ("  tally check (full, 1 process), entries/s", lambda r: _check(r, "full, 1 process")),
        ("  tally check (full, all cores), entries/s", lambda r: _check(r, "full, all cores")),
    ]


def _proofs(r: BackendResult, threads: int) -> str:
    found = [p for p in r.proofs if p.threads == threads]
    return _int(found[0].per_s) if found else DASH


def _check(r: BackendResult, mode: str) -> str:
    found = [c for c in r.checks if c.mode == mode]
    if not found:
        return DASH
    return _int(found[0].per_s) + ("" if found[0].ok else " (FAILED)")


def render(run: Run) -> str:
    """The whole report as text."""
    m = run.machine
    lines = [
        f"Tally bench, {m.started_at}, commit {m.tally_commit}",
        "",
        "Machine",
        f"  CPU        {m.cpu_model}",
        f"  cores      {m.cores} ({m.usable_cores} usable)",
        f"  RAM        {m.ram_gib} GiB",
        f"  load avg   {m.load_average} (at start)",
        f"  kernel     {m.kernel}",
        f"  Python     {m.python}",
        f"  SQLite     {m.sqlite}",
        "  libraries  " + ", ".join(f"{k} {v}" for k, v in m.libraries.items()),
    ]
    for r in run.results:
        lines += ["", f"{r.backend}"]
        if r.info is not None:
            lines.append(f"  {'version':<18} {r.info.version}")
            lines += [f"  {k:<18} {v}" for k, v in r.info.settings.items()]
            lines.append(f"  {'disk':<18} {r.info.disk}")
        if r.error is not None:
            lines.append(f"  {'ERROR':<18} {r.error}")
    width = max(len(label) for label, _ in _rows(run)) + 2
    header = "".join(f"{r.backend:>18}" for r in run.results)
    lines += ["", f"{'':<{width}}{header}"]
    for label, cell in _rows(run):
        values = "" if cell is None else "".join(f"{cell(r):>18}" for r in run.results)
        lines.append(f"{label:<{width}}{values}".rstrip())
    return "\n".join(lines)


def write_json(run: Run, path: Path) -> None:
    """Write every number and setting of the run as JSON."""
    path.write_text(json.dumps(asdict(run), indent=2) + "\n")
