"""The data steward's validation report: one finding list, three ways to read it.

``ideal validate`` checks a file locally and offline; this module turns the result into
what a steward at a ministry can act on without help:

* ``as_json``: the machine-readable object issue 3 specifies, values exactly as sent;
* ``render_html``: a self-contained page (inline CSS, no script, no external URL) that
  says in big words whether the file can be sent, then lists every problem with its
  row, column, value, explanation and fix, errors first;
* ``issues_csv``: the same list for Excel, with spreadsheet formula injection
  neutralised (OWASP CSV injection guidance).

Everything a steward sent (file name, cell values, notes) is untrusted: the HTML
template escapes it (Jinja2 autoescape) and the CSV defuses formulas.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import logging
from dataclasses import dataclass
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from ideal.catalogue import LANGS, Lang
from ideal.contract import column_headers
from ideal.messages import LABELS, label
from ideal.reference import UnknownCountryError, country_name
from ideal.validation import Issue, IssueCounts, Status, ValidationResult

logger = logging.getLogger(__name__)

# A cell that starts with one of these is a formula (or becomes one) in Excel,
# LibreOffice and Google Sheets; OWASP's list.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
CSV_DELIMITER: dict[Lang, str] = {"es": ";", "pt": ";", "en": ","}
STATUS_SYMBOL: dict[str, str] = {
    "accepted": "✔",
    "accepted_with_warnings": "⚠",
    "rejected": "✖",
    "unreadable": "✖",
}
SEVERITY_SYMBOL = {"error": "✖", "warning": "⚠"}
# Long notes are shown in full in the JSON; the page keeps a readable excerpt.
MAX_SHOWN_VALUE = 300


@dataclass(frozen=True)
class ReportIssue:
    """One finding, phrased in the report's language."""

    severity: str
    row: int | None
    column: str | None  # canonical name, as in the JSON
    column_label: str | None  # the header the steward sees, in their language
    value: str | None  # exactly as sent
    rule: str
    message: str
    hint: str

    @property
    def value_shown(self) -> str | None:
        if self.value is None or len(self.value) <= MAX_SHOWN_VALUE:
            return self.value
        return self.value[:MAX_SHOWN_VALUE] + "…"


@dataclass(frozen=True)
class StewardReport(IssueCounts):
    """The outcome of checking one file, ready to print, serialise or render."""

    file: str  # as given on the command line
    file_name: str  # its last part, for display
    sha256: str
    kind: str | None
    country_iso3: str | None
    status: Status
    n_rows: int
    cycle_id: str
    lang: Lang
    checked_at: dt.datetime
    issues: tuple[ReportIssue, ...]

    @property
    def country_label(self) -> str | None:
        if self.country_iso3 is None:
            return None
        try:
            return f"{country_name(self.country_iso3, self.lang)} ({self.country_iso3})"
        except UnknownCountryError:
            return self.country_iso3


def sort_key(i: Issue | ReportIssue) -> tuple[int, int]:
    """Errors first (they block the file), then by row; whole-file findings lead."""
    return (0 if i.severity == "error" else 1, i.row or 0)


def build_report(
    file: str,
    file_name: str,
    sha256: str,
    result: ValidationResult,
    *,
    kind: str | None,
    cycle_id: str,
    lang: Lang,
    checked_at: dt.datetime | None = None,
) -> StewardReport:
    """Phrase a validation result for the steward, in ``lang``.

    ``kind`` is the submission kind the reader found ("indicators"), None when the file
    could not be read at all.
    """
    headers = column_headers(lang)
    issues = []
    for i in sorted(result.issues, key=sort_key):
        message, hint = i.message(lang)
        issues.append(
            ReportIssue(
                severity=i.severity,
                row=i.row,
                column=i.column,
                column_label=headers.get(i.column, i.column) if i.column else None,
                value=i.value,
                rule=i.rule,
                message=message,
                hint=hint,
            )
        )
    return StewardReport(
        file=file,
        file_name=file_name,
        sha256=sha256,
        kind=kind,
        country_iso3=result.country_iso3,
        status="unreadable" if kind is None else result.status,
        n_rows=result.n_rows,
        cycle_id=cycle_id,
        lang=lang,
        checked_at=checked_at or dt.datetime.now().astimezone(),
        issues=tuple(issues),
    )


# -- JSON ---------------------------------------------------------------------------------
def as_json(report: StewardReport) -> dict[str, Any]:
    """The ``--json`` object: file, sha256, kind, country, status, rows, issues."""
    return {
        "file": report.file,
        "sha256": report.sha256,
        "kind": report.kind,
        "country": report.country_iso3,
        "status": report.status,
        "rows": report.n_rows,
        "issues": [
            {
                "severity": i.severity,
                "row": i.row,
                "column": i.column,
                "value": i.value,  # as sent: a consumer of JSON escapes for its own medium
                "rule": i.rule,
                "message": i.message,
                "hint": i.hint,
            }
            for i in report.issues
        ],
    }


# -- CSV ----------------------------------------------------------------------------------
def neutralise(text: str) -> str:
    """Prefix a quote to a cell a spreadsheet would run as a formula (OWASP)."""
    return "'" + text if text.startswith(FORMULA_TRIGGERS) else text


def issues_csv(report: StewardReport) -> bytes:
    """The issues as CSV for Excel: UTF-8 with BOM, the locale's separator, no formulas."""
    lang = report.lang
    buf = io.StringIO()
    # Every field quoted and every formula prefixed, as OWASP recommends.
    writer = csv.writer(
        buf, delimiter=CSV_DELIMITER[lang], quoting=csv.QUOTE_ALL, lineterminator="\r\n"
    )
    writer.writerow(
        [
            label(f"report.th.{k}", lang)
            for k in ("severity", "row", "column", "value", "message", "hint", "rule")
        ]
    )
    for i in report.issues:
        cells = [
            label(f"report.severity.{i.severity}", lang),
            "" if i.row is None else str(i.row),
            i.column_label or "",
            i.value or "",
            i.message,
            i.hint,
            i.rule,
        ]
        writer.writerow([neutralise(c) for c in cells])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


# -- HTML ---------------------------------------------------------------------------------
def _environment() -> Environment:
    return Environment(
        loader=PackageLoader("ideal", "templates"),
        autoescape=select_autoescape(
            enabled_extensions=("html", "html.j2"), default_for_string=True
        ),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def labels(lang: Lang) -> dict[str, str]:
    """Every ``report.*`` label in ``lang``, keyed without the prefix (for the template)."""
    return {
        key.removeprefix("report.").replace(".", "_"): label(key, lang)
        for key in LABELS
        if key.startswith("report.")
    }


def render_html(report: StewardReport) -> str:
    """The steward's report as one self-contained HTML page."""
    if report.lang not in LANGS:  # pragma: no cover - Lang is checked by the caller
        raise ValueError(report.lang)
    template = _environment().get_template("steward_report.html.j2")
    return template.render(
        r=report,
        t=labels(report.lang),
        status_word=label(f"report.status.{report.status}", report.lang),
        status_symbol=STATUS_SYMBOL[report.status],
        severity_symbol=SEVERITY_SYMBOL,
        checked_on=report.checked_at.strftime("%Y-%m-%d %H:%M"),
    )


def render_pages(
    file_name: str, sha256: str, result: ValidationResult, *, kind: str | None, cycle_id: str
) -> dict[str, str]:
    """The steward's report on one file as an HTML page in each working language."""
    return {
        lang: render_html(
            build_report(
                file_name, file_name, sha256, result, kind=kind, cycle_id=cycle_id, lang=lang
            )
        )
        for lang in LANGS
    }
