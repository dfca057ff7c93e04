"""Reading a client base exported from elsewhere (CSV: name, company, phones, emails, manager). Pure.

Exports come from Excel and 1C as often as from other helpdesks, so the delimiter (``,`` or ``;``) is
detected, header names are matched in English or Russian and in any case, a BOM is ignored, and several
phones or emails share one cell separated by ``;``, ``,`` or ``|`` (whichever is not the delimiter). Every
row is checked whole: a row with one bad phone is reported, not half-imported. Reasons never repeat the
values, because the report travels back to a browser and into logs.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass

from .canonical_identifiers import InvalidIdentifier
from .matching import Identifier, parse_identifiers
from .policy import MatchPolicy

MAX_ROWS = 100_000
MAX_FIELD_CHARS = 500
#: Column names accepted for each field (compared case-insensitively, surrounding space ignored).
HEADERS: dict[str, tuple[str, ...]] = {
    "name": ("name", "full_name", "full name", "contact", "фио", "имя", "контактное лицо"),
    "company": ("company", "organisation", "organization", "компания", "организация", "клиент"),
    "phones": ("phones", "phone", "телефон", "телефоны"),
    "emails": ("emails", "email", "e-mail", "почта", "эл. почта"),
    "manager": ("manager", "account_manager", "account manager", "менеджер", "ответственный"),
}
_SPLIT = re.compile(r"[;,|\n]")


class ImportRefused(ValueError):
    """The file as a whole cannot be read (no header we know, too many rows). The message says why."""


@dataclass(frozen=True)
class ImportRow:
    """One good row: a contact person (or a private client) with normalised identifiers."""

    line: int
    name: str | None
    company: str | None
    manager: str | None
    identifiers: tuple[Identifier, ...]


@dataclass(frozen=True)
class RowError:
    line: int
    reason: str


def read_rows(text: str, policy: MatchPolicy) -> tuple[list[ImportRow], list[RowError]]:
    """Good rows and the reasons for the bad ones, with 1-based line numbers of the file."""
    text = text.removeprefix("\ufeff")
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    try:
        header = next(reader)
    except StopIteration:
        raise ImportRefused("the file is empty") from None
    columns = _columns(header)
    rows: list[ImportRow] = []
    errors: list[RowError] = []
    seen: dict[tuple[str, str], int] = {}
    for number, cells in enumerate(reader, start=2):
        if number - 1 > MAX_ROWS:
            raise ImportRefused(f"more than {MAX_ROWS} rows; split the file")
        if not any(c.strip() for c in cells):
            continue
        try:
            row = _row(number, cells, columns, policy)
        except (InvalidIdentifier, ValueError) as exc:
            errors.append(RowError(number, str(exc)))
            continue
        clash = next((seen[i.key] for i in row.identifiers if i.key in seen), None)
        if clash is not None:
            errors.append(RowError(number, f"a phone or email of this row is already on line {clash}"))
            continue
        seen.update({i.key: number for i in row.identifiers})
        rows.append(row)
    return rows, errors


def _columns(header: list[str]) -> dict[str, int]:
    names = [h.strip().casefold() for h in header]
    columns = {field: names.index(alias) for field, aliases in HEADERS.items()
               for alias in aliases if alias in names}
    if "name" not in columns and "company" not in columns:
        raise ImportRefused("the header names neither a name nor a company column")
    return columns


def _row(number: int, cells: list[str], columns: dict[str, int], policy: MatchPolicy) -> ImportRow:
    def cell(field: str) -> str | None:
        index = columns.get(field)
        value = cells[index].strip() if index is not None and index < len(cells) else ""
        if len(value) > MAX_FIELD_CHARS:
            raise ValueError(f"{field} is longer than {MAX_FIELD_CHARS} characters")
        return value or None

    name, company = cell("name"), cell("company")
    if not name and not company:
        raise ValueError("neither name nor company")
    phones = [p.strip() for p in _SPLIT.split(cell("phones") or "") if p.strip()]
    emails = [e.strip() for e in _SPLIT.split(cell("emails") or "") if e.strip()]
    identifiers = parse_identifiers(phones, emails, policy)
    unique = tuple({i.key: i for i in identifiers}.values())
    return ImportRow(number, name, company, cell("manager"), unique)
