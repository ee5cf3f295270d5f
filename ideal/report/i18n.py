"""Translations and locale-aware formatting for the report.

What belongs here: loading the gettext catalogs of ``ideal/locale`` (English is the
source language; ``es`` and ``pt`` have ``.po`` files), checking them, and formatting
numbers, percentages and dates the way each reader expects (``1.234,5`` in es/pt).

The ``.po`` files are compiled in memory the first time a language is used (Babel's
``read_po`` + ``write_mo`` → ``gettext.GNUTranslations``), so there is no build step and
no ``.mo`` file to forget to regenerate.

Re-extracting messages after changing the template or the Python strings::

    .venv/bin/pybabel extract -F ideal/locale/babel.cfg -o ideal/locale/ideal.pot \\
        --project ideal --no-location --sort-output .
    .venv/bin/pybabel update -i ideal/locale/ideal.pot -d ideal/locale -D ideal \\
        --no-fuzzy-matching

(``write_pot()`` does the first step from Python.) Then fill every empty ``msgstr`` in
``ideal/locale/{es,pt}/LC_MESSAGES/ideal.po``; ``catalog_problems()`` lists what is
still missing, and the tests fail while anything is.

Plural forms: CLDR 49 gives es and pt three forms (one / many / other). The ``.po``
``Plural-Forms`` header must say the same as ``babel.messages.plurals.get_plural``,
otherwise plural messages silently fall back to English; ``catalog_problems()`` checks it.
"""

from __future__ import annotations

import gettext
import logging
import math
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from io import BytesIO
from pathlib import Path
from typing import Literal, cast

from babel.core import Locale
from babel.dates import format_date, format_datetime
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.plurals import get_plural
from babel.messages.pofile import read_po, write_po
from babel.numbers import NumberPattern, parse_pattern

from ideal.catalogue import BABEL_LOCALES, LANGS, Lang

logger = logging.getLogger(__name__)

SOURCE_LANG: Lang = "en"
# d3-format locale for the axis labels that Vega draws itself.
D3Locale = Literal["es-ES", "pt-BR", "en-US"]
D3_LOCALE: dict[Lang, D3Locale] = {"es": "es-ES", "pt": "pt-BR", "en": "en-US"}

DOMAIN = "ideal"
LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
POT_PATH = LOCALE_DIR / f"{DOMAIN}.pot"
BABEL_CFG = LOCALE_DIR / "babel.cfg"
HEADER_COMMENT = (
    "# {language} of the messages of ideal's committee report (English is the source).\n"
    "# Regenerate and check as described in ideal/report/i18n.py."
)
# Shown wherever a value is missing; the report's legend explains it.
MISSING = "–"


def check_lang(lang: str) -> Lang:
    """Return ``lang`` as a ``Lang`` or raise a ValueError naming the supported ones."""
    if lang not in LANGS:
        raise ValueError(f"Unsupported language {lang!r}; use one of {', '.join(LANGS)}.")
    return lang


def po_path(lang: Lang) -> Path:
    return LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


def load_catalog(lang: Lang) -> Catalog:
    """Parse the ``.po`` catalog of a target language."""
    with po_path(lang).open("rb") as fh:
        return read_po(fh, locale=lang, domain=DOMAIN)


@cache
def translations(lang: Lang) -> gettext.NullTranslations:
    """The gettext translations for ``lang``, compiled in memory once per process."""
    if lang == SOURCE_LANG:
        # Source strings are English: NullTranslations applies English plural rules.
        return gettext.NullTranslations()
    catalog = load_catalog(lang)
    buf = BytesIO()
    # Fuzzy entries are left out on purpose: an unreviewed guess must not reach ministers.
    write_mo(buf, catalog, use_fuzzy=False)
    buf.seek(0)
    compiled = gettext.GNUTranslations(buf)
    logger.debug("compiled %s catalog: %d messages", lang, len(catalog))
    return compiled


def catalog_problems(lang: Lang) -> list[str]:
    """Everything wrong with a target-language catalog, one line per problem (empty = fine).

    Checks the Plural-Forms header against CLDR, empty or fuzzy translations, the number
    of plural translations and Babel's own placeholder checks.
    """
    catalog = load_catalog(lang)
    problems: list[str] = []
    expected = get_plural(BABEL_LOCALES[lang])
    if catalog.num_plurals != expected.num_plurals or catalog.plural_expr != expected.plural_expr:
        problems.append(
            f"{lang}: Plural-Forms is {catalog.plural_forms!r}, CLDR says {expected.plural_forms!r}"
        )
    for message in catalog:
        if not message.id:
            continue  # the header entry
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if not all(strings):
            problems.append(f"{lang}: no translation for {message.id!r}")
        if message.fuzzy:
            problems.append(f"{lang}: fuzzy translation for {message.id!r}")
        if message.pluralizable and len(strings) != expected.num_plurals:
            problems.append(
                f"{lang}: {message.id!r} has {len(strings)} plural forms, "
                f"needs {expected.num_plurals}"
            )
    for message, errors in catalog.check():
        problems.extend(f"{lang}: {message.id!r}: {err}" for err in errors)
    return problems


def extract_messages(root: Path | None = None) -> Catalog:
    """Extract every translatable message of the package, as ``pybabel extract`` would."""
    from babel.messages.extract import extract_from_dir
    from babel.messages.frontend import parse_mapping_cfg

    root = root or LOCALE_DIR.parent.parent
    with BABEL_CFG.open(encoding="utf-8") as fh:
        # Babel's frontend is not annotated; the call is the documented public API.
        method_map, options_map = parse_mapping_cfg(  # type: ignore[no-untyped-call]
            fh, filename=str(BABEL_CFG)
        )
    from ideal import __version__

    catalog = Catalog(
        project=DOMAIN,
        domain=DOMAIN,
        version=__version__,
        header_comment=HEADER_COMMENT.format(language="Template"),
        msgid_bugs_address="",
    )
    for filename, lineno, message, comments, context in extract_from_dir(
        str(root), method_map, options_map
    ):
        catalog.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return catalog


def write_pot(path: Path = POT_PATH) -> Path:
    """Write the message template (``ideal.pot``) from the current sources."""
    catalog = extract_messages()
    with path.open("wb") as fh:
        write_po(fh, catalog, omit_header=False, no_location=True, sort_output=True)
    logger.info("wrote %s (%d messages)", path, len(catalog))
    return path


@cache
def _babel_locale(name: str) -> Locale:
    return Locale.parse(name)


@cache
def _number_pattern(pattern: str) -> NumberPattern:
    # Babel parses the pattern on every format_decimal call; a report formats thousands.
    return parse_pattern(pattern)


def _apply(pattern: str, value: float, locale: str) -> str:
    return str(_number_pattern(pattern).apply(value, _babel_locale(locale)))


@dataclass(frozen=True)
class Formatter:
    """Locale-aware formatting of the values the report shows; ``None``/NaN → ``MISSING``."""

    lang: Lang

    @property
    def locale(self) -> str:
        return BABEL_LOCALES[self.lang]

    @staticmethod
    def _missing(value: float | None) -> bool:
        return value is None or (isinstance(value, float) and math.isnan(value))

    def number(self, value: float | None, digits: int = 1) -> str:
        """A decimal with a fixed number of digits, e.g. ``1.234,5`` in es."""
        if self._missing(value):
            return MISSING
        pattern = "#,##0" + ("." + "0" * digits if digits > 0 else "")
        return _apply(pattern, cast(float, value), self.locale)

    def integer(self, value: int | None) -> str:
        if value is None:
            return MISSING
        return _apply("#,##0", value, self.locale)

    def signed(self, value: float | None, digits: int = 1) -> str:
        """A change with its sign always shown (``+3,2`` / ``-1,5``)."""
        if self._missing(value):
            return MISSING
        body = "#,##0" + ("." + "0" * digits if digits > 0 else "")
        return _apply(f"+{body};-{body}", cast(float, value), self.locale)

    def decimal(self, value: float | None) -> str:
        """A parameter as written in its file: every significant digit, locale separators."""
        if self._missing(value):
            return MISSING
        return _apply("#,##0.##########", cast(float, value), self.locale)

    def signed_percent(self, ratio: float | None) -> str:
        """A relative change with its sign (``+23 %`` in es, ``+23%`` in en)."""
        if self._missing(ratio):
            return MISSING
        sign = "+" if cast(float, ratio) > 0 else ""
        return sign + self._percent(cast(float, ratio))

    def percent(self, ratio: float | None) -> str:
        """A 0-1 ratio as a whole percentage in the locale's style (``67 %`` in es)."""
        if self._missing(ratio):
            return MISSING
        return self._percent(cast(float, ratio))

    def _percent(self, ratio: float) -> str:
        # The locale's own percent pattern (``67 %`` in es, ``67%`` in pt/en), parsed once.
        locale = _babel_locale(self.locale)
        pattern = locale.percent_formats[None]
        return str(pattern.apply(ratio, locale))

    def date(self, value: date | datetime | None, style: str = "long") -> str:
        if value is None:
            return MISSING
        if isinstance(value, datetime):
            return format_date(value.date(), format=style, locale=self.locale)
        return format_date(value, format=style, locale=self.locale)

    def timestamp(self, value: datetime | None, style: str = "medium") -> str:
        if value is None:
            return MISSING
        return format_datetime(value, format=style, locale=self.locale)
