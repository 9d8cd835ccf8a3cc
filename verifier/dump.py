"""The offline dump of a log: its format, reading it, and scanning it in parallel.

A dump (``tally-verify dump``) is a folder with ``checkpoint``, the signed note as
served, and ``entries.jsonl``, one ``{"seq": n, "leaf": "<base64 of the exact
entry bytes>"}`` per line in seq order, exactly as many as the checkpoint's size.
Nothing in a dump is trusted: the note is verified with the pinned key and the
entries are replayed against it (:mod:`verifier.audit`, :mod:`verifier.links`).

:func:`scan_dump` cuts ``entries.jsonl`` into runs of whole lines and scans each
run's chain and tree (:func:`verifier.links.scan`) in a process of its own, one per
core; the runs come back in order for :class:`verifier.links.LinkReplay` to join.
"""

from __future__ import annotations

import binascii
import itertools
import json
import multiprocessing
import os
import re
import threading
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import IO

from verifier.b64 import Base64Error, decode, encode
from verifier.entry import TimeBounds
from verifier.errors import VerificationError
from verifier.links import Segment, scan
from verifier.strict_json import StrictJSONError, loads_object

DUMP_CHECKPOINT = "checkpoint"
DUMP_ENTRIES = "entries.jsonl"
RUN_BYTES = 8 * 1024 * 1024
"""About how many bytes of ``entries.jsonl`` one process scans at a time."""
MAX_LINE_BYTES = 100_000
"""Longer than any dump line: the base64 of a 65,535-byte entry is 87,380 bytes."""


class DumpError(VerificationError):
    """An offline dump is not in the dump format, so it does not hold a checkable log."""


def read_dump_checkpoint(folder: Path) -> str:
    """The signed note text of a dump (unverified)."""
    try:
        return (folder / DUMP_CHECKPOINT).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DumpError(f"cannot read {folder / DUMP_CHECKPOINT}: {exc}") from None


def read_dump_entries(folder: Path, size: int) -> Iterator[bytes]:
    """Yield the exact bytes of a dump's entries 0 to ``size - 1``.

    Raises :class:`DumpError` on a line that is not ``{"seq", "leaf"}`` with the
    next seq, or if the file holds more or fewer than ``size`` entries.
    """
    path = folder / DUMP_ENTRIES
    try:
        handle = path.open("rb")
    except OSError as exc:
        raise DumpError(f"cannot read {path}: {exc}") from None
    with handle:
        seq = -1
        for seq, line in enumerate(iter(lambda: _bounded_line(handle, path), b"")):
            if seq >= size:
                raise DumpError(f"{path} holds more than the {size:,} entries its checkpoint signs")
            yield _dump_line(path, seq, line)
        if seq + 1 < size:
            raise DumpError(f"{path} holds {seq + 1:,} entries, but its checkpoint signs {size:,}")


_FIRST_SEQ = re.compile(rb'\{"seq":(0|[1-9][0-9]{0,15}),')


def _dump_line(path: Path, seq: int, line: bytes) -> bytes:
    # The shape write_dump_line writes, checked at fixed offsets; any other line
    # takes the general path, which also says what is wrong.
    head = b'{"seq":%d,"leaf":"' % seq
    end = -3 if line.endswith(b'"}\n') else -2 if line.endswith(b'"}') else 0
    if end and line.startswith(head):
        leaf = line[len(head) : end]
        try:
            raw = binascii.a2b_base64(leaf, strict_mode=True)
        except binascii.Error:
            raw = None
        if raw is not None and binascii.b2a_base64(raw, newline=False) == leaf:
            return raw
    where = f"{path} line {seq + 1}"
    try:
        doc = loads_object(line)
    except StrictJSONError as exc:
        raise DumpError(f"{where}: expected a JSON object, found {line[:80]!r} ({exc})") from None
    if set(doc) != {"seq", "leaf"}:
        raise DumpError(f'{where}: expected exactly {{"seq", "leaf"}}, found {line[:80]!r}')
    if type(doc["seq"]) is not int or doc["seq"] != seq:
        raise DumpError(f"{where}: expected seq {seq}, found {doc['seq']!r:.40}")
    try:
        return decode(doc["leaf"], "leaf")
    except Base64Error as exc:
        raise DumpError(f"{where}: {exc}") from None


def write_dump_line(out: IO[bytes], seq: int, raw: bytes) -> None:
    """Write one ``entries.jsonl`` line."""
    line = {"seq": seq, "leaf": encode(raw)}
    out.write(json.dumps(line, separators=(",", ":")).encode("ascii") + b"\n")


def scan_dump(
    folder: Path, size: int, processes: int | None = None, bounds: TimeBounds | None = None
) -> Iterator[Segment]:
    """Yield the scanned runs of a dump's ``size`` entries, in order (see the module doc).

    Uses ``processes`` worker processes (default: one per core; 1 scans in this
    process); ``bounds`` as :func:`~verifier.links.scan`. Raises :class:`DumpError` as
    :func:`read_dump_entries` does.
    """
    path = folder / DUMP_ENTRIES
    try:
        total = path.stat().st_size
        runs = _runs(path, total)
    except OSError as exc:
        raise DumpError(f"cannot read {path}: {exc}") from None
    workers = min(processes or os.cpu_count() or 1, len(runs))
    if workers <= 1:
        segments: Iterator[Segment] = (_scan_run(str(path), b, e, bounds) for b, e in runs)
        yield from _in_order(path, segments, size)
        return
    # fork is quickest, but forking a process that runs other threads (a progress
    # bar's, say) can deadlock the child; then start fresh interpreters instead.
    alone = threading.active_count() == 1 and "fork" in multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if alone else "spawn")
    with ProcessPoolExecutor(workers, mp_context=context) as pool:
        begins, ends = [b for b, _ in runs], [e for _, e in runs]
        paths, times = [str(path)] * len(runs), [bounds] * len(runs)
        yield from _in_order(path, pool.map(_scan_run, paths, begins, ends, times), size)


def _in_order(path: Path, segments: Iterator[Segment], size: int) -> Iterator[Segment]:
    expected = 0
    for segment in segments:
        if segment.start != expected:
            raise DumpError(
                f"{path} line {expected + 1}: expected seq {expected}, found {segment.start}"
            )
        expected += segment.count
        if expected > size:
            raise DumpError(f"{path} holds more than the {size:,} entries its checkpoint signs")
        yield segment
    if expected < size:
        raise DumpError(f"{path} holds {expected:,} entries, but its checkpoint signs {size:,}")


def _bounded_line(handle: IO[bytes], path: Path) -> bytes:
    """The next line (b"" at the end), refusing one longer than any dump line can be."""
    line = handle.readline(MAX_LINE_BYTES + 1)
    if len(line) > MAX_LINE_BYTES:
        raise DumpError(
            f"{path} has a line of more than {MAX_LINE_BYTES:,} bytes near byte "
            f"{handle.tell() - len(line):,}; a line holds one entry of at most 65,535 bytes"
        )
    return line


def _runs(path: Path, total: int) -> list[tuple[int, int]]:
    """Byte ranges of whole lines, each about :data:`RUN_BYTES` long."""
    bounds = [0]
    with path.open("rb") as handle:
        while bounds[-1] + RUN_BYTES < total:
            handle.seek(bounds[-1] + RUN_BYTES)
            _bounded_line(handle, path)  # on to the start of the next line
            at = handle.tell()
            if at >= total:
                break
            bounds.append(at)
    bounds.append(total)
    return [(b, e) for b, e in itertools.pairwise(bounds) if e > b]


def _scan_run(path_text: str, begin: int, end: int, bounds: TimeBounds | None = None) -> Segment:
    """Scan the lines in bytes ``begin`` to ``end`` of ``entries.jsonl`` (a worker's task)."""
    path = Path(path_text)
    try:
        with path.open("rb") as handle:
            handle.seek(begin)
            data = handle.read(end - begin)
    except OSError as exc:
        raise DumpError(f"cannot read {path}: {exc}") from None
    lines = data.split(b"\n")
    if lines and not lines[-1]:
        lines.pop()  # the text after the last newline
    first = _first_seq(path, begin, lines[0]) if lines else 0
    return scan(_decode_lines(path, first, lines), first, bounds)


def _decode_lines(path: Path, first: int, lines: list[bytes]) -> list[bytes]:
    """:func:`_dump_line` over newline-stripped ``lines`` from seq ``first``, inlined for speed."""
    a2b = binascii.a2b_base64
    raws: list[bytes] = []
    for seq, line in enumerate(lines, first):
        head = b'{"seq":%d,"leaf":"' % seq
        if line.startswith(head) and line.endswith(b'"}'):
            leaf = line[len(head) : -2]
            try:
                raw = a2b(leaf, strict_mode=True)
            except binascii.Error:
                raw = None
            if raw is not None and _canonical_padding(leaf):
                raws.append(raw)
                continue
        raws.append(_dump_line(path, seq, line))
    return raws


# Base64 digits whose low 4 (before "==") or low 2 (before "=") bits are zero: the
# unused bits of the last group, which a canonical encoding leaves zero (RFC 4648 §3.5).
_ZERO_LOW_4 = frozenset(b"AQgw")
_ZERO_LOW_2 = frozenset(b"AEIMQUYcgkosw048")


def _canonical_padding(leaf: bytes) -> bool:
    """Tell whether valid base64 ``leaf`` leaves its unused bits zero."""
    if leaf.endswith(b"=="):
        return leaf[-3] in _ZERO_LOW_4
    if leaf.endswith(b"="):
        return leaf[-2] in _ZERO_LOW_2
    return True


def _first_seq(path: Path, begin: int, line: bytes) -> int:
    match = _FIRST_SEQ.match(line)
    if match is not None:
        return int(match[1])
    try:
        seq = loads_object(line).get("seq")
    except StrictJSONError:
        seq = None
    if type(seq) is not int or seq < 0:
        raise DumpError(
            f'{path} at byte {begin}: expected a {{"seq", "leaf"}} line, found {line[:80]!r}'
        )
    return seq
