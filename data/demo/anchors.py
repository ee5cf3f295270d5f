"""Extract the public anchor figures the demo generator scales its magnitudes on.

Grain of the output (``data/demo/anchors.csv``): one row per demo country and anchor
(``population`` twice: 2023 and 2024). Columns: ``country_iso3, anchor, value, year,
source``. Anchors:

* ``population`` - World Bank WDI SP.POP.TOTL, years 2023 and 2024;
* ``homicide_rate_per_100k`` - World Bank WDI VC.IHR.PSRC.P5 (UNODC/WHO), latest year;
* ``cocaine_seized_kg`` - UNODC drug seizures, every cocaine-type drug except the coca
  plant (leaf, bush, seed) summed, 2019 or the latest year with any figure;
* ``cannabis_seized_kg`` - UNODC drug seizures, herb + resin + oil + other/unspecified
  cannabis (plants and seeds excluded), same year rule.

The inputs live in the shared reference folder (``../shared/datasets`` beside the
project, see its SOURCES.md); this script is run once by hand and its output is
committed, so the generator (``generate.py``) never needs that folder.

Run: ``.venv/bin/python data/demo/anchors.py [--datasets DIR]``.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import pandas as pd

log = logging.getLogger("ideal.demo.anchors")

HERE = Path(__file__).resolve().parent
PROJECT_ROOT = HERE.parent.parent
DEFAULT_DATASETS = PROJECT_ROOT.parent / "shared" / "datasets"
ANCHORS_PATH = HERE / "anchors.csv"

DEMO_COUNTRIES: tuple[str, ...] = (
    "ARG", "BOL", "BRA", "CHL", "COL", "CRI", "DOM", "ECU", "SLV",
    "GTM", "HND", "JAM", "MEX", "PAN", "PRY", "PER", "URY",
)  # fmt: skip

POPULATION_YEARS: tuple[int, ...] = (2023, 2024)
SEIZURE_YEAR = 2019
"""Preferred year of the UNODC seizure table (its last); earlier only if 2019 is empty."""

# Country names as the UNODC seizure table spells them (its own, not ISO, spellings).
UNODC_NAMES: dict[str, str] = {
    "ARG": "Argentina",
    "BOL": "Bolivia (Plurinational State of)",
    "BRA": "Brazil",
    "CHL": "Chile",
    "COL": "Colombia",
    "CRI": "Costa Rica",
    "DOM": "Dominican Republic",
    "ECU": "Ecuador",
    "SLV": "El Salvador",
    "GTM": "Guatemala",
    "HND": "Honduras",
    "JAM": "Jamaica",
    "MEX": "Mexico",
    "PAN": "Panama",
    "PRY": "Paraguay",
    "PER": "Peru",
    "URY": "Uruguay",
}

COCA_PLANT = frozenset({"Coca leaf", "Coca bush", "Coca seed"})
CANNABIS_PRODUCTS = frozenset(
    {
        "Marijuana (herb)",
        "Hashish (resin)",
        "Cannabis oil",
        "Non-specified cannabis-type",
        "Other types of cannabis",
    }
)

SOURCE_POPULATION = "World Bank WDI SP.POP.TOTL (population_worldbank.csv, PDDL)"
SOURCE_HOMICIDE = "World Bank WDI VC.IHR.PSRC.P5, UNODC/WHO (homicide_unodc_who.csv, CC BY 4.0)"
SOURCE_SEIZURES = "UNODC drug seizures 1990-2019, sheet table1 (unodc_drug_seizures_1990_2019.xlsx)"

COLUMNS: tuple[str, ...] = ("country_iso3", "anchor", "value", "year", "source")


def population_anchors(datasets: Path) -> pd.DataFrame:
    """Population of each demo country in 2023 and 2024."""
    raw = pd.read_csv(datasets / "public" / "population_worldbank.csv")
    rows = raw[raw["Country Code"].isin(DEMO_COUNTRIES) & raw["Year"].isin(POPULATION_YEARS)]
    out = pd.DataFrame(
        {
            "country_iso3": rows["Country Code"],
            "anchor": "population",
            "value": rows["Value"].astype("int64").astype(str),
            "year": rows["Year"].astype("int64"),
            "source": SOURCE_POPULATION,
        }
    )
    _require_all(out, len(POPULATION_YEARS), "population")
    return out


def homicide_anchors(datasets: Path) -> pd.DataFrame:
    """Latest intentional-homicide rate per 100,000 of each demo country."""
    raw = pd.read_csv(datasets / "public" / "homicide_unodc_who.csv")
    raw = raw[raw["iso3"].isin(DEMO_COUNTRIES)].dropna(subset=["rate_per_100k"])
    latest = raw.sort_values(["iso3", "year"]).groupby("iso3", as_index=False).tail(1)
    out = pd.DataFrame(
        {
            "country_iso3": latest["iso3"],
            "anchor": "homicide_rate_per_100k",
            "value": latest["rate_per_100k"].map(lambda v: f"{float(v):.2f}"),
            "year": latest["year"].astype("int64"),
            "source": SOURCE_HOMICIDE,
        }
    )
    _require_all(out, 1, "homicide_rate_per_100k")
    return out


def read_seizure_table(datasets: Path) -> pd.DataFrame:
    """The UNODC seizure sheet with its merged-cell blanks forward-filled."""
    raw = pd.read_excel(datasets / "public" / "unodc_drug_seizures_1990_2019.xlsx", "table1")
    labels = ["region", "subregion", "country", "drug_group"]
    raw[labels] = raw[labels].ffill()
    raw.columns = [str(c) for c in raw.columns]
    return raw


def seizure_anchors(datasets: Path) -> pd.DataFrame:
    """Cocaine and cannabis seized (kg) per demo country, 2019 or the latest year with data."""
    table = read_seizure_table(datasets)
    years = [str(y) for y in range(SEIZURE_YEAR, 1989, -1)]
    records: list[dict[str, object]] = []
    for iso3, name in UNODC_NAMES.items():
        country = table[table["country"] == name]
        if country.empty:
            raise ValueError(f"{name!r} ({iso3}) not found in the UNODC seizure table")
        is_cocaine = (country["drug_group"] == "Cocaine-type") & ~country["drug"].isin(COCA_PLANT)
        is_cannabis = country["drug"].isin(CANNABIS_PRODUCTS)
        masks = {"cocaine_seized_kg": is_cocaine, "cannabis_seized_kg": is_cannabis}
        for anchor, mask in masks.items():
            block = country.loc[mask, years]
            year = next((y for y in years if block[y].notna().any()), None)
            if year is None:
                raise ValueError(f"{iso3}: no {anchor} figure in any year")
            total = float(block[year].sum(skipna=True))
            records.append(
                {
                    "country_iso3": iso3,
                    "anchor": anchor,
                    "value": f"{total:.1f}",
                    "year": int(year),
                    "source": SOURCE_SEIZURES,
                }
            )
    return pd.DataFrame.from_records(records, columns=list(COLUMNS))


def _require_all(frame: pd.DataFrame, per_country: int, anchor: str) -> None:
    counts = frame.groupby("country_iso3").size()
    missing = sorted(set(DEMO_COUNTRIES) - {c for c, n in counts.items() if n == per_country})
    if missing:
        raise ValueError(f"{anchor}: no complete figures for {missing}")


def build(datasets: Path) -> pd.DataFrame:
    """All anchors, sorted by country then anchor then year."""
    frames = [population_anchors(datasets), homicide_anchors(datasets), seizure_anchors(datasets)]
    out = pd.concat(frames, ignore_index=True)[list(COLUMNS)]
    return out.sort_values(["country_iso3", "anchor", "year"]).reset_index(drop=True)


def main(datasets: Path = DEFAULT_DATASETS, out_path: Path = ANCHORS_PATH) -> Path:
    """Write ``anchors.csv`` from the shared public data sets; returns its path."""
    if not (datasets / "public").is_dir():
        raise FileNotFoundError(
            f"{datasets}/public not found: point --datasets at the shared reference folder"
        )
    anchors = build(datasets)
    anchors.to_csv(out_path, index=False, lineterminator="\n")
    log.info("wrote %d anchors for %d countries to %s", len(anchors), len(DEMO_COUNTRIES), out_path)
    return out_path


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", type=Path, default=DEFAULT_DATASETS)
    parser.add_argument("--out", type=Path, default=ANCHORS_PATH)
    args = parser.parse_args()
    main(args.datasets, args.out)
