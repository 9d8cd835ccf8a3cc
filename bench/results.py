"""The shape of a run's results, shared by the runner and the report.

Plain dataclasses so ``--json`` is ``dataclasses.asdict`` of a :class:`Run`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bench.appends import BatchedAppends, SingleAppends
from bench.build import Build
from bench.checks import CheckRate
from bench.databases import BackendInfo
from bench.latency import CheckpointLatency
from bench.machine import Machine
from bench.proofs import ProofRate


@dataclass
class Config:
    """What was asked for."""

    backends: list[str]
    entries: int
    batched_entries: int
    batch_size: int
    single_entries: int
    latency_rounds: int
    latency_max_batch: int
    proof_seconds: float
    seed: int
    workdir: str


@dataclass
class BackendResult:
    """Everything measured on one backend; a phase is None if it did not run."""

    backend: str
    info: BackendInfo | None = None
    batched: BatchedAppends | None = None
    single: SingleAppends | None = None
    latency: CheckpointLatency | None = None
    build: Build | None = None
    proofs: list[ProofRate] = field(default_factory=list)
    checks: list[CheckRate] = field(default_factory=list)
    error: str | None = None


@dataclass
class Run:
    """One invocation of the bench."""

    machine: Machine
    config: Config
    results: list[BackendResult] = field(default_factory=list)
