"""Generate the demo submissions: the national indicator files of cycles 2024 and 2025
(one per country, 17 in 2024), and one event register (Colombia, 2025).

The files look like what national data stewards really send: CSV in UTF-8 or exported
by a Spanish-locale Excel (``;``, decimal comma, cp1252), UTF-8 with a BOM, XLSX with
title rows and a notes sheet, one JSON file; headers in Spanish, Portuguese or English;
quarters for some flow indicators; "n/d" and "<5" where stewards write them. Cycle
2025 carries the deliberate mistakes listed in ``README.md``, and Colombia's register of
seizures, incidents and victims, whose totals agree with its indicator file within the
tolerance of ``schemas/aggregation_rules.yaml`` except for one indicator (firearms).

Magnitudes come from ``anchors.csv`` (public figures extracted by ``anchors.py``) and
the country profiles below. Everything is deterministic: the same seed gives
byte-identical CSV/JSON files and identical XLSX contents (and, here, identical bytes).
The generator reads only ``anchors.csv``, the catalogue and the aggregation rules.

Run: ``.venv/bin/python data/demo/generate.py [--out DIR] [--seed N]``.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import json
import logging
import math
import zipfile
import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

import numpy as np
import openpyxl
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.writer.excel import ExcelWriter

from ideal.aggregation import Rule, Rules, load_rules
from ideal.catalogue import Catalogue, EventItem, Indicator, load_catalogue
from ideal.contract import column_headers

log = logging.getLogger("ideal.demo.generate")

HERE = Path(__file__).resolve().parent
ANCHORS_PATH = HERE / "anchors.csv"
DEFAULT_SEED = 20250

Lang = Literal["es", "pt", "en"]
Trend = Literal["up", "stable", "down"]
CellValue = str | int | float | None

# ----------------------------------------------------------------------------------------
# Cycles
# ----------------------------------------------------------------------------------------
EXPECTED_COUNTRIES: tuple[str, ...] = (
    "ARG", "BOL", "BRA", "CHL", "COL", "CRI", "DOM", "ECU", "SLV",
    "GTM", "HND", "JAM", "MEX", "PAN", "PRY", "PER", "URY",
)  # fmt: skip


@dataclass(frozen=True)
class CycleSpec:
    cycle_id: str
    period_year: int
    deadline: dt.date
    saved_at: dt.datetime
    """Fixed 'created/modified' stamp written into the XLSX files of the cycle."""


CYCLES: tuple[CycleSpec, ...] = (
    CycleSpec("2024", 2024, dt.date(2025, 3, 31), dt.datetime(2025, 3, 14, 10, 30)),
    CycleSpec("2025", 2025, dt.date(2026, 3, 31), dt.datetime(2026, 3, 13, 10, 30)),
)
BASE_YEAR = 2024
"""The cycle whose values are built from the profiles; later cycles drift from it."""

NOT_SUBMITTING: dict[str, frozenset[str]] = {"2025": frozenset({"JAM"})}

# ----------------------------------------------------------------------------------------
# Country profiles (demo assumptions informed by public reporting; see README.md)
# ----------------------------------------------------------------------------------------
# fmt: off
CATEGORY_ORDER: tuple[str, ...] = (
    "cocaine", "cannabis", "synthetic_drugs", "human_trafficking", "migrant_smuggling",
    "firearms", "money_laundering", "extortion", "environmental_crime", "cybercrime",
    "corruption",
)

# Intensity of each market relative to a regional typical country (1.0), per category in
# CATEGORY_ORDER. Drives the per-capita rates and the expert scores (GI-TOC style).
#        coc  can  syn  thb  mig  arm  ml   ext  env  cyb  cor
INTENSITY: dict[str, tuple[float, ...]] = {
    "ARG": (1.0, 1.5, 0.8, 1.0, 0.4, 0.6, 1.2, 0.5, 0.5, 1.5, 1.0),
    "BOL": (3.0, 1.0, 0.3, 1.0, 0.5, 0.4, 1.0, 0.3, 2.0, 0.5, 1.8),
    "BRA": (2.0, 1.2, 1.0, 1.2, 0.6, 2.0, 1.8, 1.8, 3.0, 2.0, 1.5),
    "CHL": (1.0, 1.0, 1.0, 0.8, 1.2, 0.8, 0.8, 1.0, 0.5, 1.5, 0.5),
    "COL": (8.0, 2.5, 1.0, 1.5, 2.5, 2.5, 2.5, 2.5, 3.0, 1.3, 2.0),
    "CRI": (2.5, 1.5, 0.8, 1.0, 2.0, 1.0, 1.5, 0.8, 0.8, 1.2, 0.8),
    "DOM": (1.8, 0.6, 0.5, 1.2, 1.5, 1.2, 1.5, 0.8, 0.4, 1.0, 1.5),
    "ECU": (7.0, 0.8, 0.5, 1.5, 1.5, 3.0, 2.0, 4.0, 2.5, 1.0, 2.0),
    "SLV": (1.0, 0.4, 0.3, 1.2, 1.5, 1.0, 1.2, 1.0, 0.4, 0.8, 1.8),
    "GTM": (2.5, 1.2, 1.5, 1.8, 3.5, 2.0, 1.8, 3.0, 1.5, 0.7, 2.5),
    "HND": (2.5, 0.8, 0.5, 1.5, 2.5, 2.5, 1.8, 4.0, 1.5, 0.6, 2.5),
    "JAM": (1.5, 4.0, 0.3, 1.0, 0.5, 3.5, 1.5, 2.5, 0.5, 3.0, 1.5),
    "MEX": (3.0, 2.5, 8.0, 2.0, 4.0, 3.5, 3.0, 3.5, 2.0, 2.0, 2.5),
    "PAN": (6.0, 1.5, 0.5, 1.0, 6.0, 1.2, 3.0, 0.8, 1.0, 0.8, 1.8),
    "PRY": (2.5, 8.0, 0.5, 1.2, 0.5, 2.0, 3.0, 0.6, 1.5, 0.6, 2.5),
    "PER": (5.0, 1.0, 0.5, 2.0, 1.2, 1.0, 1.5, 3.5, 4.0, 1.0, 2.0),
    "URY": (1.5, 0.3, 0.5, 0.6, 0.3, 0.8, 1.0, 0.6, 0.3, 1.2, 0.4),
}

# Regional typical rate per 100,000 inhabitants (intensity 1.0) of the rate-driven
# indicators, in the catalogue unit.
BASE_RATE_PER_100K: dict[str, float] = {
    "cocaine_labs_dismantled_count": 0.02,
    "cannabis_plants_eradicated_count": 300.0,
    "synthetic_drugs_seized_kg": 0.4,
    "synthetic_labs_dismantled_count": 0.004,
    "precursors_seized_kg": 15.0,
    "thb_victims_identified_count": 0.8,
    "thb_investigations_opened_count": 0.5,
    "smuggled_migrants_detected_count": 8.0,
    "smuggling_networks_dismantled_count": 0.05,
    "migrant_deaths_in_transit_count": 0.01,
    "firearms_seized_count": 15.0,
    "ammunition_seized_count": 900.0,
    "ml_cases_opened_count": 2.0,
    "suspicious_transaction_reports_count": 60.0,
    "criminal_assets_seized_usd": 200_000.0,
    "extortion_reports_count": 15.0,
    "kidnappings_count": 0.4,
    "extortion_groups_dismantled_count": 0.2,
    "illegal_timber_seized_m3": 30.0,
    "wildlife_seizures_count": 5.0,
    "cybercrime_reports_count": 60.0,
    "ransomware_incidents_count": 0.3,
    "online_fraud_losses_usd": 400_000.0,
    "corruption_cases_opened_count": 4.0,
    "officials_prosecuted_count": 1.0,
}

# 2024 national totals set directly (producer countries, transit hubs, indices): these
# replace the rate for the countries listed. Indicators listed with every country are
# not rate-driven at all.
ABSOLUTE_2024: dict[str, dict[str, float]] = {
    "cocaine_labs_dismantled_count": {"COL": 4300, "BOL": 1150, "PER": 620},
    # UNODC coca surveys, 2023 order of magnitude; no coca anywhere else
    "coca_cultivation_ha": {
        c: {"COL": 253_000, "PER": 92_800, "BOL": 31_000}.get(c, 0) for c in EXPECTED_COUNTRIES
    },
    "cannabis_plants_eradicated_count": {"PRY": 6_500_000},
    "cannabis_cultivation_ha": {
        "ARG": 35, "BOL": 180, "BRA": 900, "CHL": 25, "COL": 1600, "CRI": 70, "DOM": 8,
        "ECU": 15, "SLV": 3, "GTM": 140, "HND": 110, "JAM": 320, "MEX": 2100, "PAN": 12,
        "PRY": 7200, "PER": 260, "URY": 0,
    },
    "synthetic_drugs_seized_kg": {"MEX": 42_000},
    "synthetic_labs_dismantled_count": {"MEX": 780},
    "precursors_seized_kg": {"MEX": 310_000, "GTM": 24_000},
    "smuggled_migrants_detected_count": {
        "PAN": 302_000, "MEX": 925_000, "CRI": 240_000, "HND": 380_000, "GTM": 95_000,
        "COL": 185_000,
    },
    "migrant_deaths_in_transit_count": {
        "PAN": 55, "MEX": 310, "GTM": 28, "COL": 34, "DOM": 62, "HND": 12, "CRI": 6,
    },
    "firearms_seized_count": {"MEX": 14_500, "JAM": 880},
    "extortion_reports_count": {"MEX": 11_200},
    "kidnappings_count": {"ECU": 1650, "MEX": 780},
    "illegal_mining_ha": {
        "ARG": 120, "BOL": 24_000, "BRA": 238_000, "CHL": 350, "COL": 92_000, "CRI": 900,
        "DOM": 60, "ECU": 16_500, "SLV": 0, "GTM": 450, "HND": 1300, "JAM": 0, "MEX": 2600,
        "PAN": 1700, "PRY": 90, "PER": 46_000, "URY": 0,
    },
    # public integrity 0-100, set to the order of Transparency International's CPI
    "integrity_index_0_100": {
        "ARG": 37, "BOL": 29, "BRA": 36, "CHL": 63, "COL": 40, "CRI": 55, "DOM": 35,
        "ECU": 34, "SLV": 31, "GTM": 23, "HND": 23, "JAM": 44, "MEX": 31, "PAN": 35,
        "PRY": 28, "PER": 33, "URY": 73,
    },
}

# Seizures 2024 = UNODC figure in anchors.csv (mostly 2019) x this multiplier, which
# carries each country from the anchor year to public 2023-2024 reporting.
SEIZURE_MULTIPLIER: dict[str, dict[str, float]] = {
    "cocaine_seized_kg": {
        "ARG": 1.0, "BOL": 1.4, "BRA": 1.0, "CHL": 1.8, "COL": 1.33, "CRI": 0.9, "DOM": 4.2,
        "ECU": 6.5, "SLV": 120.0, "GTM": 0.9, "HND": 2.2, "JAM": 1.2, "MEX": 2.0, "PAN": 1.2,
        "PRY": 1.5, "PER": 1.0, "URY": 0.25,
    },
    "cannabis_seized_kg": {
        "ARG": 0.8, "BOL": 3.0, "BRA": 1.5, "CHL": 1.5, "COL": 1.2, "CRI": 1.0, "DOM": 3.0,
        "ECU": 1.0, "SLV": 1.0, "GTM": 1.5, "HND": 1.0, "JAM": 1.0, "MEX": 0.6, "PAN": 1.2,
        "PRY": 2.0, "PER": 1.0, "URY": 0.8,
    },
}

# Homicide rate 2024 = latest anchor rate x this factor (falls in SLV, ECU, HND, JAM,
# GTM since the anchor year; rise in PER); firearm homicides = rate x firearm share.
HOMICIDE_FACTOR: dict[str, float] = {
    "SLV": 0.25, "ECU": 0.85, "HND": 0.83, "MEX": 0.96, "JAM": 0.80, "BRA": 0.95,
    "CRI": 0.95, "GTM": 0.70, "PER": 1.10, "PAN": 1.05, "CHL": 0.95, "DOM": 0.95,
}
FIREARM_SHARE: dict[str, float] = {
    "ARG": 0.50, "BOL": 0.40, "BRA": 0.72, "CHL": 0.55, "COL": 0.75, "CRI": 0.72, "DOM": 0.60,
    "ECU": 0.80, "SLV": 0.70, "GTM": 0.78, "HND": 0.75, "JAM": 0.80, "MEX": 0.69, "PAN": 0.75,
    "PRY": 0.55, "PER": 0.45, "URY": 0.60,
}

# Year-on-year change 2025/2024 per category (regional), and country exceptions.
DRIFT_2025: dict[str, float] = {
    "cocaine": 1.05, "cannabis": 0.95, "synthetic_drugs": 1.20, "human_trafficking": 1.03,
    "migrant_smuggling": 0.85, "firearms": 1.00, "money_laundering": 1.05, "extortion": 1.15,
    "environmental_crime": 1.02, "cybercrime": 1.12, "corruption": 1.00,
}
DRIFT_2025_COUNTRY: dict[tuple[str, str], float] = {
    ("ECU", "cocaine"): 1.35, ("COL", "cocaine"): 1.08, ("PAN", "cocaine"): 1.10,
    ("CRI", "cocaine"): 1.10, ("URY", "cocaine"): 0.90, ("SLV", "cocaine"): 0.90,
    ("PRY", "cannabis"): 1.00, ("URY", "cannabis"): 0.85,
    ("MEX", "synthetic_drugs"): 1.15, ("CHL", "synthetic_drugs"): 1.30,
    ("ARG", "synthetic_drugs"): 1.25, ("GTM", "synthetic_drugs"): 1.30,
    # the Darien route emptied in 2025: transit countries see far fewer migrants
    ("PAN", "migrant_smuggling"): 0.25, ("CRI", "migrant_smuggling"): 0.30,
    ("COL", "migrant_smuggling"): 0.45, ("GTM", "migrant_smuggling"): 0.55,
    ("HND", "migrant_smuggling"): 0.55, ("MEX", "migrant_smuggling"): 0.60,
    ("CHL", "migrant_smuggling"): 1.05, ("DOM", "migrant_smuggling"): 1.10,
    ("ECU", "firearms"): 1.10, ("SLV", "firearms"): 0.80, ("HND", "firearms"): 0.90,
    ("MEX", "firearms"): 0.93, ("CRI", "firearms"): 1.05,
    ("ECU", "extortion"): 1.40, ("PER", "extortion"): 1.35, ("SLV", "extortion"): 0.70,
    ("CHL", "extortion"): 1.25, ("COL", "extortion"): 1.20,
    ("BRA", "environmental_crime"): 0.85, ("PER", "environmental_crime"): 1.15,
    ("ECU", "environmental_crime"): 1.20, ("COL", "environmental_crime"): 1.05,
}
# How experts saw 2024 against 2023 (only the trend word of the 2024 expert rows).
PERCEIVED_2024: dict[tuple[str, str], float] = {
    ("ECU", "cocaine"): 1.3, ("ECU", "extortion"): 1.4, ("ECU", "firearms"): 1.2,
    ("SLV", "extortion"): 0.6, ("SLV", "firearms"): 0.7, ("MEX", "synthetic_drugs"): 1.2,
    ("CHL", "extortion"): 1.2, ("PER", "extortion"): 1.3, ("PAN", "migrant_smuggling"): 0.8,
    ("COL", "cocaine"): 1.1, ("CRI", "cocaine"): 1.15, ("HND", "firearms"): 0.9,
    ("JAM", "firearms"): 0.85, ("GTM", "migrant_smuggling"): 1.1,
    ("BRA", "environmental_crime"): 0.85, ("ARG", "cocaine"): 1.1,
}
PERCEIVED_2024_REGIONAL: dict[str, float] = {"synthetic_drugs": 1.1, "cybercrime": 1.1}

NOISE_BASE = 0.20      # lognormal sd of a rate-driven 2024 value around its profile
NOISE_ABSOLUTE = 0.03  # lognormal sd around a set or anchored 2024 value
NOISE_YEAR = 0.06      # lognormal sd of the 2025/2024 ratio around the drift
TREND_BAND = 0.07      # a ratio within 1 +/- this is "stable"
EXPERT_NOISE = 0.25    # sd of an expert score around its intensity-implied level

# Decimals written per unit (expert scores: see Style.score_step).
DECIMALS: dict[str, int] = {
    "kg": 1, "count": 0, "ha": 0, "m3": 1, "usd": 0, "pct": 1, "index_0_100": 0,
    "score_1_10": 1,
}
# fmt: on

# ----------------------------------------------------------------------------------------
# How each country writes its file
# ----------------------------------------------------------------------------------------
# fmt: off
HEADERS: dict[Lang, tuple[str, ...]] = {
    "en": ("country", "period", "indicator", "value", "unit", "source", "reliability",
           "credibility", "trend", "notes"),
    "es": ("país", "periodo", "indicador", "valor", "unidad", "fuente", "fiabilidad",
           "credibilidad", "tendencia", "notas"),
    "pt": ("país", "período", "indicador", "valor", "unidade", "fonte", "confiabilidade",
           "credibilidade", "tendência", "observações"),
}
# fmt: on
TREND_WORDS: dict[Lang, dict[Trend, str]] = {
    "en": {"up": "up", "stable": "stable", "down": "down"},
    "es": {"up": "sube", "stable": "estable", "down": "baja"},
    "pt": {"up": "sobe", "stable": "estável", "down": "desce"},
}
QUARTER_LETTER: dict[Lang, str] = {"es": "T", "pt": "T", "en": "Q"}


@dataclass(frozen=True)
class Style:
    """How one national steward writes the file (format, language, number style)."""

    fmt: Literal["csv", "xlsx", "json"]
    lang: Lang
    filename: str  # "{year}" is replaced by the cycle year
    country_cell: str
    delimiter: str = ","
    encoding: str = "utf-8"  # utf-8 | utf-8-sig (with BOM) | cp1252
    decimal: Literal[".", ","] = "."
    thousands: bool = False
    line_end: str = "\r\n"
    quarterly_years: frozenset[int] = frozenset()
    trend_lang: Lang = "en"
    score_step: float = 0.5
    sheet: str = "datos"
    title: str = ""
    subtitle: str = ""
    extra_sheet: str = ""
    extra_lines: tuple[str, ...] = ()
    justify_expert: bool = False


_BOTH = frozenset({2024, 2025})

# fmt: off
STYLES: dict[str, Style] = {
    "ARG": Style(
        "xlsx", "es", "ARG_IDEAL_{year}.xlsx", "Argentina", trend_lang="es",
        title="Ministerio de Seguridad Nacional – Datos para el ciclo IDEAL {year}",
        subtitle="Dirección Nacional de Estadística Criminal. Fecha de corte: 31/01/{next}.",
        extra_sheet="notas",
        extra_lines=(
            "Notas metodológicas",
            "Las incautaciones incluyen a las cuatro fuerzas federales de seguridad.",
            "Las cifras del último año son provisorias y pueden ajustarse.",
        ),
    ),
    "BOL": Style("csv", "es", "BOL_ideal_{year}.csv", "Bolivia",
                 delimiter=";", encoding="cp1252", decimal=","),
    "BRA": Style(
        "xlsx", "pt", "BRA_IDEAL_{year}_dados.xlsx", "Brasil", quarterly_years=_BOTH,
        trend_lang="pt", score_step=0.1, sheet="dados", justify_expert=True,
        title="Ministério da Justiça e Segurança Pública – Dados para o ciclo IDEAL {year}",
        subtitle="Indicadores de fluxo por trimestre (T1–T4). Data de corte: 31/01/{next}.",
        extra_sheet="notas",
        extra_lines=(
            "Notas",
            "Dados consolidados pela SENASP a partir das bases da PF, da PRF e das UFs.",
            "Os valores trimestrais somam o total anual.",
        ),
    ),
    "CHL": Style("csv", "es", "CHL_ideal_{year}.csv", "CHL", line_end="\n", score_step=0.1,
                 justify_expert=True),
    "COL": Style("csv", "es", "COL_ideal_{year}.csv", "COL", thousands=True, trend_lang="es",
                 score_step=0.1, justify_expert=True,
                 delimiter=";", encoding="cp1252", decimal=","),
    "CRI": Style("json", "en", "CRI_ideal_{year}.json", "CRI", score_step=0.1,
                 justify_expert=True),
    "DOM": Style("csv", "es", "RepDominicana_IDEAL_{year}.csv", "República Dominicana",
                 delimiter=";", encoding="utf-8-sig", decimal=",", thousands=True),
    "ECU": Style(
        "xlsx", "es", "Ecuador ciclo {year}.xlsx", "Ecuador", justify_expert=True,
        title="Ministerio del Interior – Datos para el ciclo IDEAL {year}",
        subtitle="Dirección de Análisis de la Información. Fecha de corte: 31/01/{next}.",
    ),
    "SLV": Style("csv", "es", "SLV_ideal_{year}.csv", "El Salvador", trend_lang="es",
                 delimiter=";", encoding="cp1252", decimal=","),
    "GTM": Style(
        "xlsx", "es", "GTM_IDEAL_{year}.xlsx", "Guatemala", trend_lang="es",
        title="Ministerio de Gobernación – Datos para el ciclo IDEAL {year}",
        subtitle="Unidad de Información Estadística. Fecha de corte: 31/01/{next}.",
        extra_sheet="instrucciones",
        extra_lines=(
            "Instrucciones de llenado",
            "1. Registre un valor por fila, en la unidad del catálogo IDEAL.",
            "2. Si un dato no está disponible escriba n/d y explique el motivo en notas.",
            "3. Califique la fuente (A-F) y la información (1-6).",
        ),
    ),
    "HND": Style("csv", "es", "HND_ideal_{year}.csv", "Honduras", thousands=True,
                 trend_lang="es", delimiter=";", encoding="cp1252", decimal=","),
    "JAM": Style("csv", "en", "JAM_IDEAL_{year}.csv", "Jamaica", line_end="\n",
                 quarterly_years=frozenset({2024}), justify_expert=True),
    "MEX": Style("csv", "es", "MEX_IDEAL_{year}_trimestral.csv", "México",
                 encoding="utf-8-sig", quarterly_years=_BOTH, score_step=0.1,
                 justify_expert=True),
    "PAN": Style(
        "xlsx", "es", "Panama IDEAL {year} datos.xlsx", "Panamá", sheet="data",
        title="Ministerio de Seguridad Pública – Datos para el ciclo IDEAL {year}",
        subtitle="Dirección de Análisis Criminal. Cifras al 31/01/{next}.",
    ),
    "PRY": Style("csv", "es", "PRY_ideal_{year}.csv", "Paraguay", thousands=True,
                 trend_lang="es", delimiter=";", encoding="cp1252", decimal=","),
    "PER": Style("csv", "es", "PER_ideal_{year}.csv", "Perú", thousands=True,
                 trend_lang="es", justify_expert=True,
                 delimiter=";", encoding="cp1252", decimal=","),
    "URY": Style("csv", "es", "URY_ideal_{year}.csv", "UY", line_end="\n"),
}

# Which national body a figure comes from: indicator -> source key, then per country.
SOURCE_KEY: dict[str, str] = {
    "cocaine_seized_kg": "drugs", "cocaine_labs_dismantled_count": "drugs",
    "coca_cultivation_ha": "crops", "cannabis_seized_kg": "drugs",
    "cannabis_plants_eradicated_count": "crops", "cannabis_cultivation_ha": "crops",
    "synthetic_drugs_seized_kg": "drugs", "synthetic_labs_dismantled_count": "drugs",
    "precursors_seized_kg": "drugs", "thb_victims_identified_count": "thb",
    "thb_investigations_opened_count": "thb", "thb_victims_minors_pct": "thb",
    "smuggled_migrants_detected_count": "migration",
    "smuggling_networks_dismantled_count": "migration",
    "migrant_deaths_in_transit_count": "migration", "firearm_homicides_count": "homicides",
    "firearms_seized_count": "firearms", "ammunition_seized_count": "firearms",
    "ml_cases_opened_count": "fiu", "suspicious_transaction_reports_count": "fiu",
    "criminal_assets_seized_usd": "fiu", "extortion_reports_count": "extortion",
    "kidnappings_count": "extortion", "extortion_groups_dismantled_count": "extortion",
    "illegal_mining_ha": "environment", "illegal_timber_seized_m3": "environment",
    "wildlife_seizures_count": "environment", "cybercrime_reports_count": "cyber",
    "ransomware_incidents_count": "cyber", "online_fraud_losses_usd": "cyber",
    "corruption_cases_opened_count": "corruption", "officials_prosecuted_count": "corruption",
}
SOURCE_KEYS: tuple[str, ...] = (
    "drugs", "crops", "thb", "migration", "homicides", "firearms", "fiu", "extortion",
    "environment", "cyber", "corruption",
)
SOURCES: dict[str, tuple[str, ...]] = {  # in SOURCE_KEYS order
    "ARG": (
        "Ministerio de Seguridad Nacional", "Ministerio de Seguridad Nacional",
        "Comité Ejecutivo de Lucha contra la Trata y Explotación de Personas",
        "Dirección Nacional de Migraciones", "Sistema Nacional de Información Criminal (SNIC)",
        "ANMaC – Agencia Nacional de Materiales Controlados",
        "Unidad de Información Financiera (UIF)",
        "Sistema Nacional de Información Criminal (SNIC)",
        "Gendarmería Nacional / Ministerio de Ambiente", "Ministerio Público Fiscal – UFECI",
        "Oficina Anticorrupción",
    ),
    "BOL": (
        "FELCN – Fuerza Especial de Lucha Contra el Narcotráfico",
        "Viceministerio de Defensa Social y Sustancias Controladas",
        "Policía Boliviana – División Trata y Tráfico de Personas",
        "Dirección General de Migración",
        "Policía Boliviana – Observatorio de Seguridad Ciudadana", "Policía Boliviana – FELCC",
        "Unidad de Investigaciones Financieras (UIF)", "Policía Boliviana – FELCC",
        "Autoridad de Bosques y Tierra (ABT)", "Policía Boliviana – FELCC, Sección Cibercrimen",
        "Ministerio Público – Fiscalía Anticorrupción",
    ),
    "BRA": (
        "Polícia Federal", "Polícia Federal", "Ministério da Justiça e Segurança Pública",
        "Polícia Federal – DIMIG", "SINESP / MJSP", "SINARM – Polícia Federal",
        "COAF – Conselho de Controle de Atividades Financeiras", "SINESP / MJSP", "IBAMA",
        "Polícia Federal – Diretoria de Crimes Cibernéticos",
        "Controladoria-Geral da União (CGU)",
    ),
    "CHL": (
        "Fiscalía Nacional – Observatorio del Narcotráfico", "Carabineros de Chile – OS7",
        "Mesa Intersectorial sobre Trata de Personas", "PDI – Policía de Investigaciones",
        "Centro para la Prevención de Homicidios y Delitos Violentos",
        "Dirección General de Movilización Nacional (DGMN)",
        "Unidad de Análisis Financiero (UAF)", "Carabineros de Chile", "CONAF / SAG",
        "PDI – Brigada Investigadora del Cibercrimen",
        "Fiscalía Nacional – Unidad Anticorrupción",
    ),
    "COL": (
        "Policía Nacional de Colombia – DIJIN",
        "Observatorio de Drogas de Colombia – MinJusticia",
        "Ministerio del Interior – Comité Interinstitucional contra la Trata",
        "Migración Colombia", "Policía Nacional de Colombia – SIEDCO",
        "Policía Nacional de Colombia – DIJIN",
        "UIAF – Unidad de Información y Análisis Financiero", "GAULA – Policía Nacional",
        "Policía Nacional – Dirección de Carabineros y Protección Ambiental",
        "Policía Nacional – Centro Cibernético Policial", "Fiscalía General de la Nación",
    ),
    "CRI": (
        "Instituto Costarricense sobre Drogas (ICD)", "Policía de Control de Drogas (PCD)",
        "CONATT", "Dirección General de Migración y Extranjería",
        "Organismo de Investigación Judicial (OIJ)", "Dirección General de Armamento",
        "ICD – Unidad de Inteligencia Financiera", "Organismo de Investigación Judicial (OIJ)",
        "SINAC", "OIJ – Sección de Delitos Informáticos", "Procuraduría de la Ética Pública",
    ),
    "DOM": (
        "Dirección Nacional de Control de Drogas (DNCD)",
        "Dirección Nacional de Control de Drogas (DNCD)",
        "Procuraduría General de la República – PETT", "Dirección General de Migración",
        "Observatorio de Seguridad Ciudadana", "Ministerio de Interior y Policía",
        "Unidad de Análisis Financiero (UAF)", "Policía Nacional",
        "Ministerio de Medio Ambiente y Recursos Naturales", "Policía Nacional – DICAT",
        "Procuraduría Especializada de Persecución de la Corrupción Administrativa (PEPCA)",
    ),
    "ECU": (
        "Policía Nacional del Ecuador – Dirección Nacional Antinarcóticos",
        "Policía Nacional del Ecuador – Dirección Nacional Antinarcóticos",
        "Ministerio del Interior – Unidad contra la Trata de Personas",
        "Ministerio del Interior – Control Migratorio",
        "Ministerio del Interior – Dirección de Análisis de la Información",
        "Comando Conjunto de las FF.AA. – Control de Armas",
        "Unidad de Análisis Financiero y Económico (UAFE)", "Policía Nacional – UNASE",
        "Ministerio del Ambiente, Agua y Transición Ecológica",
        "Policía Nacional – Unidad de Ciberdelito", "Fiscalía General del Estado",
    ),
    "SLV": (
        "Policía Nacional Civil – División Antinarcóticos",
        "Policía Nacional Civil – División Antinarcóticos",
        "Consejo Nacional contra la Trata de Personas",
        "Dirección General de Migración y Extranjería", "Policía Nacional Civil",
        "Ministerio de la Defensa Nacional", "Fiscalía General de la República – UIF",
        "Policía Nacional Civil", "Ministerio de Medio Ambiente y Recursos Naturales (MARN)",
        "Policía Nacional Civil – Unidad de Delitos Informáticos",
        "Fiscalía General de la República",
    ),
    "GTM": (
        "PNC – Subdirección General de Análisis e Información Antinarcótica",
        "PNC – Subdirección General de Análisis e Información Antinarcótica",
        "SVET – Secretaría contra la Violencia Sexual, Explotación y Trata de Personas",
        "Instituto Guatemalteco de Migración", "Policía Nacional Civil / INACIF", "DIGECAM",
        "Intendencia de Verificación Especial (IVE)",
        "Ministerio Público – Fiscalía contra el Delito de Extorsión", "CONAP / DIPRONA",
        "Ministerio Público", "Ministerio Público – Fiscalía contra la Corrupción",
    ),
    "HND": (
        "Dirección de Lucha contra el Narcotráfico (DLCN)",
        "Dirección de Lucha contra el Narcotráfico (DLCN)", "CICESCT",
        "Instituto Nacional de Migración", "Secretaría de Seguridad – SEPOL",
        "Secretaría de Seguridad – SEPOL", "Unidad de Inteligencia Financiera – CNBS",
        "DIPAMPCO", "Instituto de Conservación Forestal (ICF)",
        "Dirección Policial de Investigaciones (DPI)", "Ministerio Público – FETCCOP",
    ),
    "JAM": (
        "Jamaica Constabulary Force – Narcotics Division",
        "Jamaica Constabulary Force – Narcotics Division",
        "National Task Force Against Trafficking in Persons (NATFATIP)",
        "Passport, Immigration and Citizenship Agency (PICA)",
        "JCF – Statistics and Information Management Unit", "Jamaica Constabulary Force",
        "Financial Investigations Division (FID)",
        "Major Organised Crime and Anti-Corruption Agency (MOCA)",
        "National Environment and Planning Agency (NEPA)",
        "JCF – Communication Forensics and Cybercrime Division", "Integrity Commission",
    ),
    "MEX": (
        "SEDENA / FGR", "SEDENA", "SESNSP", "Instituto Nacional de Migración (INM)", "SESNSP",
        "SEDENA", "Unidad de Inteligencia Financiera (UIF)", "SESNSP", "PROFEPA",
        "Guardia Nacional – Dirección General Científica",
        "FGR – Fiscalía Especializada en Combate a la Corrupción",
    ),
    "PAN": (
        "Ministerio de Seguridad Pública – SENAN", "Ministerio de Seguridad Pública",
        "Comisión Nacional contra la Trata de Personas",
        "Servicio Nacional de Migración / SENAFRONT", "Ministerio Público – SIEC",
        "Ministerio de Seguridad Pública", "Unidad de Análisis Financiero (UAF)",
        "Policía Nacional", "Ministerio de Ambiente (MiAMBIENTE)", "Ministerio Público",
        "Autoridad Nacional de Transparencia y Acceso a la Información (ANTAI)",
    ),
    "PRY": (
        "Secretaría Nacional Antidrogas (SENAD)", "Secretaría Nacional Antidrogas (SENAD)",
        "Ministerio Público – Unidad Especializada de Trata de Personas",
        "Dirección General de Migraciones",
        "Ministerio del Interior – Observatorio Nacional de Seguridad", "DIMABEL", "SEPRELAD",
        "Policía Nacional", "MADES / INFONA",
        "Policía Nacional – División de Delitos Informáticos",
        "Ministerio Público – Unidad Anticorrupción",
    ),
    "PER": (
        "Policía Nacional del Perú – DIRANDRO", "DEVIDA", "Ministerio del Interior – RETA",
        "Superintendencia Nacional de Migraciones",
        "Ministerio Público – Observatorio de Criminalidad", "SUCAMEC", "UIF-Perú (SBS)",
        "Policía Nacional del Perú – DIRINCRI", "Ministerio del Ambiente / OEFA",
        "Policía Nacional del Perú – DIVINDAT", "Procuraduría General del Estado",
    ),
    "URY": (
        "Ministerio del Interior – Brigada Antidrogas",
        "Ministerio del Interior – Brigada Antidrogas", "Ministerio del Interior",
        "Dirección Nacional de Migración",
        "Ministerio del Interior – Observatorio de Criminalidad",
        "Ministerio del Interior – Registro Nacional de Armas", "SENACLAFT",
        "Ministerio del Interior", "Ministerio de Ambiente", "CERTuy / Ministerio del Interior",
        "JUTEP – Junta de Transparencia y Ética Pública",
    ),
}
INTEGRITY_SOURCE: dict[Lang, str] = {
    "es": "Transparencia Internacional – IPC",
    "pt": "Transparência Internacional – IPC",
    "en": "Transparency International – CPI",
}
EXPERT_SOURCE: dict[Lang, str] = {
    "es": "Panel nacional de expertos IDEAL",
    "pt": "Painel nacional de especialistas IDEAL",
    "en": "National expert panel (IDEAL)",
}
JUSTIFICATION: dict[Lang, dict[Trend, str]] = {  # stable ratings go without a remark
    "es": {
        "up": "Mercado en expansión: más incautaciones y mayor presencia de estructuras "
              "transnacionales.",
        "down": "Reducción sostenida según indicadores operativos.",
    },
    "pt": {
        "up": "Mercado em expansão, com maior presença de facções transnacionais.",
        "down": "Redução consistente segundo indicadores operacionais.",
    },
    "en": {
        "up": "Market expanding: more seizures and more transnational groups active.",
        "down": "Sustained decline according to operational indicators.",
    },
}

# Values a steward could not give: (cycle, country, indicator) -> (token, note).
MISSING: dict[tuple[str, str, str], tuple[str, str]] = {
    ("2024", "BOL", "ransomware_incidents_count"):
        ("s/d", "Sin registro centralizado de incidentes de ransomware"),
    ("2024", "URY", "cannabis_cultivation_ha"):
        ("-", "Mercado regulado (Ley 19.172); no se releva cultivo ilícito"),
    ("2025", "BOL", "ransomware_incidents_count"):
        ("s/d", "Sin registro centralizado de incidentes de ransomware"),
    ("2025", "URY", "cannabis_cultivation_ha"):
        ("-", "Mercado regulado (Ley 19.172); no se releva cultivo ilícito"),
    ("2025", "SLV", "illegal_timber_seized_m3"): ("n/d", "Dato en validación por el MARN"),
    ("2025", "PAN", "online_fraud_losses_usd"):
        ("N/A", "No existe registro consolidado de pérdidas por fraude"),
    ("2025", "ECU", "online_fraud_losses_usd"): ("n/d", "Información en consolidación"),
}
# Small counts a steward suppresses: (cycle, country, indicator) -> true value (< 5).
SUPPRESSED: dict[tuple[str, str, str], int] = {
    ("2024", "URY", "migrant_deaths_in_transit_count"): 2,
    ("2025", "URY", "migrant_deaths_in_transit_count"): 3,
    ("2025", "CRI", "synthetic_labs_dismantled_count"): 2,
}
# Short remarks some stewards add: (cycle, country, indicator) -> note.
REMARKS: dict[tuple[str, str, str], str] = {
    ("2024", "COL", "cocaine_seized_kg"): "Incluye clorhidrato de cocaína, base y pasta base",
    ("2024", "BRA", "cocaine_seized_kg"): "Consolidado PF e PRF",
    ("2024", "MEX", "synthetic_drugs_seized_kg"): "Incluye metanfetamina y fentanilo",
    ("2024", "PER", "coca_cultivation_ha"): "Monitoreo anual de cultivos",
    ("2024", "ARG", "thb_victims_identified_count"): "Personas rescatadas y asistidas",
    ("2024", "CHL", "coca_cultivation_ha"): "No se registran cultivos de coca",
    ("2024", "PAN", "smuggled_migrants_detected_count"): "Ingresos irregulares por Darién",
    ("2024", "JAM", "firearm_homicides_count"): "Provisional figures",
    ("2025", "COL", "cocaine_seized_kg"): "Incluye clorhidrato de cocaína, base y pasta base",
    ("2025", "BRA", "cocaine_seized_kg"): "Consolidado PF e PRF",
    ("2025", "MEX", "synthetic_drugs_seized_kg"): "Incluye metanfetamina y fentanilo",
    ("2025", "ECU", "cocaine_seized_kg"): "Récord de incautaciones en puertos del Guayas",
    ("2025", "PAN", "smuggled_migrants_detected_count"):
        "Flujo por Darién en fuerte descenso desde febrero",
    ("2025", "ARG", "firearm_homicides_count"): "Cifras provisorias",
    ("2025", "BRA", "illegal_mining_ha"): "Área detectada pelo sistema DETER/INPE",
}
# fmt: on


# ----------------------------------------------------------------------------------------
# Rows
# ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Row:
    """One line of a submission, before the country's style renders it."""

    period: str  # canonical: "2025" or "2025-Q1"
    indicator: str
    units: int | None  # the value in units of 10**-decimals (None when text is written)
    decimals: int
    unit: str
    source: str
    reliability: str
    credibility: str
    trend: Trend | None = None
    notes: str = ""
    text: str | None = None  # written instead of a number ("n/d", "<5", a typo)
    is_score: bool = False
    shifted: bool = False  # cells moved one column right from 'value' on (a paste error)

    @property
    def value(self) -> float | None:
        return None if self.units is None else self.units / 10**self.decimals


@dataclass(frozen=True)
class Submission:
    """One file to write: its name, the country's style and the rows."""

    cycle: CycleSpec
    iso3: str
    filename: str
    style: Style
    rows: tuple[Row, ...]


# ----------------------------------------------------------------------------------------
# Magnitudes
# ----------------------------------------------------------------------------------------
def _rng(seed: int, *key: str) -> np.random.Generator:
    """A generator for one purpose and cell, independent of generation order."""
    return np.random.default_rng([seed, zlib.crc32("|".join(key).encode("utf-8"))])


def _lognormal(seed: int, sd: float, *key: str) -> float:
    return float(math.exp(_rng(seed, *key).normal(0.0, sd)))


@dataclass(frozen=True)
class Anchors:
    population: dict[tuple[str, int], int]
    homicide_rate: dict[str, float]
    seized_kg: dict[tuple[str, str], float]  # (iso3, indicator)

    def population_in(self, iso3: str, year: int) -> float:
        """Population of a year; past the last year on file, extrapolated at the last growth."""
        if (iso3, year) in self.population:
            return float(self.population[(iso3, year)])
        last = max(y for c, y in self.population if c == iso3)
        growth = self.population[(iso3, last)] / self.population[(iso3, last - 1)]
        return float(self.population[(iso3, last)] * growth ** (year - last))


def read_anchors(path: Path = ANCHORS_PATH) -> Anchors:
    """The public anchor figures written by ``anchors.py``."""
    population: dict[tuple[str, int], int] = {}
    homicide: dict[str, float] = {}
    seized: dict[tuple[str, str], float] = {}
    with path.open(encoding="utf-8", newline="") as fh:
        for rec in csv.DictReader(fh):
            iso3, anchor = rec["country_iso3"], rec["anchor"]
            if anchor == "population":
                population[(iso3, int(rec["year"]))] = int(rec["value"])
            elif anchor == "homicide_rate_per_100k":
                homicide[iso3] = float(rec["value"])
            else:
                seized[(iso3, anchor)] = float(rec["value"])
    return Anchors(population, homicide, seized)


def _intensity(iso3: str, category: str) -> float:
    return INTENSITY[iso3][CATEGORY_ORDER.index(category)]


def _drift(iso3: str, category: str) -> float:
    return DRIFT_2025_COUNTRY.get((iso3, category), DRIFT_2025[category])


def base_value(ind: Indicator, iso3: str, anchors: Anchors, seed: int) -> float:
    """The 2024 annual value of a quantitative indicator, in the catalogue unit."""
    code = ind.code
    pop_100k = anchors.population_in(iso3, BASE_YEAR) / 1e5
    if code in SEIZURE_MULTIPLIER:
        anchored = anchors.seized_kg[(iso3, code)] * SEIZURE_MULTIPLIER[code][iso3]
        return anchored * _lognormal(seed, NOISE_ABSOLUTE, "abs", iso3, code)
    if code == "firearm_homicides_count":
        rate = anchors.homicide_rate[iso3] * HOMICIDE_FACTOR.get(iso3, 1.0)
        return rate * FIREARM_SHARE[iso3] * pop_100k
    if code == "thb_victims_minors_pct":
        return float(_rng(seed, "minors", iso3).uniform(22.0, 48.0))
    if iso3 in ABSOLUTE_2024.get(code, {}):
        noise = 1.0 if code == "integrity_index_0_100" else NOISE_ABSOLUTE
        value = ABSOLUTE_2024[code][iso3]
        return value * (_lognormal(seed, noise, "abs", iso3, code) if noise != 1.0 else 1.0)
    rate = BASE_RATE_PER_100K[code] * _intensity(iso3, ind.category)
    return rate * pop_100k * _lognormal(seed, NOISE_BASE, "base", iso3, code)


def next_value(ind: Indicator, iso3: str, previous: float, seed: int, cycle_id: str) -> float:
    """A later cycle's value: the previous one moved by the category drift plus noise."""
    if ind.unit == "pct":
        shift = float(_rng(seed, "pct", cycle_id, iso3, ind.code).normal(0.0, 2.5))
        return min(max(previous + shift, 1.0), 95.0)
    if ind.code == "integrity_index_0_100":
        step = float(_rng(seed, "cpi", cycle_id, iso3).normal(0.0, 1.5))
        return previous + step
    noise = _lognormal(seed, NOISE_YEAR, "year", cycle_id, iso3, ind.code)
    return previous * _drift(iso3, ind.category) * noise


def expert_score(iso3: str, category: str, cycle_id: str, seed: int) -> float:
    """GI-TOC-style 1-10 score consistent with the country's intensity in the category."""
    score = 5.0 + 1.8 * math.log(_intensity(iso3, category))
    score += float(_rng(seed, "expert", iso3, category).normal(0.0, EXPERT_NOISE))
    if cycle_id != str(BASE_YEAR):
        shift = max(min(1.8 * math.log(_drift(iso3, category)), 1.5), -1.5)
        score += shift + float(_rng(seed, "expert", cycle_id, iso3, category).normal(0.0, 0.2))
    return min(max(score, 1.0), 10.0)


def perceived_trend(iso3: str, category: str, cycle_id: str) -> Trend:
    if cycle_id == str(BASE_YEAR):
        ratio = PERCEIVED_2024.get((iso3, category), PERCEIVED_2024_REGIONAL.get(category, 1.0))
    else:
        ratio = _drift(iso3, category)
    if ratio > 1 + TREND_BAND:
        return "up"
    if ratio < 1 - TREND_BAND:
        return "down"
    return "stable"


def annual_values(
    catalogue: Catalogue, anchors: Anchors, seed: int
) -> dict[str, dict[str, dict[str, float]]]:
    """cycle_id -> iso3 -> indicator -> annual value (quantitative indicators only)."""
    out: dict[str, dict[str, dict[str, float]]] = {}
    previous: dict[str, dict[str, float]] = {}
    for cycle in CYCLES:
        current: dict[str, dict[str, float]] = {}
        for iso3 in EXPECTED_COUNTRIES:
            current[iso3] = {}
            for ind in catalogue.indicators:
                if ind.kind != "quantitative":
                    continue
                if cycle.period_year == BASE_YEAR:
                    value = base_value(ind, iso3, anchors, seed)
                else:
                    value = next_value(ind, iso3, previous[iso3][ind.code], seed, cycle.cycle_id)
                low, high = ind.plausible
                if not low <= value <= high:
                    raise ValueError(
                        f"profile gives {iso3} {ind.code} {cycle.cycle_id} = {value:,.1f}, "
                        f"outside the plausible range [{low:,.0f}, {high:,.0f}]"
                    )
                current[iso3][ind.code] = value
        out[cycle.cycle_id] = current
        previous = current
    return out


# ----------------------------------------------------------------------------------------
# Building rows
# ----------------------------------------------------------------------------------------
def _grade(seed: int, iso3: str, ind: Indicator, cycle_id: str) -> tuple[str, str]:
    """Admiralty grade of a row: mostly B2, registers A1, estimates C3, some experts F6."""
    draw = float(_rng(seed, "grade", cycle_id, iso3, ind.code).uniform())
    if ind.kind == "expert":
        return ("F", "6") if draw < 0.08 else ("C", "3") if draw < 0.30 else ("B", "3")
    key = SOURCE_KEY.get(ind.code, "")
    if ind.unit in ("ha", "m3") or ind.code == "online_fraud_losses_usd":
        return ("C", "3") if draw < 0.5 else ("B", "3")
    if key in ("drugs", "firearms", "homicides") and draw < 0.30:
        return ("A", "1")
    return ("C", "3") if draw > 0.93 else ("B", "2")


def _source(iso3: str, ind: Indicator, lang: Lang) -> str:
    if ind.kind == "expert":
        return EXPERT_SOURCE[lang]
    if ind.code == "integrity_index_0_100":
        return INTEGRITY_SOURCE[lang]
    return SOURCES[iso3][SOURCE_KEYS.index(SOURCE_KEY[ind.code])]


def _to_units(value: float, decimals: int) -> int:
    return round(value * 10.0**decimals)


def _split_quarters(units: int, seed: int, *key: str) -> list[int]:
    """Four non-negative parts that sum exactly to ``units`` (largest remainder)."""
    weights = _rng(seed, "quarters", *key).dirichlet([20.0, 20.0, 20.0, 20.0])
    raw = [units * float(w) for w in weights]
    parts = [math.floor(r) for r in raw]
    order = sorted(range(4), key=lambda i: (parts[i] - raw[i], i))
    for i in order[: units - sum(parts)]:
        parts[i] += 1
    return parts


def build_rows(
    iso3: str,
    cycle: CycleSpec,
    catalogue: Catalogue,
    values: dict[str, float],
    seed: int,
) -> list[Row]:
    """Every indicator of one country and cycle, as the steward would list it."""
    style = STYLES[iso3]
    cid, year = cycle.cycle_id, cycle.period_year
    quarterly = year in style.quarterly_years
    rows: list[Row] = []
    for ind in catalogue.indicators:
        key = (cid, iso3, ind.code)
        reliability, credibility = _grade(seed, iso3, ind, cid)
        base = Row(
            period=str(year),
            indicator=ind.code,
            units=None,
            decimals=DECIMALS[ind.unit],
            unit=ind.unit,
            source=_source(iso3, ind, style.lang),
            reliability=reliability,
            credibility=credibility,
        )
        if ind.kind == "expert":
            trend = perceived_trend(iso3, ind.category, cid)
            step_units = round(style.score_step * 10)
            score = expert_score(iso3, ind.category, cid, seed)
            units = round(score * 10 / step_units) * step_units
            justify = style.justify_expert and trend != "stable"
            note = JUSTIFICATION[style.lang][trend] if justify else ""
            rows.append(replace(base, units=units, trend=trend, notes=note, is_score=True))
            continue
        if key in MISSING:
            token, note = MISSING[key]
            rows.append(replace(base, text=token, notes=note))
            continue
        if key in SUPPRESSED:
            if SUPPRESSED[key] >= 5:
                raise ValueError(f"{key}: only counts below 5 are suppressed")
            rows.append(replace(base, text="<5"))
            continue
        units = _to_units(values[ind.code], base.decimals)
        note = REMARKS.get(key, "")
        if quarterly and ind.period_aggregation == "sum":
            parts = _split_quarters(units, seed, cid, iso3, ind.code)
            for q, part in enumerate(parts, start=1):
                rows.append(
                    replace(base, period=f"{year}-Q{q}", units=part, notes=note if q == 1 else "")
                )
        else:
            rows.append(replace(base, units=units, notes=note))
    return rows


# ----------------------------------------------------------------------------------------
# Deliberate mistakes (cycle 2025; see README.md for the outcome each must produce)
# ----------------------------------------------------------------------------------------
def _edit(rows: list[Row], code: str, **changes: object) -> None:
    """Apply changes to the (first) row of an indicator, in place."""
    for i, row in enumerate(rows):
        if row.indicator == code:
            rows[i] = replace(row, **changes)  # type: ignore[arg-type]
            return
    raise KeyError(code)


def honduras_rejected(rows: list[Row]) -> list[Row]:
    """HND 2025: four errors, each enough to reject the file; HND never resubmits."""
    out = list(rows)
    _edit(out, "cocaine_seized_kg", indicator="cocaine_seized")  # unknown code (typo)
    _edit(out, "corruption_cases_opened_count", units=None, text="mil doscientos")
    _edit(out, "wildlife_seizures_count", reliability="G")  # not an Admiralty grade
    _edit(out, "kidnappings_count", units=-12, decimals=0)  # a negative count
    return out


def paraguay_first_attempt(rows: list[Row], rows_2024: list[Row]) -> list[Row]:
    """PRY 2025, first file: two rows pasted one column right, a credibility of 7, and
    three rows copied from last year's file with their period 2024."""
    out = list(rows)
    for code in ("firearms_seized_count", "ammunition_seized_count"):
        _edit(out, code, shifted=True)
    _edit(out, "ml_cases_opened_count", credibility="7")
    last_year = {r.indicator: r for r in rows_2024}
    for code in ("extortion_reports_count", "kidnappings_count",
                 "extortion_groups_dismantled_count"):  # fmt: skip
        i = next(i for i, r in enumerate(out) if r.indicator == code)
        out[i] = last_year[code]
    return out


def paraguay_resubmission(rows: list[Row]) -> list[Row]:
    out = list(rows)
    out[0] = replace(out[0], notes="Reenvío corregido (versión 2)")
    return out


def peru_warnings(rows: list[Row]) -> list[Row]:
    """PER 2025: cocaine seized in tonnes, and wildlife seizures left out entirely."""
    out = [r for r in rows if r.indicator != "wildlife_seizures_count"]
    row = next(r for r in out if r.indicator == "cocaine_seized_kg")
    tonnes_units = round((row.units or 0) / 10**row.decimals / 1000 * 100)
    _edit(out, "cocaine_seized_kg", unit="t", units=tonnes_units, decimals=2)
    return out


def dominican_typo(rows: list[Row]) -> list[Row]:
    """DOM 2025: integrity index typed with an extra zero (35 -> 350): implausible."""
    out = list(rows)
    row = next(r for r in out if r.indicator == "integrity_index_0_100")
    _edit(out, "integrity_index_0_100", units=(row.units or 0) * 10)
    return out


# ----------------------------------------------------------------------------------------
# Event records (cycle 2025: Colombia's national event register, beside its indicator file)
# ----------------------------------------------------------------------------------------
# Which countries send an event register in which cycle: (cycle, iso3) -> file name. The
# register is written in the country's style (COL: `;`, cp1252, decimal comma, `1.234,5`).
EVENT_REGISTERS: dict[tuple[str, str], str] = {("2025", "COL"): "COL_eventos_{year}.csv"}

# The register totals agree with the indicator file within the rules' tolerance
# (schemas/aggregation_rules.yaml): each total is the reported value moved by a drawn
# relative gap. Mining hectares are area detected in the year's incidents, below the
# national survey's figure (the rule allows 25 %).
REGISTER_GAP: tuple[float, float] = (-0.02, 0.01)
REGISTER_GAP_BY_INDICATOR: dict[str, tuple[float, float]] = {"illegal_mining_ha": (-0.12, -0.04)}
# The deliberate disagreement: the register misses some regional units' firearm seizures,
# so its total falls this share below the reported value (outside the 5 % tolerance).
REGISTER_SHORTFALL: dict[tuple[str, str, str], float] = {
    ("2025", "COL", "firearms_seized_count"): 0.15,
}

# fmt: off
COL_DEPARTMENTS: tuple[str, ...] = (
    "Amazonas", "Antioquia", "Arauca", "Atlántico", "Bogotá, D.C.", "Bolívar", "Boyacá",
    "Caldas", "Caquetá", "Casanare", "Cauca", "Cesar", "Chocó", "Córdoba", "Cundinamarca",
    "Guainía", "Guaviare", "Huila", "La Guajira", "Magdalena", "Meta", "Nariño",
    "Norte de Santander", "Putumayo", "Quindío", "Risaralda", "San Andrés y Providencia",
    "Santander", "Sucre", "Tolima", "Valle del Cauca", "Vaupés", "Vichada",
)
# Where each kind of event happens: department (admin1) -> relative weight.
PLACES: dict[str, dict[str, float]] = {
    "cocaine_land": {
        "Nariño": 14, "Antioquia": 12, "Valle del Cauca": 10, "Cauca": 9,
        "Norte de Santander": 8, "Bogotá, D.C.": 6, "Putumayo": 6, "Bolívar": 5, "Córdoba": 4,
        "Chocó": 4, "Atlántico": 3, "Santander": 3, "Meta": 3, "Caquetá": 3, "Guaviare": 2,
        "Cesar": 2, "Magdalena": 2, "La Guajira": 2, "Sucre": 2, "Cundinamarca": 2,
        "Risaralda": 1, "Huila": 1, "Tolima": 1, "Arauca": 1, "Quindío": 1, "Caldas": 1,
        "Boyacá": 1,
    },
    "cocaine_sea": {
        "Nariño": 8, "Valle del Cauca": 6, "Bolívar": 5, "Cauca": 3, "Chocó": 3,
        "San Andrés y Providencia": 3, "Magdalena": 2, "La Guajira": 2, "Atlántico": 2,
        "Antioquia": 2, "Sucre": 1, "Córdoba": 1,
    },
    "cannabis": {
        "Cauca": 20, "Valle del Cauca": 8, "Antioquia": 8, "Bogotá, D.C.": 8, "Risaralda": 5,
        "Cundinamarca": 4, "Santander": 4, "Quindío": 3, "Caldas": 3, "Tolima": 3, "Huila": 3,
        "Norte de Santander": 3, "Atlántico": 3, "Nariño": 3, "Meta": 3, "Magdalena": 3,
        "Bolívar": 2, "Boyacá": 2, "Cesar": 2, "La Guajira": 2, "Córdoba": 2, "Sucre": 1,
    },
    "urban": {
        "Bogotá, D.C.": 20, "Antioquia": 16, "Valle del Cauca": 12, "Atlántico": 8,
        "Santander": 5, "Bolívar": 5, "Cundinamarca": 5, "Norte de Santander": 4,
        "Risaralda": 3, "Tolima": 3, "Huila": 3, "Meta": 3, "Magdalena": 3, "Córdoba": 3,
        "Nariño": 3, "Cauca": 3, "Caldas": 2, "Quindío": 2, "Cesar": 2, "Boyacá": 2, "Sucre": 2,
        "La Guajira": 2, "San Andrés y Providencia": 1, "Casanare": 1, "Caquetá": 1,
        "Putumayo": 1, "Arauca": 1,
    },
    "cannabis_bulk": {
        "Cauca": 8, "Valle del Cauca": 2, "Tolima": 1, "Huila": 1, "Magdalena": 1,
    },
    "precursors": {
        "Nariño": 5, "Antioquia": 4, "Cauca": 4, "Putumayo": 4, "Norte de Santander": 4,
        "Bolívar": 3, "Meta": 2, "Guaviare": 2, "Caquetá": 2, "Valle del Cauca": 2,
        "Bogotá, D.C.": 2, "Cundinamarca": 1,
    },
    "firearms": {
        "Antioquia": 14, "Valle del Cauca": 12, "Bogotá, D.C.": 10, "Cauca": 7,
        "Norte de Santander": 7, "Nariño": 5, "Atlántico": 5, "Bolívar": 4, "Santander": 4,
        "Córdoba": 4, "Cundinamarca": 3, "Meta": 3, "Huila": 3, "Tolima": 3, "Magdalena": 3,
        "Cesar": 3, "Arauca": 3, "Chocó": 2, "Putumayo": 2, "Caquetá": 2, "Risaralda": 2,
        "La Guajira": 2, "Sucre": 2, "Caldas": 1, "Quindío": 1, "Boyacá": 1, "Casanare": 1,
        "Guaviare": 1,
    },
    "kidnapping": {
        "Norte de Santander": 14, "Cauca": 10, "Arauca": 9, "Antioquia": 8,
        "Valle del Cauca": 6, "Huila": 4, "Nariño": 4, "Bolívar": 4, "Chocó": 3, "Cesar": 3,
        "Bogotá, D.C.": 3, "Meta": 2, "Caquetá": 2, "Putumayo": 2, "Santander": 2,
        "Córdoba": 2, "La Guajira": 2, "Tolima": 2, "Magdalena": 1, "Guaviare": 1,
    },
    "migrants": {
        "Antioquia": 20, "Chocó": 14, "Norte de Santander": 10, "La Guajira": 8, "Nariño": 8,
        "Bogotá, D.C.": 6, "San Andrés y Providencia": 4, "Bolívar": 3, "Valle del Cauca": 2,
        "Arauca": 2, "Vichada": 1, "Amazonas": 1, "Putumayo": 1, "Córdoba": 1,
    },
    "migrants_sea": {
        "Antioquia": 10, "Chocó": 8, "San Andrés y Providencia": 3, "Bolívar": 2,
        "La Guajira": 1, "Nariño": 1,
    },
    "migrant_deaths": {
        "Chocó": 6, "Antioquia": 3, "San Andrés y Providencia": 2, "La Guajira": 1,
        "Nariño": 1, "Norte de Santander": 1,
    },
    "mining": {
        "Antioquia": 25, "Chocó": 20, "Bolívar": 10, "Cauca": 8, "Nariño": 7, "Córdoba": 4,
        "Guainía": 4, "Amazonas": 3, "Putumayo": 3, "Valle del Cauca": 3, "Caquetá": 2,
        "Santander": 2, "Caldas": 2, "Vaupés": 1, "Vichada": 1, "Tolima": 1, "Huila": 1,
        "Guaviare": 1,
    },
    "timber": {
        "Caquetá": 12, "Guaviare": 10, "Meta": 9, "Antioquia": 8, "Chocó": 8, "Putumayo": 6,
        "Amazonas": 4, "Nariño": 4, "Cauca": 3, "Valle del Cauca": 3, "Córdoba": 3,
        "Bolívar": 3, "Santander": 3, "Norte de Santander": 2, "Vichada": 2,
        "Cundinamarca": 2, "Bogotá, D.C.": 2, "Guainía": 1, "Vaupés": 1, "Tolima": 1,
        "Huila": 1, "Boyacá": 1, "Sucre": 1, "Cesar": 1, "Magdalena": 1, "Arauca": 1,
        "Casanare": 1,
    },
    "wildlife": {
        "Bogotá, D.C.": 10, "Antioquia": 10, "Valle del Cauca": 9, "Atlántico": 6,
        "Bolívar": 5, "Magdalena": 5, "Meta": 5, "Casanare": 4, "Córdoba": 4, "Sucre": 4,
        "Santander": 4, "Cundinamarca": 4, "Cesar": 3, "Tolima": 3, "Huila": 3, "Caquetá": 3,
        "Amazonas": 3, "Norte de Santander": 3, "Putumayo": 2, "Guaviare": 2, "Nariño": 2,
        "Cauca": 2, "Chocó": 2, "La Guajira": 2, "Risaralda": 2, "Boyacá": 2, "Arauca": 2,
        "Quindío": 1, "Caldas": 1, "Vichada": 1, "Guainía": 1, "Vaupés": 1,
        "San Andrés y Providencia": 1,
    },
}
# Reporting bodies as the register names them.
DIJIN = "Policía Nacional – DIJIN"
ANTINARCOTICOS = "Policía Nacional – DIRAN"
DICAR = "Policía Nacional – DICAR"
UNIMIL = "Policía Nacional – UNIMIL"
ARMADA = "Armada de Colombia"
EJERCITO = "Ejército Nacional"
FISCALIA = "Fiscalía General de la Nación"
GAULA = "GAULA – Policía Nacional"
GAULA_MILITAR = "GAULA Militar"
MIGRACION = "Migración Colombia"
MININTERIOR_TRATA = "Ministerio del Interior – Trata de Personas"
MEDICINA_LEGAL = "Medicina Legal"
CAR = "Corporación Autónoma Regional"
# Admiralty grades of single events: (reliability, credibility, weight).
GRADE_MIX: dict[str, tuple[tuple[str, str, float], ...]] = {
    "register": (("A", "1", 0.30), ("B", "2", 0.58), ("B", "3", 0.05), ("C", "3", 0.05),
                 ("D", "4", 0.01), ("F", "6", 0.01)),
    "report": (("B", "2", 0.60), ("C", "3", 0.28), ("B", "3", 0.05), ("D", "4", 0.04),
               ("E", "5", 0.01), ("F", "6", 0.02)),
    "estimate": (("B", "3", 0.40), ("C", "3", 0.48), ("C", "4", 0.08), ("F", "6", 0.04)),
    "case": (("A", "1", 0.20), ("B", "2", 0.62), ("C", "3", 0.15), ("F", "6", 0.03)),
}
# fmt: on


@dataclass(frozen=True)
class Tier:
    """One kind of event making up a share of an indicator's register total."""

    share: float  # of the register total (the last tier of an indicator takes the rest)
    mean: float  # mean quantity of one event, in the item's unit (sets the number of rows)
    sigma: float  # lognormal spread of the event sizes (0: every event the same size)
    low: float  # the smallest quantity of one event
    places: str  # key of PLACES
    sources: tuple[tuple[str, float], ...]  # reporting body and weight
    grades: str  # key of GRADE_MIX
    notes: tuple[str, ...] = ()
    note_share: float = 0.0  # share of the rows that carry one of the notes
    weekly: bool = False  # a weekly consolidation, dated on the Sunday that ends the week
    high: float | None = None  # the largest quantity of one event (else the item's plausible)


# The register of each aggregation rule's indicator, as event tiers. For an indicator
# the rules count in events (count_events: wildlife seizures), the register has one row
# per counted event and the tier's sizes are the quantities (animals) on those rows.
# Counted one by one: victims and kidnappings (quantity 1). Counted in batches, to keep
# the file small: extortion reports and firearms (a case with several complainants, a
# regional unit's weekly consolidation), ammunition (rounds), migrants (per operation).
# fmt: off
REGISTER_PLAN: dict[str, tuple[Tier, ...]] = {
    "cocaine_seized_kg": (
        Tier(0.42, 2500, 0.8, 50, "cocaine_sea", ((ARMADA, 0.8), (ANTINARCOTICOS, 0.2)),
             "register", ("Semisumergible interceptado", "Lancha rápida interceptada",
                          "Contenedor contaminado en terminal portuaria",
                          "Operación naval conjunta"), 0.6, high=14000),
        Tier(0.58, 650, 1.2, 0.5, "cocaine_land",
             ((ANTINARCOTICOS, 0.45), (DIJIN, 0.25), (EJERCITO, 0.2), (FISCALIA, 0.1)),
             "register", ("Clorhidrato de cocaína", "Pasta base de coca", "Base de coca",
                          "Hallazgo en caleta", "Control en vía"), 0.25, high=6000),
    ),
    "cannabis_seized_kg": (
        Tier(0.85, 700, 1.2, 0.5, "cannabis",
             ((DIJIN, 0.35), (ANTINARCOTICOS, 0.35), (EJERCITO, 0.2), (FISCALIA, 0.1)),
             "register", ("Marihuana tipo creepy", "Envío en bus intermunicipal",
                          "Hallazgo en caleta"), 0.2, high=8000),
        Tier(0.15, 4000, 0.6, 500, "cannabis_bulk", ((EJERCITO, 0.5), (ANTINARCOTICOS, 0.5)),
             "register", ("Cultivo bajo invernadero", "Centro de acopio"), 0.8, high=20000),
    ),
    "synthetic_drugs_seized_kg": (
        Tier(1.0, 1.5, 1.3, 0.1, "urban", ((DIJIN, 0.5), (ANTINARCOTICOS, 0.3), (FISCALIA, 0.2)),
             "register", ("Tusi (cocaína rosada)", "Éxtasis (MDMA)", "LSD",
                          "Metanfetamina"), 0.5),
    ),
    "precursors_seized_kg": (
        Tier(1.0, 250, 1.0, 5, "precursors",
             ((ANTINARCOTICOS, 0.6), (EJERCITO, 0.2), (FISCALIA, 0.2)),
             "register", ("Permanganato de potasio", "Ácido sulfúrico", "Ácido clorhídrico",
                          "Acetona", "Cal y cemento"), 0.7),
    ),
    "firearms_seized_count": (
        Tier(0.07, 1, 0.0, 1, "firearms", ((DIJIN, 0.7), (EJERCITO, 0.2), (FISCALIA, 0.1)),
             "register", ("Porte ilegal", "Arma de fabricación artesanal"), 0.15),
        Tier(0.23, 4, 0.5, 2, "firearms", ((DIJIN, 0.6), (EJERCITO, 0.3), (ARMADA, 0.1)),
             "register", ("Hallazgo en caleta", "Allanamiento"), 0.3),
        Tier(0.70, 80, 0.5, 20, "firearms", ((DIJIN, 1.0),),
             "register", ("Consolidado semanal de la seccional",), 1.0, weekly=True),
    ),
    "ammunition_seized_count": (
        Tier(0.10, 300, 1.0, 5, "firearms", ((DIJIN, 0.6), (EJERCITO, 0.3), (ARMADA, 0.1)),
             "register", ("Cartuchos calibre 9 mm", "Cartuchos calibre 5,56 mm"), 0.3),
        Tier(0.90, 12000, 0.8, 1000, "firearms", ((EJERCITO, 0.6), (DIJIN, 0.3), (ARMADA, 0.1)),
             "register", ("Munición de fusil en caleta", "Depósito de grupo armado",
                          "Cartuchos calibre 7,62 mm"), 0.6),
    ),
    "illegal_timber_seized_m3": (
        Tier(1.0, 150, 1.2, 1, "timber", ((DICAR, 0.55), (CAR, 0.3), (EJERCITO, 0.1),
                                          (ARMADA, 0.05)),
             "estimate", ("Transporte sin salvoconducto", "Especie vedada",
                          "Madera en bloque", "Balsas de madera en el río"), 0.3, high=1500),
    ),
    "wildlife_seizures_count": (
        Tier(1.0, 6, 1.2, 1, "wildlife", ((DICAR, 0.65), (CAR, 0.3), (ARMADA, 0.05)),
             "register", ("Tortugas hicotea", "Aves (loros y pericos)", "Iguanas", "Primates",
                          "Babillas", "Serpientes", "Tortugas morrocoy"), 0.35),
    ),
    "kidnappings_count": (
        Tier(1.0, 1, 0.0, 1, "kidnapping", ((GAULA, 0.6), (GAULA_MILITAR, 0.25),
                                            (FISCALIA, 0.15)),
             "report", ("Secuestro extorsivo", "Secuestro simple"), 0.6),
    ),
    "extortion_reports_count": (
        Tier(0.02, 1, 0.0, 1, "urban", ((GAULA, 0.8), (FISCALIA, 0.2)),
             "report", ("Denuncia por la línea 165", "Cobro de vacuna a comerciantes",
                        "Extorsión carcelaria"), 0.4),
        Tier(0.11, 5, 0.5, 2, "urban", ((GAULA, 0.7), (GAULA_MILITAR, 0.2), (FISCALIA, 0.1)),
             "report", ("Cobro de vacuna a comerciantes", "Extorsión a transportadores",
                        "Extorsión carcelaria"), 0.6),
        Tier(0.87, 60, 0.5, 10, "urban", ((GAULA, 1.0),),
             "report", ("Consolidado semanal de denuncias",), 1.0, weekly=True),
    ),
    "migrant_deaths_in_transit_count": (
        Tier(1.0, 1.5, 0.5, 1, "migrant_deaths", ((ARMADA, 0.4), (MIGRACION, 0.3),
                                                  (MEDICINA_LEGAL, 0.3)),
             "report", ("Naufragio", "Hallazgo en zona selvática"), 0.8),
    ),
    "smuggled_migrants_detected_count": (
        Tier(0.35, 90, 0.5, 5, "migrants_sea", ((ARMADA, 0.6), (MIGRACION, 0.4)),
             "case", ("Embarcación interceptada en el golfo de Urabá",
                      "Embarcación interceptada"), 0.5),
        Tier(0.65, 150, 1.0, 1, "migrants", ((MIGRACION, 0.8), (DIJIN, 0.2)),
             "case", ("Control en terminal de transporte", "Paso por trocha fronteriza",
                      "Control migratorio en aeropuerto"), 0.4, high=600),
    ),
    "illegal_mining_ha": (
        Tier(1.0, 180, 1.3, 1, "mining", ((UNIMIL, 0.5), (EJERCITO, 0.35), (FISCALIA, 0.15)),
             "estimate", ("Destrucción de maquinaria amarilla", "Dragas en el río",
                          "Detección por imágenes satelitales"), 0.35),
    ),
    "thb_victims_identified_count": (
        Tier(1.0, 1, 0.0, 1, "urban", ((FISCALIA, 0.45), (MININTERIOR_TRATA, 0.25),
                                       (MIGRACION, 0.15), (DIJIN, 0.15)),
             "case", ("Explotación sexual", "Trabajos forzados", "Mendicidad ajena",
                      "Víctima menor de edad", "Víctima extranjera"), 0.5),
    ),
}
# fmt: on


@dataclass(frozen=True)
class EventRow:
    """One event of a register, before the country's style renders it."""

    date: dt.date
    admin1: str
    event_type: str  # catalogue code
    item: str  # catalogue code
    units: int  # the quantity in units of 10**-decimals of the item's unit
    decimals: int
    unit: str
    source: str
    reliability: str
    credibility: str
    notes: str = ""

    @property
    def quantity(self) -> float:
        return float(self.units / 10**self.decimals)

    @property
    def key(self) -> tuple[object, ...]:
        """The columns ``duplicate_event`` compares (the country is the file's)."""
        return (
            self.date,
            self.admin1,
            self.event_type,
            self.item,
            self.units,
            self.unit,
            self.source,
            self.notes,
        )


@dataclass(frozen=True)
class EventRegister:
    """One event-record file to write."""

    cycle: CycleSpec
    iso3: str
    filename: str
    style: Style
    events: tuple[EventRow, ...]
    # indicator -> (reported, aggregated, disagrees): register_gaps against the indicator file
    gaps: Mapping[str, tuple[float, float, bool]]


def _register_total(units: int, seed: int, cid: str, iso3: str, code: str) -> int:
    """The register's total of an indicator, from the reported value (both in units)."""
    shortfall = REGISTER_SHORTFALL.get((cid, iso3, code))
    if shortfall is not None:
        return round(units * (1.0 - shortfall))
    low, high = REGISTER_GAP_BY_INDICATOR.get(code, REGISTER_GAP)
    gap = float(_rng(seed, "register gap", cid, iso3, code).uniform(low, high))
    return round(units * (1.0 + gap))


def _split_total(
    total: int, n: int, sigma: float, low: int, high: int, rng: np.random.Generator
) -> list[int]:
    """``n`` lognormal-sized parts in [low, high] that add up exactly to ``total``."""
    if n < 1 or n * low > total or n * high < total:
        raise ValueError(f"cannot split {total} into {n} parts in [{low}, {high}]")
    weights = rng.lognormal(0.0, sigma, n) if sigma > 0 else np.ones(n)
    free, cap = total - n * low, high - low
    for _ in range(200):  # shrink the sizes above the cap by a random factor, not to the cap
        raw = free * weights / weights.sum()
        over = raw > cap
        if not over.any():
            break
        weights[over] *= rng.uniform(0.2, 0.8, int(over.sum()))
    else:
        raise ValueError(f"cannot split {total} into {n} parts below {high}")
    parts = [math.floor(float(r)) for r in raw]
    order = sorted(range(n), key=lambda i: (parts[i] - float(raw[i]), i))
    for i in order[: free - sum(parts)]:
        parts[i] += 1
    out = [low + p for p in parts]
    if sum(out) != total or max(out) > high:
        raise ValueError(f"split of {total} into {n} parts failed")
    return out


def _choose(rng: np.random.Generator, weights: Mapping[str, float], n: int) -> list[str]:
    names = list(weights)
    p = np.array([weights[k] for k in names], dtype=float)
    return [names[i] for i in rng.choice(len(names), size=n, p=p / p.sum())]


def _tier_events(
    tier: Tier,
    sizes: Sequence[int],
    year: int,
    event_type: str,
    item: EventItem,
    rng: np.random.Generator,
) -> list[EventRow]:
    """The tier's events: one per size, with a date, a place, a source, grades, a note."""
    n = len(sizes)
    days = (dt.date(year + 1, 1, 1) - dt.date(year, 1, 1)).days
    offsets = rng.integers(0, days, size=n)
    places = _choose(rng, PLACES[tier.places], n)
    sources = _choose(rng, dict(tier.sources), n)
    mix = GRADE_MIX[tier.grades]
    grades = _choose(rng, {f"{r}{c}": w for r, c, w in mix}, n)
    noted = rng.uniform(size=n) < tier.note_share
    note_ix = rng.integers(0, max(len(tier.notes), 1), size=n)
    decimals = DECIMALS[item.unit]
    dates = [dt.date(year, 1, 1) + dt.timedelta(days=int(d)) for d in offsets]
    if tier.weekly:
        dates = [min(d + dt.timedelta(days=6 - d.weekday()), dt.date(year, 12, 31)) for d in dates]
    return [
        EventRow(
            date=dates[i],
            admin1=places[i],
            event_type=event_type,
            item=item.code,
            units=int(sizes[i]),
            decimals=decimals,
            unit=item.unit,
            source=sources[i],
            reliability=grades[i][0],
            credibility=grades[i][1],
            notes=tier.notes[int(note_ix[i])] if tier.notes and noted[i] else "",
        )
        for i in range(n)
    ]


def _register_events(
    rule: Rule,
    reported_units: int,
    catalogue: Catalogue,
    cycle: CycleSpec,
    iso3: str,
    seed: int,
) -> list[EventRow]:
    """Every event behind one indicator's register total."""
    code = rule.indicator
    if len(rule.items) != 1:
        raise ValueError(f"{code}: the demo register writes rules with one item")
    item = catalogue.event_types[rule.event_type].items[rule.items[0]]
    scale = 10 ** DECIMALS[item.unit]
    total = _register_total(reported_units, seed, cycle.cycle_id, iso3, code)
    tiers = REGISTER_PLAN[code]
    events: list[EventRow] = []
    left = total
    for t, tier in enumerate(tiers):
        rng = _rng(seed, "register", cycle.cycle_id, iso3, code, str(t))
        part = left if t == len(tiers) - 1 else round(total * tier.share)
        left -= part
        low = round(tier.low * scale)
        high = round((tier.high or item.plausible[1]) * scale)
        if rule.measure == "count_events":  # one row per counted event; sizes free
            mu = math.log(tier.mean) - tier.sigma**2 / 2
            drawn = rng.lognormal(mu, tier.sigma, part) if tier.sigma > 0 else np.ones(part)
            sizes = [min(max(low, round(float(d) * scale)), high) for d in drawn]
        else:
            n = part // low if tier.sigma == 0 else max(1, round(part / (tier.mean * scale)))
            sizes = _split_total(part, n, tier.sigma, low, high, rng)
        events += _tier_events(tier, sizes, cycle.period_year, rule.event_type, item, rng)
    return events


def _unique_measured(events: list[EventRow], catalogue: Catalogue) -> list[EventRow]:
    """Move a measured event (kg, ha, m3) identical to an earlier one to the next day, so
    that ``duplicate_event`` has nothing to flag; counted events repeat legitimately."""
    seen: set[tuple[object, ...]] = set()
    out: list[EventRow] = []
    year = events[0].date.year if events else 0
    for ev in events:
        if catalogue.event_item_by_code[ev.item].unit != "count":
            while ev.key in seen:
                day = ev.date + dt.timedelta(days=1)
                ev = replace(ev, date=day if day.year == year else dt.date(year, 1, 1))
            seen.add(ev.key)
        out.append(ev)
    return out


def register_gaps(
    events: Iterable[EventRow], rows: Iterable[Row], rules: Rules
) -> dict[str, tuple[float, float, bool]]:
    """indicator -> (reported, aggregated, disagrees), as core_threat__reconciliation has it."""
    reported = {r.indicator: r.value for r in rows if r.value is not None and r.period.isdigit()}
    out: dict[str, tuple[float, float, bool]] = {}
    events = list(events)
    for rule in rules.rules:
        if rule.indicator not in reported:
            continue
        mine = [e for e in events if e.event_type == rule.event_type and e.item in rule.items]
        if not mine:
            continue
        count = rule.measure == "count_events"
        aggregated = (
            float(len(mine)) if count else sum(e.units for e in mine) / 10 ** (mine[0].decimals)
        )
        value = float(reported[rule.indicator] or 0.0)
        allowed = rules.tolerance_of(rule).allowed_difference(value)
        out[rule.indicator] = (value, aggregated, abs(aggregated - value) > allowed)
    return out


def build_event_register(
    sub: Submission, filename: str, catalogue: Catalogue, seed: int
) -> EventRegister:
    """The country's event register for the cycle, consistent with its indicator file.

    For each aggregation rule whose indicator the file reports, the events add up to the
    reported value within the rule's tolerance; REGISTER_SHORTFALL lists the deliberate
    exception. Raises ValueError if the register would say otherwise.
    """
    rules = load_rules()
    reported = {r.indicator: r for r in sub.rows if r.units is not None and r.period.isdigit()}
    events: list[EventRow] = []
    for rule in rules.rules:
        row = reported.get(rule.indicator)
        if row is None or rule.indicator not in REGISTER_PLAN:
            continue
        item_unit = catalogue.event_types[rule.event_type].items[rule.items[0]].unit
        if row.unit != item_unit and rule.measure == "sum_quantity":
            raise ValueError(f"{sub.iso3} {rule.indicator}: reported in {row.unit}")
        units = round((row.units or 0) * 10 ** (DECIMALS[item_unit] - row.decimals))
        events += _register_events(rule, units, catalogue, sub.cycle, sub.iso3, seed)
    events = _unique_measured(events, catalogue)
    type_order = list(catalogue.event_types)
    events.sort(key=lambda e: (e.date, type_order.index(e.event_type)))  # stable sort
    gaps = register_gaps(events, sub.rows, rules)
    register = EventRegister(sub.cycle, sub.iso3, filename, sub.style, tuple(events), gaps)
    _check_register(register, catalogue)
    return register


def _check_register(register: EventRegister, catalogue: Catalogue) -> None:
    """The register must hold what README.md says: raise ValueError otherwise."""
    cid, iso3 = register.cycle.cycle_id, register.iso3
    missing = set(catalogue.event_types) - {e.event_type for e in register.events}
    if missing:
        raise ValueError(f"{iso3} {cid} register: no events of type {sorted(missing)}")
    for ev in register.events:
        low, high = catalogue.event_item_by_code[ev.item].plausible
        if not low <= ev.quantity <= high:
            raise ValueError(f"{iso3} {cid} register: {ev} outside [{low}, {high}]")
    expected = {code for (c, i, code) in REGISTER_SHORTFALL if (c, i) == (cid, iso3)}
    disagree = {code for code, (_, _, bad) in register.gaps.items() if bad}
    if disagree != expected:
        raise ValueError(
            f"{iso3} {cid} register disagrees on {sorted(disagree)}, "
            f"expected {sorted(expected)}: {register.gaps}"
        )


def build_event_registers(
    subs: Sequence[Submission], catalogue: Catalogue, seed: int
) -> list[EventRegister]:
    """Every event register of every cycle (EVENT_REGISTERS), beside its indicator file."""
    out = []
    for (cid, iso3), pattern in EVENT_REGISTERS.items():
        sub = next(s for s in subs if s.cycle.cycle_id == cid and s.iso3 == iso3)
        name = _file_name(pattern, sub.cycle.period_year)
        out.append(build_event_register(sub, name, catalogue, seed))
    return out


# ----------------------------------------------------------------------------------------
# Assembling the cycles
# ----------------------------------------------------------------------------------------
def _file_name(pattern: str, year: int) -> str:
    return pattern.replace("{year}", str(year))


def build_submissions(catalogue: Catalogue, anchors: Anchors, seed: int) -> list[Submission]:
    """Every file of every cycle, mistakes included."""
    values = annual_values(catalogue, anchors, seed)
    rows_by: dict[tuple[str, str], list[Row]] = {}
    for cycle in CYCLES:
        for iso3 in EXPECTED_COUNTRIES:
            rows_by[(cycle.cycle_id, iso3)] = build_rows(
                iso3, cycle, catalogue, values[cycle.cycle_id][iso3], seed
            )
    subs: list[Submission] = []
    for cycle in CYCLES:
        cid = cycle.cycle_id
        for iso3 in EXPECTED_COUNTRIES:
            if iso3 in NOT_SUBMITTING.get(cid, frozenset()):
                continue
            style = STYLES[iso3]
            name = _file_name(style.filename, cycle.period_year)
            rows = rows_by[(cid, iso3)]
            if cid == "2025":
                if iso3 == "HND":
                    rows = honduras_rejected(rows)
                elif iso3 == "PER":
                    rows = peru_warnings(rows)
                elif iso3 == "DOM":
                    rows = dominican_typo(rows)
                elif iso3 == "PRY":
                    first = paraguay_first_attempt(rows, rows_by[("2024", iso3)])
                    subs.append(Submission(cycle, iso3, name, style, tuple(first)))
                    name = name.replace(".csv", "_v2.csv")
                    rows = paraguay_resubmission(rows)
            subs.append(Submission(cycle, iso3, name, style, tuple(rows)))
    return subs


# ----------------------------------------------------------------------------------------
# Rendering
# ----------------------------------------------------------------------------------------
def format_number(units: int, decimals: int, style: Style, *, is_score: bool = False) -> str:
    """A number as the steward's locale writes it ("1.234,5" or "1234.5")."""
    value = units / 10**decimals
    shown = 0 if is_score and units % 10**decimals == 0 else decimals
    text = f"{value:,.{shown}f}" if style.thousands else f"{value:.{shown}f}"
    if style.decimal == ",":
        text = text.translate(str.maketrans(",.", ".,"))
    return text


def _period_cell(row: Row, style: Style) -> CellValue:
    """A quarter as the language writes it; in a workbook the year is a number cell."""
    if "-Q" in row.period:
        year, quarter = row.period.split("-Q")
        return f"{year}-{QUARTER_LETTER[style.lang]}{quarter}"
    return int(row.period) if style.fmt == "xlsx" else row.period


def _number(row: Row) -> int | float:
    if row.units is None:
        raise ValueError("no number")
    return row.units if row.decimals == 0 else round(row.units / 10**row.decimals, row.decimals)


def row_cells(row: Row, style: Style, country: str, *, typed: bool) -> list[CellValue]:
    """The ten cells of a row, as text (CSV) or typed (XLSX/JSON)."""
    value: CellValue
    if row.text is not None:
        value = row.text
    elif typed:
        value = _number(row)
    else:
        assert row.units is not None
        value = format_number(row.units, row.decimals, style, is_score=row.is_score)
    credibility: CellValue = (
        int(row.credibility) if typed and row.credibility.isdigit() else row.credibility
    )
    trend: CellValue = TREND_WORDS[style.trend_lang][row.trend] if row.trend else ""
    cells: list[CellValue] = [
        country,
        _period_cell(row, style),
        row.indicator,
        value,
        row.unit,
        row.source,
        row.reliability,
        credibility,
        trend,
        row.notes,
    ]
    if row.shifted:  # the paste landed one column to the right; the last cell fell off
        cells = [*cells[:3], "", *cells[3:-1]]
    if typed:
        cells = [None if c == "" else c for c in cells]
    return cells


def render_csv(sub: Submission) -> bytes:
    style = sub.style
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=style.delimiter, lineterminator=style.line_end)
    writer.writerow(HEADERS[style.lang])
    for row in sub.rows:
        writer.writerow(["" if c is None else c for c in row_cells(row, style,
                                                                    style.country_cell,
                                                                    typed=False)])  # fmt: skip
    return buffer.getvalue().encode(style.encoding)


def render_events_csv(reg: EventRegister, catalogue: Catalogue) -> bytes:
    """An event register as the country's export writes it: the contract's headers in the
    steward's language, names of event types and items in that language, day-first dates."""
    style = reg.style
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=style.delimiter, lineterminator=style.line_end)
    writer.writerow(column_headers(style.lang, "events").values())
    for ev in reg.events:
        etype = catalogue.event_types[ev.event_type]
        writer.writerow(
            [
                style.country_cell,
                f"{ev.date.day:02d}/{ev.date.month:02d}/{ev.date.year}",
                ev.admin1,
                etype.name.get(style.lang),
                etype.items[ev.item].name.get(style.lang),
                format_number(ev.units, ev.decimals, style),
                ev.unit,
                ev.source,
                ev.reliability,
                ev.credibility,
                ev.notes,
            ]
        )
    return buffer.getvalue().encode(style.encoding)


def render_json(sub: Submission) -> bytes:
    keys = HEADERS["en"][1:]  # the country is given once, at the top
    rows = []
    for row in sub.rows:
        cells = row_cells(row, sub.style, sub.style.country_cell, typed=True)[1:]
        rows.append(dict(zip(keys, cells, strict=True)))
    doc = {"country": sub.style.country_cell, "cycle": sub.cycle.cycle_id, "rows": rows}
    return (json.dumps(doc, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


NUMBER_FORMATS: dict[int, str] = {0: "#,##0", 1: "#,##0.0", 2: "#,##0.00"}
COLUMN_WIDTHS: tuple[int, ...] = (14, 10, 36, 14, 12, 48, 12, 12, 11, 50)
ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)


def render_xlsx(sub: Submission) -> bytes:
    """An XLSX as a ministry would send it: title rows, header, typed cells, notes sheet."""
    style, year = sub.style, sub.cycle.period_year
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = style.sheet
    ncols = len(HEADERS[style.lang])
    fill = {"year": str(year), "next": str(year + 1)}
    title = style.title.format(**fill)
    subtitle = style.subtitle.format(**fill)
    ws.cell(row=1, column=1, value=title).font = Font(bold=True, size=13)
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=ncols)
    ws.cell(row=2, column=1, value=subtitle).font = Font(italic=True)
    ws.merge_cells(start_row=2, start_column=1, end_row=2, end_column=ncols)
    header_row = 4
    for col, name in enumerate(HEADERS[style.lang], start=1):
        ws.cell(row=header_row, column=col, value=name).font = Font(bold=True)
    for r, row in enumerate(sub.rows, start=header_row + 1):
        for col, value in enumerate(row_cells(row, style, style.country_cell, typed=True), 1):
            cell = ws.cell(row=r, column=col, value=value)
            if col == 4 and isinstance(value, int | float):
                cell.number_format = NUMBER_FORMATS[row.decimals]
    for col, width in enumerate(COLUMN_WIDTHS, start=1):
        ws.column_dimensions[get_column_letter(col)].width = width
    ws.freeze_panes = f"A{header_row + 1}"
    if style.extra_sheet:
        notes = wb.create_sheet(style.extra_sheet)
        for r, line in enumerate(style.extra_lines, start=1):
            notes.cell(row=r, column=1, value=line).font = Font(bold=r == 1)
            notes.cell(row=r, column=1).alignment = Alignment(wrap_text=False)
        notes.column_dimensions["A"].width = 90
    stamp = sub.cycle.saved_at
    wb.properties.creator = style.country_cell
    wb.properties.lastModifiedBy = style.country_cell
    wb.properties.created = stamp
    wb.properties.modified = stamp
    return _deterministic_zip(wb)


def _deterministic_zip(wb: openpyxl.Workbook) -> bytes:
    """Save without openpyxl's 'modified = now', then re-pack with fixed zip timestamps."""
    raw = io.BytesIO()
    with zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED) as archive:
        ExcelWriter(wb, archive).save()
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(raw.getvalue())) as src,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst,
    ):
        for info in src.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=ZIP_EPOCH)
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = info.external_attr
            dst.writestr(fixed, src.read(info.filename))
    return out.getvalue()


def render(sub: Submission) -> bytes:
    if sub.style.fmt == "csv":
        return render_csv(sub)
    if sub.style.fmt == "json":
        return render_json(sub)
    return render_xlsx(sub)


def render_cycles_yaml(submitting: Sequence[CycleSpec]) -> str:
    lines = ["# Demo assessment cycles (written by data/demo/generate.py).", "cycles:"]
    for cycle in submitting:
        lines += [
            f'  - cycle_id: "{cycle.cycle_id}"',
            f"    period_year: {cycle.period_year}",
            f"    deadline: {cycle.deadline.isoformat()}",
            f"    expected_countries: [{', '.join(EXPECTED_COUNTRIES)}]",
        ]
    return "\n".join(lines) + "\n"


# ----------------------------------------------------------------------------------------
# Entry point
# ----------------------------------------------------------------------------------------
def _clear(folder: Path) -> None:
    """Remove the files a previous run wrote into a cycle folder (the folder is generated)."""
    if folder.is_dir():
        for path in folder.iterdir():
            if path.is_file() and path.suffix in (".csv", ".xlsx", ".json"):
                path.unlink()


def headline(subs: Iterable[Submission]) -> dict[tuple[str, str], float]:
    """(cycle, iso3) -> cocaine seized in kg as written in the files (for the log)."""
    out: dict[tuple[str, str], float] = {}
    for sub in subs:
        for row in sub.rows:
            if row.indicator == "cocaine_seized_kg" and row.value is not None:
                factor = 1000.0 if row.unit == "t" else 1.0
                key = (sub.cycle.cycle_id, sub.iso3)
                out[key] = out.get(key, 0.0) + row.value * factor
    return out


def main(out_dir: Path = HERE, seed: int = DEFAULT_SEED) -> list[Path]:
    """Write cycles.yaml and every cycle's submissions under ``out_dir``; returns the files."""
    catalogue = load_catalogue()
    anchors = read_anchors()
    subs = build_submissions(catalogue, anchors, seed)
    registers = build_event_registers(subs, catalogue, seed)
    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    cycles_path = out_dir / "cycles.yaml"
    cycles_path.write_text(render_cycles_yaml(CYCLES), encoding="utf-8")
    written.append(cycles_path)
    for cycle in CYCLES:
        folder = out_dir / cycle.cycle_id
        folder.mkdir(exist_ok=True)
        _clear(folder)
    for sub in subs:
        path = out_dir / sub.cycle.cycle_id / sub.filename
        path.write_bytes(render(sub))
        written.append(path)
        log.debug("wrote %s (%s, %d rows)", path, sub.iso3, len(sub.rows))
    for reg in registers:
        path = out_dir / reg.cycle.cycle_id / reg.filename
        data = render_events_csv(reg, catalogue)
        path.write_bytes(data)
        written.append(path)
        log.info(
            "%s: %d events (%d kB); %s",
            path.name, len(reg.events), len(data) // 1024,
            ", ".join(
                f"{code} {agg / rep - 1:+.1%}{' (disagrees)' if bad else ''}"
                for code, (rep, agg, bad) in reg.gaps.items()
            ),
        )  # fmt: skip
    for cycle in CYCLES:
        n = sum(1 for s in subs if s.cycle == cycle)
        n += sum(1 for r in registers if r.cycle == cycle)
        log.info("cycle %s: %d files in %s", cycle.cycle_id, n, out_dir / cycle.cycle_id)
    seized = headline(subs)
    for iso3 in ("COL", "ECU", "PAN", "BRA"):
        log.info(
            "cocaine seized %s: 2024 %s kg, 2025 %s kg",
            iso3, f"{seized[('2024', iso3)]:,.0f}", f"{seized[('2025', iso3)]:,.0f}",
        )  # fmt: skip
    return written


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE, help="output folder")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    args = parser.parse_args()
    main(args.out, args.seed)
