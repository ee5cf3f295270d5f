"""Build the reference CSVs of ``data/reference/`` (see README.md there).

* ``countries.csv`` and ``country_aliases.csv`` from pycountry (ISO 3166-1) and its
  translations (Debian iso-codes), with the few corrections in ``NAME_OVERRIDES`` and the
  extra spellings in ``HAND_ALIASES``; subregions from UN M49.
* ``population.csv`` from the World Bank population file (WDI SP.POP.TOTL) in the shared
  data sets folder, ``../shared/datasets/public/population_worldbank.csv`` next to the
  repository. World Bank aggregates (LCN, WLD, ...) are dropped.

The outputs are committed; re-run after upgrading pycountry or the population file:

    .venv/bin/python data/reference/build.py
"""

from __future__ import annotations

import gettext
import logging
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pycountry

from ideal.reference import normalise

logger = logging.getLogger("ideal.reference.build")

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parent.parent
POPULATION_SOURCE = REPO_ROOT.parent / "shared" / "datasets" / "public" / "population_worldbank.csv"
FIRST_YEAR = 2000
LAST_YEAR = 2024

# UN M49 (https://unstats.un.org/unsd/methodology/m49/): the 33 sovereign states of
# Latin America and the Caribbean (419) by subregion. Mexico is in Central America.
SUBREGIONS: dict[str, tuple[str, ...]] = {
    "Caribbean": (
        "ATG", "BHS", "BRB", "CUB", "DMA", "DOM", "GRD", "HTI", "JAM", "KNA", "LCA", "VCT",
        "TTO",
    ),
    "Central America": ("BLZ", "CRI", "SLV", "GTM", "HND", "MEX", "NIC", "PAN"),
    "South America": (
        "ARG", "BOL", "BRA", "CHL", "COL", "ECU", "GUY", "PRY", "PER", "SUR", "URY", "VEN",
    ),
}  # fmt: skip

LANG_CODES: dict[str, list[str]] = {"es": ["es"], "pt": ["pt_BR", "pt"]}
"""gettext catalogues per working language; Brazilian Portuguese first."""

# Where the iso-codes short name (common_name if any, else name) is not the short name a
# Latin American official writes. Checked and kept as they are: GRD es/pt "Granada",
# GUY pt "Guiana", KNA "San Cristóbal y Nieves" / "São Cristóvão e Névis", LCA
# "Santa Lucía" / "Santa Lúcia", VCT "San Vicente y las Granadinas" / "São Vicente e
# Granadinas", BOL/VEN via common_name ("Bolivia", "Bolívia", "Venezuela").
NAME_OVERRIDES: dict[tuple[str, str], str] = {
    ("SUR", "es"): "Surinam",  # iso-codes es has "Surinám"; the RAE and ministries: "Surinam"
    ("DMA", "pt"): "Dominica",  # pt_BR has "Domínica"; Itamaraty writes "Dominica"
    ("TTO", "pt"): "Trinidad e Tobago",  # pt_BR "Trinidade", pt_PT "Trindade"; Itamaraty
}

# Spellings stewards write that pycountry and the World Bank file do not give. Anything
# equal (after normalise) to a name or code in countries.csv is dropped automatically.
HAND_ALIASES: dict[str, tuple[str, ...]] = {
    "ATG": ("Antigua & Barbuda", "Antigua"),
    "BHS": ("The Bahamas", "Las Bahamas", "Commonwealth of The Bahamas"),
    "BOL": ("Estado Plurinacional de Bolivia", "Plurinational State of Bolivia"),
    "BRA": ("República Federativa do Brasil", "República Federativa de Brasil"),
    "DOM": ("Rep. Dominicana", "Dominican Rep."),
    "GUY": (
        "Co-operative Republic of Guyana", "República Cooperativa de Guyana",
        "República Cooperativa da Guiana",
    ),
    "KNA": (
        "Saint Kitts", "St Kitts", "St. Kitts and Nevis", "St Kitts & Nevis",
        "Saint Kitts & Nevis", "Saint Kitts y Nevis", "San Cristóbal y Nevis",
        "Saint Christopher and Nevis", "Federation of Saint Kitts and Nevis",
    ),
    "LCA": ("St. Lucia", "Sta. Lucía"),
    "MEX": ("Estados Unidos Mexicanos", "United Mexican States", "Méjico"),
    "TTO": ("Trinidad & Tobago", "Trinidade e Tobago", "Trindade e Tobago"),
    "VCT": (
        "St Vincent", "Saint Vincent", "St. Vincent and the Grenadines",
        "St Vincent & the Grenadines", "Saint Vincent & the Grenadines", "San Vicente",
        "San Vicente y Granadinas", "São Vicente e as Granadinas",
    ),
    "VEN": ("República Bolivariana de Venezuela", "Bolivarian Republic of Venezuela"),
}  # fmt: skip


def iso3_codes() -> list[str]:
    """The 33 ISO3 codes, sorted."""
    return sorted(code for codes in SUBREGIONS.values() for code in codes)


def _translators() -> dict[str, list[gettext.NullTranslations]]:
    """Per working language, the gettext catalogues to read names from (preferred first)."""
    found: dict[str, list[gettext.NullTranslations]] = {"en": [gettext.NullTranslations()]}
    for lang, codes in LANG_CODES.items():
        found[lang] = [
            gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[code])
            for code in codes
        ]
    return found


def build_countries(translators: dict[str, list[gettext.NullTranslations]]) -> pd.DataFrame:
    """One row per country: codes, short names in en/es/pt and the M49 subregion."""
    subregion_of = {code: region for region, codes in SUBREGIONS.items() for code in codes}
    rows = []
    for iso3 in iso3_codes():
        country = pycountry.countries.get(alpha_3=iso3)
        if country is None:
            raise SystemExit(f"pycountry does not know {iso3}")
        short = getattr(country, "common_name", None) or country.name
        names = {
            lang: NAME_OVERRIDES.get((iso3, lang), translators[lang][0].gettext(short))
            for lang in ("en", "es", "pt")
        }
        rows.append(
            {
                "country_iso3": iso3,
                "iso2": country.alpha_2,
                "iso_numeric": f"{int(country.numeric):03d}",
                "name_en": names["en"],
                "name_es": names["es"],
                "name_pt": names["pt"],
                "subregion": subregion_of[iso3],
            }
        )
    return pd.DataFrame(rows)


def _alias_candidates(
    translators: dict[str, list[gettext.NullTranslations]], world_bank_names: pd.DataFrame
) -> Iterator[tuple[str, str]]:
    """(alias, iso3) from the hand list, pycountry in every catalogue, the World Bank names.

    The first spelling of a normalised form wins, so the hand list decides capitalisation.
    """
    for iso3, aliases in HAND_ALIASES.items():
        for alias in aliases:
            yield alias, iso3
    for iso3 in iso3_codes():
        country = pycountry.countries.get(alpha_3=iso3)
        for field in ("name", "common_name", "official_name"):
            value = getattr(country, field, None)
            if not value:
                continue
            for catalogues in translators.values():
                for catalogue in catalogues:
                    yield catalogue.gettext(value), iso3
    for name, iso3 in zip(
        world_bank_names["Country Name"], world_bank_names["Country Code"], strict=True
    ):
        yield str(name), str(iso3)


def build_aliases(
    countries: pd.DataFrame,
    translators: dict[str, list[gettext.NullTranslations]],
    world_bank_names: pd.DataFrame,
) -> pd.DataFrame:
    """Extra spellings: one row per spelling that is not already a name or code."""
    owner: dict[str, str] = {}
    for row in countries.itertuples(index=False):
        for text in (row.country_iso3, row.iso2, row.name_en, row.name_es, row.name_pt):
            owner[normalise(str(text))] = str(row.country_iso3)
    taken = set(owner)
    rows = []
    for alias, iso3 in _alias_candidates(translators, world_bank_names):
        key = normalise(alias)
        if not key:
            raise SystemExit(f"alias {alias!r} of {iso3} is empty once normalised")
        if owner.setdefault(key, iso3) != iso3:
            raise SystemExit(f"alias {alias!r} would mean both {owner[key]} and {iso3}")
        if key in taken:
            continue
        taken.add(key)
        rows.append({"alias": alias, "country_iso3": iso3})
    aliases = pd.DataFrame(rows, columns=["alias", "country_iso3"])
    return aliases.sort_values(["country_iso3", "alias"], ignore_index=True)


def read_world_bank(path: Path) -> pd.DataFrame:
    """The World Bank file restricted to the 33 countries (aggregates dropped)."""
    if not path.is_file():
        raise SystemExit(
            f"World Bank population file not found: {path}\n"
            "It comes from the shared data sets folder (../shared/datasets/public/ next to "
            "the repository); the committed CSVs in data/reference/ stay valid without it."
        )
    raw = pd.read_csv(path, dtype={"Country Name": str, "Country Code": str})
    expected = ["Country Name", "Country Code", "Year", "Value"]
    if list(raw.columns) != expected:
        raise SystemExit(f"{path}: expected columns {expected}, found {list(raw.columns)}")
    kept = raw[raw["Country Code"].isin(iso3_codes())]
    logger.info(
        "World Bank file: %d rows, %d codes; kept %d countries, dropped %d other codes "
        "(aggregates such as LCN and countries outside the region)",
        len(raw),
        raw["Country Code"].nunique(),
        kept["Country Code"].nunique(),
        raw["Country Code"].nunique() - kept["Country Code"].nunique(),
    )
    return kept


def build_population(world_bank: pd.DataFrame) -> pd.DataFrame:
    """Population of the 33 countries, FIRST_YEAR..LAST_YEAR, sorted by country and year."""
    window = world_bank[world_bank["Year"].between(FIRST_YEAR, LAST_YEAR)]
    population = pd.DataFrame(
        {
            "country_iso3": window["Country Code"].astype(str),
            "year": window["Year"].astype("int64"),
            "population": window["Value"].astype("int64"),
        }
    ).sort_values(["country_iso3", "year"], ignore_index=True)
    if population.duplicated(["country_iso3", "year"]).any():
        raise SystemExit("World Bank file has duplicate country-years")
    years = population.groupby("country_iso3")["year"].nunique()
    n_years = LAST_YEAR - FIRST_YEAR + 1
    incomplete = sorted(set(iso3_codes()) - set(years[years == n_years].index))
    if incomplete:
        raise SystemExit(f"population missing for some of {FIRST_YEAR}-{LAST_YEAR}: {incomplete}")
    if (population["population"] <= 0).any():
        raise SystemExit("World Bank file has non-positive populations")
    return population


def build(out_dir: Path = HERE, population_source: Path = POPULATION_SOURCE) -> None:
    """Write countries.csv, country_aliases.csv and population.csv into out_dir."""
    world_bank = read_world_bank(population_source)
    translators = _translators()
    countries = build_countries(translators)
    wb_names = world_bank.drop_duplicates("Country Code")[["Country Name", "Country Code"]]
    aliases = build_aliases(countries, translators, wb_names)
    population = build_population(world_bank)
    for row in countries.itertuples(index=False):
        logger.info(
            "%s %s %s  en=%s | es=%s | pt=%s | %s",
            row.country_iso3,
            row.iso2,
            row.iso_numeric,
            row.name_en,
            row.name_es,
            row.name_pt,
            row.subregion,
        )
    outputs = {
        "countries.csv": countries,
        "country_aliases.csv": aliases,
        "population.csv": population,
    }
    for file_name, frame in outputs.items():
        path = out_dir / file_name
        frame.to_csv(path, index=False, lineterminator="\n")
        logger.info("wrote %s (%d rows)", path, len(frame))


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    build()


if __name__ == "__main__":
    main()
