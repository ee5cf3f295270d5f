"""Reference data: the committed CSVs, the country resolver and the population look-up."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pandas as pd
import pytest

from ideal.config import REFERENCE_DIR
from ideal.reference import (
    CountryResolver,
    UnknownCountryError,
    country_name,
    default_resolver,
    load_countries,
    load_population,
    normalise,
    population_for,
)

LAC_33 = sorted(
    ["ATG", "ARG", "BHS", "BRB", "BLZ", "BOL", "BRA", "CHL", "COL", "CRI", "CUB", "DMA", "DOM",
     "ECU", "SLV", "GRD", "GTM", "GUY", "HTI", "HND", "JAM", "MEX", "NIC", "PAN", "PRY", "PER",
     "KNA", "LCA", "VCT", "SUR", "TTO", "URY", "VEN"]
)  # fmt: skip


# --- countries.csv ---------------------------------------------------------------------


def test_the_33_states_of_latin_america_and_the_caribbean() -> None:
    countries = load_countries()
    assert list(countries.columns) == [
        "country_iso3", "iso2", "iso_numeric", "name_en", "name_es", "name_pt", "subregion",
    ]  # fmt: skip
    assert sorted(countries["country_iso3"]) == LAC_33
    for column in ("country_iso3", "iso2", "iso_numeric", "name_en", "name_es", "name_pt"):
        assert countries[column].is_unique, column
    assert countries["iso_numeric"].str.fullmatch(r"\d{3}").all()
    assert countries["iso2"].str.fullmatch(r"[A-Z]{2}").all()
    assert set(countries["subregion"]) == {"Caribbean", "Central America", "South America"}


def test_names_are_non_empty_and_natural() -> None:
    countries = load_countries().set_index("country_iso3")
    for column in ("name_en", "name_es", "name_pt"):
        assert (countries[column].str.strip() != "").all()
        assert (countries[column] == countries[column].str.strip()).all()
        assert not countries[column].str.contains(",").any(), column  # no "Bolivia, Estado…"
    assert countries.loc["BRA", "iso_numeric"] == "076"
    assert countries.loc["MEX", "subregion"] == "Central America"
    assert countries.loc["GUY", "subregion"] == "South America"
    expected = {
        ("BOL", "es"): "Bolivia", ("BOL", "pt"): "Bolívia", ("BOL", "en"): "Bolivia",
        ("VEN", "es"): "Venezuela", ("VEN", "pt"): "Venezuela", ("VEN", "en"): "Venezuela",
        ("MEX", "es"): "México", ("MEX", "pt"): "México", ("PER", "es"): "Perú",
        ("PER", "pt"): "Peru", ("BRA", "es"): "Brasil", ("BRA", "pt"): "Brasil",
        ("SUR", "es"): "Surinam", ("GUY", "pt"): "Guiana", ("GRD", "es"): "Granada",
        ("GRD", "pt"): "Granada", ("KNA", "es"): "San Cristóbal y Nieves",
        ("DOM", "es"): "República Dominicana", ("DMA", "pt"): "Dominica",
    }  # fmt: skip
    for (iso3, lang), name in expected.items():
        assert country_name(iso3, lang) == name


def test_country_name_defaults_to_english_and_rejects_unknowns() -> None:
    assert country_name("BRA") == "Brazil"
    with pytest.raises(ValueError, match="unknown language"):
        country_name("BRA", "fr")
    with pytest.raises(UnknownCountryError):
        country_name("ESP")


def test_loaders_return_copies() -> None:
    countries = load_countries()
    countries.loc[0, "name_en"] = "changed"
    assert "changed" not in set(load_countries()["name_en"])


# --- country_aliases.csv and the resolver ----------------------------------------------


def test_every_alias_resolves_to_its_country() -> None:
    aliases = pd.read_csv(REFERENCE_DIR / "country_aliases.csv", dtype=str, keep_default_na=False)
    assert list(aliases.columns) == ["alias", "country_iso3"]
    assert aliases["alias"].map(normalise).is_unique
    assert set(aliases["country_iso3"]) <= set(LAC_33)
    resolver = default_resolver()
    for alias, iso3 in zip(aliases["alias"], aliases["country_iso3"], strict=True):
        assert resolver.resolve(alias) == iso3


def test_aliases_are_not_names_or_codes_already() -> None:
    countries = load_countries()
    known = {
        normalise(v)
        for column in ("country_iso3", "iso2", "name_en", "name_es", "name_pt")
        for v in countries[column]
    }
    aliases = pd.read_csv(REFERENCE_DIR / "country_aliases.csv", dtype=str, keep_default_na=False)
    assert not known & set(aliases["alias"].map(normalise))


def test_every_name_and_code_resolves() -> None:
    resolver = default_resolver()
    for row in load_countries().itertuples(index=False):
        for text in (row.country_iso3, row.iso2, row.name_en, row.name_es, row.name_pt):
            assert resolver.resolve(str(text)) == row.country_iso3


@pytest.mark.parametrize(
    ("text", "iso3"),
    [
        ("peru", "PER"), ("PERÚ", "PER"), (" Perú ", "PER"), ("pe", "PER"), ("PER", "PER"),
        ("per", "PER"), ("Perú\u00a0", "PER"), ("Brasil", "BRA"), ("Brazil", "BRA"),
        ("BR", "BRA"), ("BRA", "BRA"), ("brasil", "BRA"), ("México", "MEX"),
        ("Mexico", "MEX"), ("MX", "MEX"), ("MEXICO", "MEX"), ("mejico", "MEX"),
        ("Estados Unidos Mexicanos", "MEX"), ("Republica Dominicana", "DOM"),
        ("república dominicana", "DOM"), ("Dominica", "DMA"), ("Haïti", "HTI"),
        ("HAITI", "HTI"), ("Colômbia", "COL"), ("Bolivia", "BOL"), ("Bolívia", "BOL"),
        ("Estado Plurinacional de Bolivia", "BOL"), ("Venezuela, RB", "VEN"),
        ("República Bolivariana de Venezuela", "VEN"), ("Bahamas, The", "BHS"),
        ("The Bahamas", "BHS"), ("St. Lucia", "LCA"), ("st lucia", "LCA"),
        ("Saint Kitts", "KNA"), ("St Vincent", "VCT"), ("Trinidad y Tobago", "TTO"),
        ("Trinidad & Tobago", "TTO"), ("Surinám", "SUR"), ("Guiana", "GUY"),
        ("República Federativa do Brasil", "BRA"), ("El  Salvador", "SLV"),
        ("elsalvador", "SLV"), ("Belice", "BLZ"),
    ],
)  # fmt: skip
def test_resolver_accepts_names_codes_and_aliases(text: str, iso3: str) -> None:
    assert default_resolver().resolve(text) == iso3
    assert default_resolver().try_resolve(text) == iso3


@pytest.mark.parametrize(
    "text",
    [
        "Perus", "", "   ", "Spain", "USA", "XX", "123", "076", "484", "Estados Unidos",
        "United States", "Puerto Rico", "French Guiana", "Guiana Francesa", "Curaçao",
        "Aruba", "ES", "ESP", "LCN", "Latin America & Caribbean", "-", "n/a", "PE R U X",
        "Brasill", "Colombai",
    ],
)  # fmt: skip
def test_resolver_fails_loudly_on_unknowns(text: str) -> None:
    assert default_resolver().try_resolve(text) is None
    with pytest.raises(UnknownCountryError) as caught:
        default_resolver().resolve(text)
    assert caught.value.text == text
    assert f'"{text}" is not a country ideal knows.' in str(caught.value)
    assert "Use an ISO 3166 code" in str(caught.value)


@pytest.mark.parametrize(
    ("text", "suggested"),
    [("Perus", "PER"), ("Brasill", "BRA"), ("Colombai", "COL"), ("Mexic", "MEX"),
     ("Venezuala", "VEN"), ("Gautemala", "GTM"), ("Sant Lucia", "LCA")],
)  # fmt: skip
def test_unknown_country_error_suggests_close_names(text: str, suggested: str) -> None:
    with pytest.raises(UnknownCountryError) as caught:
        default_resolver().resolve(text)
    assert suggested in caught.value.suggestions
    assert 1 <= len(caught.value.suggestions) <= 3
    assert "Did you mean:" in str(caught.value)


def test_unknown_country_message_reads_well() -> None:
    with pytest.raises(UnknownCountryError) as caught:
        default_resolver().resolve("Perus")
    assert str(caught.value) == (
        '"Perus" is not a country ideal knows. Did you mean: Peru (PER)? Use an ISO 3166 '
        "code (e.g. PER) or the country's name in Spanish, Portuguese or English."
    )


@pytest.mark.parametrize(
    "text", ["", "XX", "123", "USA", "Spain", "Estados Unidos", "United States", "French Guiana"]
)
def test_no_suggestion_where_nothing_is_close(text: str) -> None:
    with pytest.raises(UnknownCountryError) as caught:
        default_resolver().resolve(text)
    assert caught.value.suggestions == ()
    assert "Did you mean" not in str(caught.value)


def test_resolver_rejects_non_text_cells() -> None:
    assert default_resolver().try_resolve(float("nan")) is None  # type: ignore[arg-type]
    with pytest.raises(UnknownCountryError):
        default_resolver().resolve(None)  # type: ignore[arg-type]


def test_resolver_refuses_contradictory_reference_data() -> None:
    countries = load_countries()
    aliases = pd.DataFrame({"alias": ["Perú"], "country_iso3": ["BRA"]})
    with pytest.raises(ValueError, match="would mean both"):
        CountryResolver(countries, aliases)
    unknown = pd.DataFrame({"alias": ["Hispania"], "country_iso3": ["ESP"]})
    with pytest.raises(ValueError, match=r"not in countries\.csv"):
        CountryResolver(countries, unknown)


# --- population.csv --------------------------------------------------------------------


def test_population_covers_2000_to_2024_for_every_country() -> None:
    population = load_population()
    assert list(population.columns) == ["country_iso3", "year", "population"]
    assert population["year"].dtype == "int64"
    assert population["population"].dtype == "int64"
    years = population.groupby("country_iso3")["year"].agg(["count", "min", "max"])
    assert sorted(years.index) == LAC_33
    assert (years["count"] == 25).all()
    assert (years["min"] == 2000).all()
    assert (years["max"] == 2024).all()
    assert (population["population"] > 0).all()
    ordered = population.sort_values(["country_iso3", "year"], ignore_index=True)
    pd.testing.assert_frame_equal(population, ordered)


def test_population_matches_the_world_bank() -> None:
    assert population_for("MEX", 2024) == (130_861_007, 2024)


def test_population_after_the_last_year_uses_the_latest() -> None:
    assert population_for("MEX", 2026) == (130_861_007, 2024)


def test_population_before_the_first_year_is_an_error() -> None:
    assert population_for("BRA", 2000)[1] == 2000
    with pytest.raises(ValueError, match="start in 2000"):
        population_for("BRA", 1999)


def test_population_for_unknown_country() -> None:
    with pytest.raises(UnknownCountryError):
        population_for("ESP", 2024)
    with pytest.raises(UnknownCountryError):
        population_for("Peru", 2024)  # a name is not a code: resolve it first


# --- the build is reproducible ---------------------------------------------------------


def _load_build() -> ModuleType:
    spec = importlib.util.spec_from_file_location("reference_build", REFERENCE_DIR / "build.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_build_reproduces_the_committed_files(tmp_path: Path) -> None:
    build = _load_build()
    source: Path = build.POPULATION_SOURCE
    if not source.is_file():
        pytest.skip(f"shared World Bank file not available at {source}")
    build.build(out_dir=tmp_path, population_source=source)
    for name in ("countries.csv", "country_aliases.csv", "population.csv"):
        assert (tmp_path / name).read_bytes() == (REFERENCE_DIR / name).read_bytes(), name


def test_build_without_the_shared_file_says_so(tmp_path: Path) -> None:
    build = _load_build()
    with pytest.raises(SystemExit, match="World Bank population file not found"):
        build.build(out_dir=tmp_path, population_source=tmp_path / "missing.csv")
    assert not list(tmp_path.iterdir())
