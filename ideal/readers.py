"""Readers: turn the bytes of a CSV, XLSX or JSON submission into rows of cells.

Readers find the header (in en, es or pt, below any title or notes rows), map it to the
canonical column names of ``ideal.contract``, and keep every cell as it was sent along
with the row number the steward sees. They never interpret values: that is the
contract's job. A file that is not a submission at all raises ``UnreadableFile`` with a
reason code that ``ideal.messages`` can phrase in any language.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import re
import zipfile
from dataclasses import dataclass, field
from typing import Any, Literal

from ideal.contract import FILE_COLUMNS, REQUIRED_COLUMNS, fold, header_lookup

logger = logging.getLogger(__name__)

Format = Literal["csv", "xlsx", "json"]
Cell = str | float | int | None

MAX_FILE_BYTES = 512 * 1024 * 1024
HEADER_SCAN_ROWS = 15
MIN_HEADER_MATCHES = 3
# Zip-bomb limits for XLSX: real workbooks compress 9-15:1; bombs hundreds to one.
XLSX_MAX_MEMBERS = 500
XLSX_MAX_MEMBER_BYTES = 256 * 1024 * 1024
XLSX_MAX_TOTAL_BYTES = 1024 * 1024 * 1024
XLSX_MAX_RATIO = 100.0
OLE_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


class UnreadableFile(Exception):
    """The bytes are not a submission ideal can read; ``reason`` is a code for messages."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


@dataclass
class RawRow:
    source_row: int
    cells: dict[str, Cell]


@dataclass
class RawSubmission:
    """A parsed file: canonical columns found, the rows, and how the file was written."""

    fmt: Format
    header_row: int
    columns: dict[str, str]  # canonical -> header as written
    unknown_columns: list[str]
    rows: list[RawRow]
    decimal: Literal[".", ","] = "."
    encoding: str | None = None
    delimiter: str | None = None
    sheet: str | None = None
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def missing_columns(self) -> list[str]:
        return [c for c in REQUIRED_COLUMNS if c not in self.columns]


def sniff_format(data: bytes) -> Format:
    """Decide the format from the bytes themselves, never from the file name."""
    if not data.strip():
        raise UnreadableFile("empty")
    if data.startswith(OLE_SIGNATURE):
        raise UnreadableFile("encrypted_or_xls")
    if data.startswith(b"PK\x03\x04"):
        return "xlsx"
    head = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head[:1] in (b"{", b"["):
        return "json"
    return "csv"


def read_submission(data: bytes) -> RawSubmission:
    """Read any supported format. Raises UnreadableFile when it is not a submission."""
    if len(data) > MAX_FILE_BYTES:
        raise UnreadableFile("too_large", f"{len(data)} bytes")
    fmt = sniff_format(data)
    if fmt == "xlsx":
        return read_xlsx(data)
    if fmt == "json":
        return read_json(data)
    return read_csv(data)


# -- header detection -------------------------------------------------------------------
def _match_header(cells: list[Any]) -> tuple[dict[str, int], list[tuple[int, str]]]:
    """Canonical column -> index for recognised headers, and the unrecognised ones."""
    lookup = header_lookup()
    found: dict[str, int] = {}
    unknown: list[tuple[int, str]] = []
    for i, cell in enumerate(cells):
        text = "" if cell is None else str(cell).strip()
        if not text:
            continue
        canonical = lookup.get(fold(text))
        if canonical is not None and canonical not in found:
            found[canonical] = i
        else:
            unknown.append((i, text))
    return found, unknown


def _find_header(rows: list[list[Any]]) -> tuple[int, dict[str, int], list[tuple[int, str]]]:
    best: tuple[int, dict[str, int], list[tuple[int, str]]] = (-1, {}, [])
    for i, cells in enumerate(rows[:HEADER_SCAN_ROWS]):
        found, unknown = _match_header(cells)
        if len(found) > len(best[1]):
            best = (i, found, unknown)
    return best


def _build(
    fmt: Format,
    rows: list[list[Any]],
    row_numbers: list[int],
    **kwargs: Any,
) -> RawSubmission:
    idx, found, unknown = _find_header(rows)
    if len(found) < MIN_HEADER_MATCHES:
        raise UnreadableFile("no_header")
    out_rows: list[RawRow] = []
    for cells, number in zip(rows[idx + 1 :], row_numbers[idx + 1 :], strict=True):
        if all(c is None or (isinstance(c, str) and not c.strip()) for c in cells):
            continue  # blank lines are not rows
        mapped: dict[str, Cell] = {}
        for name, col in found.items():
            mapped[name] = _cell(cells[col]) if col < len(cells) else None
        out_rows.append(RawRow(number, mapped))
    return RawSubmission(
        fmt=fmt,
        header_row=row_numbers[idx],
        columns={name: str(rows[idx][col]).strip() for name, col in found.items()},
        unknown_columns=[text for _, text in unknown],
        rows=out_rows,
        **kwargs,
    )


def _cell(value: Any) -> Cell:
    if value is None or isinstance(value, str | int | float):
        if isinstance(value, bool):
            return str(value)
        return value
    return str(value)  # dates, times: keep their text form


# -- CSV --------------------------------------------------------------------------------
def decode_text(data: bytes) -> tuple[str, str]:
    """Decode with the encodings national exports use; returns (text, encoding)."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16"), "utf-16"
    sample = data[:65536]
    if b"\x00" in sample:
        raise UnreadableFile("binary")
    for encoding in ("utf-8-sig", "cp1252", "latin-1"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if encoding == "latin-1" or _mostly_text(text[:65536]):
            return text, "utf-8" if encoding == "utf-8-sig" and not data.startswith(
                b"\xef\xbb\xbf"
            ) else encoding
    raise UnreadableFile("binary")


def _mostly_text(text: str) -> bool:
    if not text:
        return True
    controls = sum(1 for c in text if ord(c) < 32 and c not in "\r\n\t")
    return controls / len(text) < 0.01


def read_csv(data: bytes) -> RawSubmission:
    text, encoding = decode_text(data)
    if not _mostly_text(text[:65536]):
        raise UnreadableFile("binary")
    best: tuple[int, str] = (-1, ",")
    head_lines = text.splitlines()[:HEADER_SCAN_ROWS]
    for delimiter in (",", ";", "\t", "|"):
        parsed = list(csv.reader(head_lines, delimiter=delimiter))
        _, found, _ = _find_header(parsed)
        if len(found) > best[0]:
            best = (len(found), delimiter)
    delimiter = best[1]
    csv.field_size_limit(16 * 1024 * 1024)
    try:
        rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error as exc:
        raise UnreadableFile("bad_csv", str(exc)) from None
    # csv rows are physical-line-based only when no quoted newlines exist; count lines.
    numbers = _line_numbers(text, delimiter, len(rows))
    sub = _build("csv", rows, numbers, encoding=encoding, delimiter=delimiter)
    sub.decimal = _guess_decimal([r.cells.get("value") for r in sub.rows], delimiter)
    return sub


def _line_numbers(text: str, delimiter: str, n_rows: int) -> list[int]:
    """The editor line on which each parsed CSV record starts (1-based)."""
    numbers: list[int] = []
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    line = 1
    for _ in reader:
        numbers.append(line)
        line = reader.line_num + 1
    return numbers[:n_rows]


_COMMA_DECIMAL = re.compile(r"^[+-]?(\d{1,3}(\.\d{3})+(,\d+)?|\d+,\d+)$")
_POINT_DECIMAL = re.compile(r"^[+-]?(\d{1,3}(,\d{3})+(\.\d+)?|\d+\.\d+)$")


def _guess_decimal(values: list[Cell], delimiter: str) -> Literal[".", ","]:
    """Decimal separator of the file, from the unambiguous value cells."""
    comma = point = 0
    for v in values:
        if not isinstance(v, str):
            continue
        s = v.strip().replace("\u00a0", "").replace(" ", "")
        is_comma, is_point = bool(_COMMA_DECIMAL.match(s)), bool(_POINT_DECIMAL.match(s))
        if is_comma and not is_point:
            comma += 1
        elif is_point and not is_comma:
            point += 1
    if comma != point:
        return "," if comma > point else "."
    return "," if delimiter == ";" else "."


# -- XLSX -------------------------------------------------------------------------------
def check_zip(data: bytes) -> None:
    """Refuse zip bombs and non-workbook zips before openpyxl sees them."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise UnreadableFile("bad_xlsx", "not a valid zip container") from None
    with archive:
        infos = archive.infolist()
        if len(infos) > XLSX_MAX_MEMBERS:
            raise UnreadableFile("zip_bomb", f"{len(infos)} members")
        total = sum(i.file_size for i in infos)
        packed = sum(i.compress_size for i in infos) or 1
        if any(i.file_size > XLSX_MAX_MEMBER_BYTES for i in infos) or total > XLSX_MAX_TOTAL_BYTES:
            raise UnreadableFile("zip_bomb", f"{total} bytes uncompressed")
        if total > 10 * 1024 * 1024 and total / packed > XLSX_MAX_RATIO:
            raise UnreadableFile("zip_bomb", f"compression ratio {total / packed:.0f}:1")
        if any(i.flag_bits & 0x1 for i in infos):
            raise UnreadableFile("encrypted_or_xls")
        if "[Content_Types].xml" not in {i.filename for i in infos}:
            raise UnreadableFile("bad_xlsx", "zip file is not a workbook")


def read_xlsx(data: bytes) -> RawSubmission:
    check_zip(data)
    import openpyxl  # imported here: only XLSX submissions need it

    try:
        wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for corrupt files
        raise UnreadableFile("bad_xlsx", type(exc).__name__) from None
    best: RawSubmission | None = None
    try:
        for ws in wb.worksheets:
            rows: list[list[Any]] = []
            for cells in ws.iter_rows(min_row=1, values_only=True):
                rows.append(list(cells))
            if not rows:
                continue
            try:
                sub = _build("xlsx", rows, list(range(1, len(rows) + 1)), sheet=ws.title)
            except UnreadableFile:
                continue
            if best is None or len(sub.columns) > len(best.columns):
                best = sub
    finally:
        wb.close()
    if best is None:
        raise UnreadableFile("no_header")
    return best


# -- JSON -------------------------------------------------------------------------------
def read_json(data: bytes) -> RawSubmission:
    text, encoding = decode_text(data)
    try:
        doc = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as exc:
        raise UnreadableFile("bad_json", str(exc)[:200]) from None
    top: dict[str, Any] = {}
    if isinstance(doc, dict):
        top = {k: v for k, v in doc.items() if k != "rows"}
        items = doc.get("rows")
    else:
        items = doc
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise UnreadableFile("bad_json", "expected a list of row objects under 'rows'")
    lookup = header_lookup()
    columns: dict[str, str] = {}
    unknown: list[str] = []
    rows: list[RawRow] = []
    default_country = top.get("country") or top.get("país") or top.get("pais")
    for number, item in enumerate(items, start=1):
        cells: dict[str, Cell] = {}
        for key, value in item.items():
            canonical = lookup.get(fold(str(key)))
            if canonical is None:
                if key not in unknown:
                    unknown.append(str(key))
                continue
            columns.setdefault(canonical, str(key))
            cells[canonical] = (
                value
                if isinstance(value, str | int | float) or value is None
                else json.dumps(value)
            )
        if "country" not in cells and default_country is not None:
            cells["country"] = str(default_country)
            columns.setdefault("country", "country")
        rows.append(
            RawRow(number, {c: cells.get(c) for c in FILE_COLUMNS if c in columns or c in cells})
        )
    if not items:
        columns = {c: c for c in FILE_COLUMNS}  # an empty list: a header with no data
    return RawSubmission(
        fmt="json",
        header_row=0,
        columns=columns,
        unknown_columns=unknown,
        rows=rows,
        encoding=encoding,
        details={"top_level": {k: str(v)[:100] for k, v in top.items()}},
    )
