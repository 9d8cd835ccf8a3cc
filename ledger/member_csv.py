"""A CSV of people to enrol, read as real exports come, each row checked on its own.

The file has a header row. Column ``age_band`` (``0-39`` or ``40-59``) goes on the
log; every other column is the person's identity record, kept off it. Text is
UTF-8, with or without the byte-order mark spreadsheet programs write, or GBK
(GB18030) when the operator says so: Excel on Chinese Windows saves "CSV" in GBK.
A file that cannot be read at all raises :class:`CsvError` saying why (the
encoding, with the line; a missing column, naming the columns found); a row that
cannot join is kept with the reason, so that the import can report every row.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

from ledger.domain.rules import AGE_BANDS
from ledger.errors import LedgerError

ENCODINGS = ("utf-8", "gbk", "gb18030")
AGE_BAND = "age_band"
MAX_ROWS = 1_000_000


class CsvError(LedgerError):
    """The file cannot be read as a CSV of people to enrol."""


@dataclass(frozen=True)
class Row:
    """One person: the file's line, age band and identity record, or why it cannot join."""

    line: int
    age_band: str
    identity: dict[str, str] = field(default_factory=dict)
    problem: str | None = None


def read_people(path: Path, encoding: str = "utf-8") -> list[Row]:
    """Every data row of the file, in order, each checked (blank lines skipped)."""
    if encoding not in ENCODINGS:
        raise CsvError(f"expected an encoding of {', '.join(ENCODINGS)}, found {encoding!r}")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CsvError(f"cannot read {path}: {exc.strerror}") from None
    text = _decode(path, data, encoding)
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader, None)
        if header is None:
            raise CsvError(
                f"{path} is empty: expected a header row naming age_band and the identity "
                "columns (name, phone, ...)"
            )
        names = _columns(path, header)
        rows: list[Row] = []
        for fields in reader:
            if not any(value.strip() for value in fields):
                continue
            if len(rows) >= MAX_ROWS:
                raise CsvError(f"{path} has more than {MAX_ROWS:,} rows: split it")
            rows.append(_row(reader.line_num, names, fields))
    except csv.Error as exc:
        raise CsvError(f"{path} line {reader.line_num}: not valid CSV: {exc}") from None
    return rows


def _decode(path: Path, data: bytes, encoding: str) -> str:
    codec = "utf-8-sig" if encoding == "utf-8" else encoding
    try:
        text = data.decode(codec)
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        hint = (
            "; if it was saved as GBK (as Excel on Chinese Windows does), pass --encoding gbk"
            if encoding == "utf-8"
            else ""
        )
        raise CsvError(
            f"{path} is not {encoding.upper()} text: byte 0x{data[exc.start]:02x} on line "
            f"{line} is not part of any character{hint}"
        ) from None
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        raise CsvError(f"{path} line {line}: a NUL character; expected text")
    return text.removeprefix("\ufeff")


def _columns(path: Path, header: list[str]) -> list[str]:
    names = [name.strip() for name in header]
    found = ", ".join(repr(n) for n in names)
    if AGE_BAND not in names:
        raise CsvError(f"{path} has no {AGE_BAND} column; its header names {found}")
    for position, name in enumerate(names, start=1):
        if not name:
            raise CsvError(f"{path}: column {position} of the header has no name")
        if names.count(name) > 1:
            raise CsvError(f"{path}: the header names column {name!r} twice")
    if len(names) == 1:
        raise CsvError(
            f"{path} has only the {AGE_BAND} column: expected identity columns beside it "
            "(name, phone, ...), which stay off the log"
        )
    return names


def _row(line: int, names: list[str], fields: list[str]) -> Row:
    if len(fields) != len(names):
        return Row(
            line,
            "",
            problem=f"expected {len(names)} fields ({', '.join(names)}), found {len(fields)}",
        )
    values = {name: value.strip() for name, value in zip(names, fields, strict=True)}
    band = values.pop(AGE_BAND)
    if band not in AGE_BANDS:
        return Row(
            line,
            band,
            values,
            f"expected {AGE_BAND} {' or '.join(AGE_BANDS)}, found {band!r}",
        )
    if not any(values.values()):
        return Row(line, band, values, "every identity column is empty")
    return Row(line, band, values)
