"""Statistics tables (CSV/XLSX) and their join to admin units (quartiers).

Everything here is pure: files in, :class:`pandas.DataFrame` out, no database.
"""

from __future__ import annotations

import csv
import difflib
import io
import math
import re
import unicodedata
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from charset_normalizer import from_bytes

from quartier.errors import InvalidInput

__all__ = [
    "JoinResult",
    "UnmatchedRow",
    "join_to_units",
    "normalise_name",
    "read_table",
]

_DELIMITERS = (";", "\t", ",", "|")  # preference order when scores tie
_WESTERN = ["cp1252", "iso8859_15", "latin_1", "utf_16", "utf_32"]
_COMMA_NUMBER = re.compile(r"[+-]?\d+(?:[ \u00a0\u202f]\d{3})*(?:,\d+)?")
_CODE_LIKE = re.compile(r"[+-]?0\d|[+-]?\d{16}")  # leading zero or too long
_INTEGER = re.compile(r"[+-]?\d+")
_DOT_NUMBER = re.compile(
    r"[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?|inf(?:inity)?|nan)", re.IGNORECASE
)
_GROUPING = re.compile(r"[ \u00a0\u202f]")
_INTEGRAL_TEXT = re.compile(r"([+-]?\d+)\.0+")
_SEPARATORS = str.maketrans(
    dict.fromkeys("-\u2010\u2011\u2012\u2013\u2014\u2015'\u2018\u2019\u02bc`_.", " ")
)


def read_table(path: str | Path, *, sheet: str | None = None) -> pd.DataFrame:
    """Read a statistics table from a CSV/TSV/TXT or XLSX file.

    Parameters
    ----------
    path : str or Path
        The file. Text files have their encoding and delimiter detected.
    sheet : str, optional
        XLSX sheet name; the first sheet by default.

    Returns
    -------
    pandas.DataFrame
        Stripped header names; numeric text columns (``"3766,069"`` or
        ``"12.5"``) become numbers unless a value has a leading zero.

    Raises
    ------
    InvalidInput
        Empty, unreadable or malformed file, unclosed quote, empty or
        duplicate column names, ``.xls`` files, unknown sheet.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".xls":
        raise InvalidInput(f"{path.name}: .xls is not supported; save it as .xlsx")
    if suffix == ".xlsx":
        return _read_xlsx(path, sheet)
    if suffix in (".csv", ".tsv", ".txt"):
        return _read_text(path)
    raise InvalidInput(f"{path.name}: unsupported format; use .csv, .txt or .xlsx")


def _read_text(path: Path) -> pd.DataFrame:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InvalidInput(f"{path.name}: cannot read the file ({exc})") from exc
    if not raw.strip():
        raise InvalidInput(f"{path.name}: the file is empty")
    text = _decode(raw, path.name)
    reader = csv.reader(
        io.StringIO(text, newline=""), delimiter=_sniff_delimiter(text), strict=True
    )
    rows: list[tuple[int, list[str]]] = []
    while True:
        start = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            hint = (
                "unclosed double quote"
                if "end of data" in str(exc)
                else f"bad CSV ({exc})"
            )
            raise InvalidInput(f"{path.name}: line {start}: {hint}") from exc
        if any(cell.strip() for cell in row):
            rows.append((start, row))
    if not rows:
        raise InvalidInput(f"{path.name}: the file is empty")
    return _build_frame(path.name, rows[0][1], rows[1:])


def _decode(raw: bytes, name: str) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    match = from_bytes(raw, cp_isolation=_WESTERN).best() or from_bytes(raw).best()
    if match is None:
        raise InvalidInput(f"{name}: unknown text encoding; save it as UTF-8")
    return str(match).lstrip("\ufeff")


def _sniff_delimiter(text: str) -> str:
    """Pick the delimiter whose count outside quotes is steadiest per record."""
    records: list[str] = []
    chars: list[str] = []
    in_quotes = False
    for char in text[:65536]:
        if char == '"':
            in_quotes = not in_quotes
        elif char == "\n" and not in_quotes:
            records.append("".join(chars))
            chars = []
        elif not in_quotes:
            chars.append(char)
    records.append("".join(chars))

    def score(delim: str) -> tuple[int, int]:
        header = records[0].count(delim)
        return (
            sum(r.count(delim) == header for r in records) if header else -1,
            header,
        )

    best = max(_DELIMITERS, key=score)
    return best if best in records[0] else ","


def _read_xlsx(path: Path, sheet: str | None) -> pd.DataFrame:
    import openpyxl

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # zipfile/openpyxl raise many unrelated types
        raise InvalidInput(f"{path.name}: not a readable .xlsx file ({exc})") from exc
    try:
        if sheet is not None and sheet not in book.sheetnames:
            raise InvalidInput(
                f"{path.name}: no sheet {sheet!r}; sheets are "
                + ", ".join(book.sheetnames)
            )
        worksheet = book[sheet] if sheet is not None else book.worksheets[0]
        lines = enumerate(worksheet.iter_rows(values_only=True), start=1)
        rows = [(n, list(r)) for n, r in lines if any(map(_present, r))]
    finally:
        book.close()
    if not rows:
        raise InvalidInput(f"{path.name}: the sheet is empty")
    return _build_frame(path.name, rows[0][1], rows[1:])


def _present(value: object) -> bool:
    return value is not None and not (isinstance(value, str) and not value.strip())


def _build_frame(
    name: str, header: Sequence[object], rows: Sequence[tuple[int, list[Any]]]
) -> pd.DataFrame:
    width = max([len(header), *(len(r) for _, r in rows)])
    names = [("" if h is None else str(h)).strip() for h in header]
    cells = [list(r) + [None] * (width - len(r)) for _, r in rows]
    while (
        names and not names[-1] and not any(_present(r[len(names) - 1]) for r in cells)
    ):
        names.pop()  # trailing delimiters / formatted-but-empty cells
    for line, row in rows:
        if any(_present(v) for v in row[len(names) :]):
            raise InvalidInput(f"{name}: line {line} has more values than headers")
    _check_header(name, names)
    columns = {col: _coerce([r[i] for r in cells]) for i, col in enumerate(names)}
    return pd.DataFrame(columns, index=pd.RangeIndex(len(cells)))


def _check_header(name: str, names: list[str]) -> None:
    seen: dict[str, int] = {}
    for number, column in enumerate(names, start=1):
        if not column:
            raise InvalidInput(f"{name}: column {number} has no name")
        if column in seen:
            raise InvalidInput(f"{name}: column {number} {column!r} is a duplicate")
        seen[column] = number


def _coerce(values: list[Any]) -> pd.Series:
    """Strip text cells, blank → missing, all-numeric text → numbers."""
    values = [v.strip() if isinstance(v, str) else v for v in values]
    values = [v if _present(v) else None for v in values]
    texts = [v for v in values if v is not None]
    if not all(isinstance(v, str) for v in texts) or any(map(_CODE_LIKE.match, texts)):
        return pd.Series(values)  # typed XLSX cells, or codes like "0101"
    integers = all(map(_INTEGER.fullmatch, texts))
    if not integers and all(map(_COMMA_NUMBER.fullmatch, texts)):
        return pd.Series([_comma_float(v) for v in values], dtype=float)
    if integers and texts and len(texts) == len(values):
        return pd.Series([int(v) for v in texts], dtype="int64")
    if all(map(_DOT_NUMBER.fullmatch, texts)):
        floats = [math.nan if v is None else float(v) for v in values]
        return pd.Series(floats, dtype=float)
    return pd.Series(values)


def _comma_float(text: str | None) -> float:
    return (
        math.nan if text is None else float(_GROUPING.sub("", text).replace(",", "."))
    )


def normalise_name(text: str) -> str:
    """Return an accent-, case-, punctuation- and space-insensitive key.

    Parameters
    ----------
    text : str
        A unit name as written by a human.

    Returns
    -------
    str
        NFKD without combining marks, casefolded, hyphens, apostrophes,
        underscores and dots turned into spaces, whitespace collapsed.

    Examples
    --------
    >>> normalise_name("  Quartier  Saint-Étienne ")
    'quartier saint etienne'
    >>> normalise_name("17 MAI") == normalise_name("17 Mai")
    True
    """
    for _ in range(2):  # twice: casefold/NFKD can each re-expose the other
        text = unicodedata.normalize("NFKD", text.casefold())
        text = "".join(c for c in text if not unicodedata.combining(c))
    return " ".join(text.translate(_SEPARATORS).split())


def _missing(value: Any) -> bool:
    return bool(pd.api.types.is_scalar(value) and pd.isna(value))


def _code_key(value: object) -> str | None:
    """Code as text: stripped, leading zeros kept, ``101.0`` → ``"101"``."""
    if _missing(value):
        return None
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return str(int(value))
    text = str(value).strip()
    integral = _INTEGRAL_TEXT.fullmatch(text)
    return (integral.group(1) if integral else text) or None


def _name_key(value: object) -> str | None:
    return None if _missing(value) else normalise_name(str(value)) or None


@dataclass(frozen=True)
class UnmatchedRow:
    """A table row whose key matched no unit (``row``: spreadsheet row, 2 = first)."""

    row: int
    value: str
    suggestion: str | None = None


@dataclass(frozen=True)
class JoinResult:
    """Outcome of :func:`join_to_units`; ``table`` starts with ``unit_code``."""

    table: pd.DataFrame
    matched: int
    unmatched: list[UnmatchedRow]
    by: str
    column: str
    duplicates: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _UnitIndex:
    key: Callable[[object], str | None]
    codes: dict[str, str]  # key → unit code, unambiguous keys only
    labels: dict[str, str]  # key → unit label (code or name) as written

    @classmethod
    def build(cls, units: pd.DataFrame, by: str) -> _UnitIndex:
        key = _code_key if by == "code" else _name_key
        codes: dict[str, str | None] = {}
        labels: dict[str, str] = {}
        for code, label in zip(units["code"], units[by], strict=True):
            unit_key, unit_code = key(label), _code_key(code)
            if unit_key is None or unit_code is None:
                continue
            labels.setdefault(unit_key, str(label).strip())
            codes[unit_key] = None if unit_key in codes else unit_code
        unique = {k: c for k, c in codes.items() if c is not None}
        return cls(key, unique, labels)

    def count(self, values: Iterable[object]) -> int:
        return sum(self.key(v) in self.labels for v in values)

    def suggest(self, key: str) -> str | None:
        close = difflib.get_close_matches(key, list(self.codes), n=1, cutoff=0.8)
        return self.labels[close[0]] if close else None


def join_to_units(
    table: pd.DataFrame,
    units: pd.DataFrame,
    *,
    by: str | None = None,
    table_column: str | None = None,
) -> JoinResult:
    """Attach a ``unit_code`` column to ``table`` by unit code or unit name.

    Parameters
    ----------
    table : pandas.DataFrame
        Statistics, one row per unit (or more: every row is matched).
    units : pandas.DataFrame
        Admin units with ``code`` and ``name`` columns.
    by : {"code", "name"}, optional
        Key kind. By default the column matching most unit codes is used if
        it matches at least half the rows, else the best name column.
    table_column : str, optional
        Force the table column holding the key.

    Returns
    -------
    JoinResult
        Unmatched rows carry spreadsheet row numbers and, by name, the
        closest unit name; names shared by several units are ambiguous,
        never matched, and listed in ``duplicates``.

    Raises
    ------
    InvalidInput
        Missing columns, bad ``by``, or no usable key column.
    """
    _check_inputs(table, units, by, table_column)
    indexes = {kind: _UnitIndex.build(units, kind) for kind in ("code", "name")}
    by, column = _choose_key(table, indexes, by, table_column)
    return _match(table, column, by, indexes[by])


def _check_inputs(
    table: pd.DataFrame, units: pd.DataFrame, by: str | None, column: str | None
) -> None:
    missing = [c for c in ("code", "name") if c not in units.columns]
    if missing:
        raise InvalidInput(f"units: missing column(s) {', '.join(missing)}")
    if by not in (None, "code", "name"):
        raise InvalidInput(f"by must be 'code', 'name' or None, not {by!r}")
    if not table.columns.is_unique:
        raise InvalidInput("table: column names must be unique")
    if "unit_code" in table.columns:
        raise InvalidInput("table: already has a 'unit_code' column")
    if column is not None and column not in table.columns:
        raise InvalidInput(
            f"table: no column {column!r}; columns are "
            + ", ".join(map(str, table.columns))
        )


def _best_column(
    table: pd.DataFrame, columns: Sequence[Hashable], index: _UnitIndex
) -> tuple[Hashable, int]:
    scores = [(index.count(table[c]), c) for c in columns]
    best = max(scores, key=lambda s: s[0], default=(0, None))  # first wins ties
    return best[1], best[0]


def _choose_key(
    table: pd.DataFrame,
    indexes: dict[str, _UnitIndex],
    by: str | None,
    forced: str | None,
) -> tuple[str, Any]:
    columns = [forced] if forced is not None else list(table.columns)
    tried = ", ".join(map(str, columns)) or "(no columns)"
    if forced is not None and by is None:
        code_hits = indexes["code"].count(table[forced])
        name_hits = indexes["name"].count(table[forced])
        return ("code" if code_hits and code_hits >= name_hits else "name"), forced
    if by is not None:
        column, hits = _best_column(table, columns, indexes[by])
        if hits == 0 and forced is None:
            raise InvalidInput(f"table: no column matches any unit {by}; tried {tried}")
        return by, column
    for kind in ("code", "name"):
        column, hits = _best_column(table, columns, indexes[kind])
        if hits and hits >= len(table) / 2:
            return kind, column
    raise InvalidInput(
        "table: no column matches unit codes or names for at least "
        f"half the rows; tried {tried}"
    )


def _match(table: pd.DataFrame, column: Any, by: str, index: _UnitIndex) -> JoinResult:
    codes: list[str | None] = []
    unmatched: list[UnmatchedRow] = []
    duplicates: dict[str, None] = {}
    for position, value in enumerate(table[column].tolist()):
        key = index.key(value)
        code = index.codes.get(key) if key is not None else None
        codes.append(code)
        if code is not None:
            continue
        suggestion = None
        if key is not None and key in index.labels:  # known key, so ambiguous
            duplicates[index.labels[key]] = None
        elif key is not None and by == "name":
            suggestion = index.suggest(key)
        unmatched.append(UnmatchedRow(position + 2, _code_key(value) or "", suggestion))
    out = table.copy()
    out.insert(0, "unit_code", pd.Series(codes, index=table.index, dtype=object))
    return JoinResult(
        out, len(codes) - len(unmatched), unmatched, by, column, list(duplicates)
    )
