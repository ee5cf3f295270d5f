"""Reference data: the 33 countries ideal knows, their names, and their population.

This module is the only reader of ``data/reference/`` (``countries.csv``,
``country_aliases.csv``, ``population.csv``; built by ``data/reference/build.py``, see
its README). It offers what the rest of the code needs from those files:

* ``CountryResolver`` turns what a steward wrote in a country cell ("Perú", "pe",
  "St. Lucia") into an ISO 3166-1 alpha-3 code. Like a PUDL encoder it fails loudly on
  anything it does not know (``UnknownCountryError``, with suggestions) and never guesses.
* ``population_for`` gives the population denominator of a country and year, falling
  back to the latest available year; the caller flags the fallback.
* ``country_name`` gives a country's name in es, pt or en.

Facts about countries live in the CSV files, not here.
"""

from __future__ import annotations

import difflib
import unicodedata
from dataclasses import dataclass
from functools import cache

import pandas as pd

from ideal.catalogue import LANGS
from ideal.config import REFERENCE_DIR

COUNTRIES_PATH = REFERENCE_DIR / "countries.csv"
ALIASES_PATH = REFERENCE_DIR / "country_aliases.csv"
POPULATION_PATH = REFERENCE_DIR / "population.csv"

NAME_COLUMNS: tuple[str, ...] = ("name_en", "name_es", "name_pt")
MAX_SUGGESTIONS = 3
SUGGESTION_CUTOFF = 0.8
"""difflib similarity (0-1) a known name must reach to be offered as a suggestion."""


def normalise(text: str) -> str:
    """The matching key of a country spelling: no accents, case, whitespace or punctuation.

    "  Perú " -> "peru", "St. Lucia" -> "stlucia", "Bahamas, The" -> "bahamasthe".
    """
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return "".join(ch for ch in stripped.casefold() if ch.isalnum())


@cache
def _read_countries() -> pd.DataFrame:
    return pd.read_csv(COUNTRIES_PATH, dtype=str, keep_default_na=False)


@cache
def _read_aliases() -> pd.DataFrame:
    return pd.read_csv(ALIASES_PATH, dtype=str, keep_default_na=False)


@cache
def _read_population() -> pd.DataFrame:
    return pd.read_csv(
        POPULATION_PATH,
        dtype={"country_iso3": "str", "year": "int64", "population": "int64"},
        keep_default_na=False,
    )


def load_countries() -> pd.DataFrame:
    """The 33 countries (one row each; every column is text, iso_numeric zero-padded)."""
    return _read_countries().copy()


def load_population() -> pd.DataFrame:
    """Population by country and year: ``country_iso3`` (text), ``year``, ``population`` (int)."""
    return _read_population().copy()


class UnknownCountryError(ValueError):
    """A country spelling or code that ideal does not know.

    ``text`` is what was given; ``suggestions`` holds the ISO3 codes of up to three
    countries whose names are close to it (possibly none). The message says both.
    """

    def __init__(self, text: str, suggestions: tuple[tuple[str, str], ...] = ()) -> None:
        self.text = text
        self.suggestions: tuple[str, ...] = tuple(iso3 for _, iso3 in suggestions)
        hint = ""
        if suggestions:
            listed = ", ".join(f"{label} ({iso3})" for label, iso3 in suggestions)
            hint = f" Did you mean: {listed}?"
        example = self.suggestions[0] if self.suggestions else "PER"
        super().__init__(
            f'"{text}" is not a country ideal knows.{hint} Use an ISO 3166 code '
            f"(e.g. {example}) or the country's name in Spanish, Portuguese or English."
        )


@dataclass(frozen=True)
class _Spelling:
    """A known spelling: the country it names and how to show it in a suggestion."""

    iso3: str
    label: str
    is_name: bool


class CountryResolver:
    """Resolves country names, aliases and ISO alpha-2/alpha-3 codes to ISO3 codes.

    Matching ignores case, accents, whitespace and punctuation (see ``normalise``).
    Numeric ISO codes are not accepted: a number in a country cell is more likely a
    misplaced value than a country.
    """

    def __init__(self, countries: pd.DataFrame, aliases: pd.DataFrame) -> None:
        self._spellings: dict[str, _Spelling] = {}
        self._codes: frozenset[str] = frozenset(countries["country_iso3"])
        for row in countries.itertuples(index=False):
            iso3 = str(row.country_iso3)
            self._add(iso3, iso3, iso3, is_name=False)
            self._add(str(row.iso2), iso3, iso3, is_name=False)
            for column in NAME_COLUMNS:
                name = str(getattr(row, column))
                self._add(name, iso3, name, is_name=True)
        for alias, iso3 in zip(aliases["alias"], aliases["country_iso3"], strict=True):
            if iso3 not in self._codes:
                raise ValueError(f"alias {alias!r} points to {iso3!r}, not in countries.csv")
            self._add(str(alias), str(iso3), str(alias), is_name=True)

    def _add(self, text: str, iso3: str, label: str, *, is_name: bool) -> None:
        key = normalise(text)
        if not key:
            raise ValueError(f"empty spelling for {iso3} in the reference data")
        known = self._spellings.get(key)
        if known is not None:
            if known.iso3 != iso3:
                raise ValueError(
                    f"{text!r} would mean both {known.iso3} and {iso3}; fix the reference data"
                )
            return
        self._spellings[key] = _Spelling(iso3=iso3, label=label, is_name=is_name)

    @property
    def codes(self) -> frozenset[str]:
        """The ISO3 codes of every country the resolver knows."""
        return self._codes

    def try_resolve(self, text: str) -> str | None:
        """The ISO3 code ``text`` names, or None if it names no known country."""
        if not isinstance(text, str):  # a blank spreadsheet cell arrives as NaN
            return None
        spelling = self._spellings.get(normalise(text))
        return spelling.iso3 if spelling is not None else None

    def resolve(self, text: str) -> str:
        """The ISO3 code ``text`` names; raises ``UnknownCountryError`` otherwise."""
        iso3 = self.try_resolve(text)
        if iso3 is None:
            shown = text if isinstance(text, str) else str(text)
            raise UnknownCountryError(shown, self.suggest(shown))
        return iso3

    def suggest(self, text: str) -> tuple[tuple[str, str], ...]:
        """Up to three (label, ISO3) of distinct countries whose names are closest to text."""
        key = normalise(text)
        if not key:
            return ()
        names = [k for k, s in self._spellings.items() if s.is_name]
        close = difflib.get_close_matches(key, names, n=len(names), cutoff=SUGGESTION_CUTOFF)
        found: dict[str, str] = {}
        for match in close:
            spelling = self._spellings[match]
            found.setdefault(spelling.iso3, spelling.label)
            if len(found) == MAX_SUGGESTIONS:
                break
        return tuple((label, iso3) for iso3, label in found.items())


@cache
def default_resolver() -> CountryResolver:
    """The resolver built from the committed reference files (built once per process)."""
    return CountryResolver(_read_countries(), _read_aliases())


def _require_code(iso3: str) -> str:
    """``iso3`` itself if it is the ISO3 code of a known country; else UnknownCountryError."""
    resolver = default_resolver()
    if iso3 not in resolver.codes:
        raise UnknownCountryError(str(iso3), resolver.suggest(str(iso3)))
    return iso3


@cache
def _population_series() -> dict[str, pd.Series]:
    """Population indexed by year, one series per country (years ascending)."""
    population = _read_population()
    return {
        str(iso3): group.set_index("year")["population"].sort_index()
        for iso3, group in population.groupby("country_iso3")
    }


def population_for(iso3: str, year: int) -> tuple[int, int]:
    """(population, year_used) of a country: the latest year on file that is <= ``year``.

    When ``year_used`` differs from ``year`` the figure is a stand-in (the World Bank
    series ends before the requested year) and the caller must flag it. A year before
    the first on file raises ``ValueError``; an unknown code raises
    ``UnknownCountryError``.
    """
    code = _require_code(iso3)
    series = _population_series()[code]
    available = series.loc[series.index <= year]
    if available.empty:
        first = int(series.index.min())
        raise ValueError(
            f"no population figure for {code} in {year} or earlier: "
            f"the reference data start in {first}"
        )
    year_used = int(available.index[-1])
    return int(available.iloc[-1]), year_used


@cache
def _names() -> dict[tuple[str, str], str]:
    countries = _read_countries()
    return {
        (str(row["country_iso3"]), lang): str(row[f"name_{lang}"])
        for _, row in countries.iterrows()
        for lang in LANGS
    }


def country_name(iso3: str, lang: str = "en") -> str:
    """The short name of a country in es, pt or en ("Perú", "Peru", "Peru")."""
    if lang not in LANGS:
        raise ValueError(f"unknown language {lang!r}; use one of {', '.join(LANGS)}")
    code = _require_code(iso3)
    return _names()[(code, lang)]
