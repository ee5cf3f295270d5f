"""Readers: turn the bytes of a CSV, XLSX or JSON submission into rows of cells.

Readers find the header (in en, es or pt, below any title or notes rows), map it to the
canonical column names of ``ideal.contract``, tell from it which kind of submission the
file is (indicator values or event records), and keep every cell as it was sent along
with the row number the steward sees. They never interpret values: that is the
contract's job. A file that is not a submission at all raises ``UnreadableFile`` with a
reason code that ``ideal.messages`` can phrase in any language.

``sniff_csv`` reads only the head of a CSV file (encoding, delimiter, header, kind); the
SQL path of ``ideal.sqlcheck`` uses it to let DuckDB read the rows of a large file.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import logging
import re
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from ideal.contract import COLUMNS, NUMBER_COLUMN, REQUIRED, Kind, fold, header_lookup

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
    """A parsed file: its kind, canonical columns found, the rows, how it was written.

    When DuckDB read the rows instead of Python (``ideal.sqlcheck``), ``rows`` is empty,
    ``n_staged`` counts them and ``staged`` names the DuckDB view holding them
    (``source_row`` and one column per canonical column found) on the connection that
    read them, while it is open.
    """

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
    kind: Kind = "indicators"
    staged: str | None = None
    n_staged: int = 0

    @property
    def missing_columns(self) -> list[str]:
        return [c for c in REQUIRED[self.kind] if c not in self.columns]

    @property
    def n_rows(self) -> int:
        return len(self.rows) if self.rows else self.n_staged


def sniff_format(data: bytes) -> Format:
    """Decide the format from the bytes themselves, never from the file name."""
    if not data[:65536].strip() and not data.strip():  # strip a large file only if need be
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
_ONLY: dict[Kind, frozenset[str]] = {
    "indicators": frozenset(COLUMNS["indicators"]) - frozenset(COLUMNS["events"]),
    "events": frozenset(COLUMNS["events"]) - frozenset(COLUMNS["indicators"]),
}


def detect_kind(columns: Iterable[str]) -> Kind:
    """Indicator values or event records, from the canonical columns a header names.

    The columns the two kinds share (country, unit, grades …) say nothing; the others
    vote. A tie (or no vote) means indicators, the kind every country sends.
    """
    found = set(columns)
    events, indicators = len(found & _ONLY["events"]), len(found & _ONLY["indicators"])
    return "events" if events > indicators else "indicators"


def _split_kind(
    found: dict[str, int], unknown: list[tuple[int, str]], cells: list[Any]
) -> tuple[Kind, dict[str, int], list[tuple[int, str]]]:
    """Keep the columns of the file's kind; the other kind's columns are unknown here."""
    kind = detect_kind(found)
    keep = {name: i for name, i in found.items() if name in COLUMNS[kind]}
    other = [(i, str(cells[i]).strip()) for name, i in found.items() if name not in keep]
    return kind, keep, sorted(unknown + other)


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
    fill: Cell = None,
    **kwargs: Any,
) -> RawSubmission:
    """Rows below the header, mapped to canonical columns.

    ``fill`` stands for the cells a short row lacks: '' in CSV, where a missing trailing
    field and an empty one look the same to the steward (and to DuckDB).
    """
    idx, found, unknown = _find_header(rows)
    if len(found) < MIN_HEADER_MATCHES:
        raise UnreadableFile("no_header")
    kind, found, unknown = _split_kind(found, unknown, rows[idx])
    out_rows: list[RawRow] = []
    for cells, number in zip(rows[idx + 1 :], row_numbers[idx + 1 :], strict=True):
        if is_blank_row(cells):
            continue  # blank lines are not rows
        mapped: dict[str, Cell] = {}
        for name, col in found.items():
            mapped[name] = _cell(cells[col]) if col < len(cells) else fill
        out_rows.append(RawRow(number, mapped))
    return RawSubmission(
        fmt=fmt,
        header_row=row_numbers[idx],
        columns={name: str(rows[idx][col]).strip() for name, col in found.items()},
        unknown_columns=[text for _, text in unknown],
        rows=out_rows,
        kind=kind,
        **kwargs,
    )


def is_blank_row(cells: list[Any]) -> bool:
    """A row with nothing but empty or whitespace cells is not a data row."""
    return all(c is None or (isinstance(c, str) and not c.strip()) for c in cells)


def _cell(value: Any) -> Cell:
    if value is None or isinstance(value, str | int | float):
        if isinstance(value, bool):
            return str(value)
        return value
    return str(value)  # dates, times: keep their text form


# -- CSV --------------------------------------------------------------------------------
def decode_text(data: bytes) -> tuple[str, str]:
    """Decode with the encodings national exports use; returns (text, encoding)."""
    encoding = detect_encoding(data)
    codec = "utf-8-sig" if encoding in ("utf-8", "utf-8-sig") else encoding
    return data.decode(codec), encoding


def detect_encoding(data: bytes, *, whole: bool = True) -> str:
    """The encoding of a text submission: utf-16, utf-8-sig, utf-8, cp1252 or latin-1.

    The whole file must decode; the first 64 KiB must look like text. With ``whole``
    False, a file whose first 64 KiB are UTF-8 is taken for UTF-8 without decoding the
    rest: for a reader that checks every byte itself (DuckDB refuses invalid UTF-8).
    """
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    sample = data[:65536]
    if b"\x00" in sample:
        raise UnreadableFile("binary")
    if not whole:
        try:  # not final: a character cut at the end of the sample is no error
            head = codecs.getincrementaldecoder("utf-8-sig")().decode(sample, final=False)
        except UnicodeDecodeError:
            pass
        else:
            if _mostly_text(head):
                return "utf-8-sig" if data.startswith(b"\xef\xbb\xbf") else "utf-8"
    for encoding in ("utf-8-sig", "cp1252", "latin-1"):
        try:
            data.decode(encoding)  # the whole file, so a bad byte far down is caught here
        except UnicodeDecodeError:
            continue
        head = sample.decode(encoding, errors="ignore")
        if encoding == "latin-1" or _mostly_text(head):
            if encoding == "utf-8-sig" and not data.startswith(b"\xef\xbb\xbf"):
                return "utf-8"
            return encoding
    raise UnreadableFile("binary")


def _mostly_text(text: str) -> bool:
    if not text:
        return True
    controls = sum(1 for c in text if ord(c) < 32 and c not in "\r\n\t")
    return controls / len(text) < 0.01


@dataclass(frozen=True)
class CsvLayout:
    """How a CSV file is written, from its head: what the SQL path needs to read it."""

    encoding: str
    delimiter: str
    header_row: int  # editor line of the header (1-based)
    width: int  # fields in the widest of the head lines
    kind: Kind
    positions: dict[str, int]  # canonical column -> field index
    columns: dict[str, str]  # canonical column -> header as written
    unknown_columns: list[str]


def _choose_delimiter(head_lines: list[str]) -> str:
    best: tuple[int, str] = (-1, ",")
    for delimiter in (",", ";", "\t", "|"):
        parsed = list(csv.reader(head_lines, delimiter=delimiter))
        _, found, _ = _find_header(parsed)
        if len(found) > best[0]:
            best = (len(found), delimiter)
    return best[1]


SNIFF_BYTES = 1024 * 1024


def sniff_csv(data: bytes, *, whole: bool = True) -> CsvLayout:
    """Encoding, delimiter, header and kind of a CSV file, from its first lines only.

    The head is read exactly as ``read_csv`` reads the whole file (same delimiter
    choice, same records, same line numbers), so the two agree on the layout. ``whole``
    is as for ``detect_encoding``. A head
    too long to hold the lines the header is looked for in raises UnreadableFile.
    """
    encoding = detect_encoding(data, whole=whole)
    codec = "utf-8-sig" if encoding in ("utf-8", "utf-8-sig") else encoding
    head = data[:SNIFF_BYTES].decode(codec, errors="replace")
    if not _mostly_text(head[:65536]):
        raise UnreadableFile("binary")
    delimiter = _choose_delimiter(head.splitlines()[:HEADER_SCAN_ROWS])
    records: list[list[str]] = []
    numbers: list[int] = []
    reader = csv.reader(io.StringIO(head, newline=""), delimiter=delimiter)
    line = 1
    try:
        for cells in reader:
            records.append(cells)
            numbers.append(line)
            line = reader.line_num + 1
            if len(records) > HEADER_SCAN_ROWS:
                break
    except csv.Error as exc:
        raise UnreadableFile("bad_csv", str(exc)) from None
    if len(data) > SNIFF_BYTES and len(records) <= HEADER_SCAN_ROWS:
        raise UnreadableFile("no_header", "the first lines are too long to sniff")
    records = records[:HEADER_SCAN_ROWS]
    idx, found, unknown = _find_header(records)
    if len(found) < MIN_HEADER_MATCHES:
        raise UnreadableFile("no_header")
    kind, found, unknown = _split_kind(found, unknown, records[idx])
    return CsvLayout(
        encoding=encoding,
        delimiter=delimiter,
        header_row=numbers[idx],
        width=max(len(cells) for cells in records),
        kind=kind,
        positions=found,
        columns={name: str(records[idx][col]).strip() for name, col in found.items()},
        unknown_columns=[text for _, text in unknown],
    )


def read_csv(data: bytes) -> RawSubmission:
    text, encoding = decode_text(data)
    if not _mostly_text(text[:65536]):
        raise UnreadableFile("binary")
    delimiter = _choose_delimiter(text.splitlines()[:HEADER_SCAN_ROWS])
    csv.field_size_limit(16 * 1024 * 1024)
    try:
        rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error as exc:
        raise UnreadableFile("bad_csv", str(exc)) from None
    # csv rows are physical-line-based only when no quoted newlines exist; count lines.
    numbers = _line_numbers(text, delimiter, len(rows))
    sub = _build("csv", rows, numbers, fill="", encoding=encoding, delimiter=delimiter)
    number_column = NUMBER_COLUMN[sub.kind]
    sub.decimal = guess_decimal([r.cells.get(number_column) for r in sub.rows], delimiter)
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


# ASCII digits only, so that DuckDB's RE2 (``ideal.sqlcheck``) reads a cell the same way.
COMMA_DECIMAL_RE = r"[+-]?([0-9]{1,3}(\.[0-9]{3})+(,[0-9]+)?|[0-9]+,[0-9]+)"
POINT_DECIMAL_RE = r"[+-]?([0-9]{1,3}(,[0-9]{3})+(\.[0-9]+)?|[0-9]+\.[0-9]+)"
_COMMA_DECIMAL = re.compile(COMMA_DECIMAL_RE)
_POINT_DECIMAL = re.compile(POINT_DECIMAL_RE)


def guess_decimal(values: Iterable[Cell], delimiter: str) -> Literal[".", ","]:
    """Decimal separator of the file, from the unambiguous number cells."""
    comma = point = 0
    for v in values:
        if not isinstance(v, str):
            continue
        s = v.strip().replace("\u00a0", "").replace(" ", "")
        is_comma, is_point = bool(_COMMA_DECIMAL.fullmatch(s)), bool(_POINT_DECIMAL.fullmatch(s))
        if is_comma and not is_point:
            comma += 1
        elif is_point and not is_comma:
            point += 1
    return decide_decimal(comma, point, delimiter)


def decide_decimal(comma: int, point: int, delimiter: str | None) -> Literal[".", ","]:
    """The majority of unambiguous cells decides; a tie goes by the delimiter."""
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
    keys = {lookup.get(fold(str(k))) for item in items[:HEADER_SCAN_ROWS] for k in item}
    kind = detect_kind(k for k in keys if k is not None)
    if "kind" in top and str(top["kind"]) in ("indicators", "events"):
        kind = "events" if str(top["kind"]) == "events" else "indicators"
    lookup = {k: v for k, v in lookup.items() if v in COLUMNS[kind]}
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
            RawRow(number, {c: cells.get(c) for c in COLUMNS[kind] if c in columns or c in cells})
        )
    if not items:
        columns = {c: c for c in COLUMNS[kind]}  # an empty list: a header with no data
    return RawSubmission(
        fmt="json",
        header_row=0,
        columns=columns,
        unknown_columns=unknown,
        rows=rows,
        encoding=encoding,
        details={"top_level": {k: str(v)[:100] for k, v in top.items()}},
        kind=kind,
    )
