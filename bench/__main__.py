"""Run the benchmarks: ``make bench`` (``python -m bench [--rows N] [--event-rows N] [--only X]``).

Every figure is reported as a ratio to a baseline measured in the same run, on the same
file: DuckDB's bare ``read_csv`` and a naive per-row pydantic loop. Results are printed
as a markdown table to paste into docs/performance.md.

The event-record benchmark generates a national seizure/incident/victim register (one
million rows by default; ';' with decimal commas, Spanish headers, a few hundred rows
that need pydantic's attention) and measures validation and loading into a fresh
warehouse in a child process, whose peak memory is read with ``RUSAGE_CHILDREN``.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import datetime as dt
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb

from bench import best_of

# Issue 3's targets for the event-record benchmark.
TARGET_RATIO = 3.0
TARGET_PEAK_MB = 1536
INGEST_RUNS = 3


def make_indicator_csv(path: Path, rows: int) -> None:
    """A large Spanish-style submission (';', decimal comma) with realistic cells."""
    from ideal.catalogue import load_catalogue

    codes = [i for i in load_catalogue().indicators if i.kind == "quantitative"]
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, delimiter=";")
        w.writerow(
            [
                "país",
                "periodo",
                "indicador",
                "valor",
                "unidad",
                "fuente",
                "fiabilidad",
                "credibilidad",
                "tendencia",
                "notas",
            ]
        )
        for n in range(rows):
            ind = codes[n % len(codes)]
            w.writerow(
                [
                    "Perú",
                    f"2025-T{n % 4 + 1}",
                    ind.code,
                    f"{(n % 997) * 1.5:.1f}".replace(".", ","),
                    ind.unit,
                    "Policía Nacional",
                    "B",
                    "2",
                    "",
                    "",
                ]
            )


def bench_validation(rows: int, workdir: Path) -> list[tuple[str, float, str]]:
    from ideal.catalogue import load_catalogue
    from ideal.contract import ContractContext, IndicatorRecord
    from ideal.cycles import Cycle
    from ideal.intake import parse_and_validate
    from ideal.readers import read_submission
    from ideal.reference import default_resolver

    path = workdir / "big.csv"
    make_indicator_csv(path, rows)
    data = path.read_bytes()
    cycle = Cycle("2025", 2025, dt.date(2026, 3, 31), ("PER",))
    catalogue, resolver = load_catalogue(), default_resolver()

    def duck() -> None:
        duckdb.sql(f"SELECT count(*) FROM read_csv('{path}', delim=';', header=true)").fetchall()

    def naive() -> None:
        ctx = ContractContext(catalogue, resolver, "2025", 2025, ",")
        sub = read_submission(data)
        for r in sub.rows:
            IndicatorRecord.model_validate(r.cells, context=ctx)

    def ours() -> None:
        parse_and_validate(data, cycle, catalogue, resolver)

    def ours_pydantic() -> None:
        parse_and_validate(data, cycle, catalogue, resolver, engine="pydantic")

    base = best_of(duck)
    t_naive = best_of(naive, 1)
    t_ours = best_of(ours, 1)
    t_pydantic = best_of(ours_pydantic, 1)
    return [
        (f"DuckDB read_csv, {rows:,} rows (baseline)", base, "1.0×"),
        ("naive per-row pydantic loop", t_naive, f"{t_naive / base:.1f}×"),
        ("ideal parse + validate, SQL path (contract + table rules)", t_ours,
         f"{t_ours / base:.1f}×"),
        ("ideal parse + validate, pydantic path", t_pydantic, f"{t_pydantic / base:.1f}×"),
    ]  # fmt: skip


# -- event records --------------------------------------------------------------------------
# First administrative levels of the 17 countries that took part in early IDEAL editions
# (and Venezuela), as a national register would write them.
ADMIN1: dict[str, tuple[str, ...]] = {
    "ARG": ("Buenos Aires", "Córdoba", "Santa Fe", "Mendoza", "Salta", "Misiones", "Jujuy"),
    "BOL": ("La Paz", "Santa Cruz", "Cochabamba", "Beni", "Pando", "Tarija", "Oruro"),
    "BRA": ("São Paulo", "Rio de Janeiro", "Paraná", "Mato Grosso do Sul", "Amazonas", "Pará"),
    "CHL": ("Tarapacá", "Antofagasta", "Arica y Parinacota", "Metropolitana", "Valparaíso"),
    "COL": (
        "Amazonas",
        "Antioquia",
        "Arauca",
        "Atlántico",
        "Bogotá D.C.",
        "Bolívar",
        "Boyacá",
        "Caldas",
        "Caquetá",
        "Casanare",
        "Cauca",
        "Cesar",
        "Chocó",
        "Córdoba",
        "Cundinamarca",
        "Guainía",
        "Guaviare",
        "Huila",
        "La Guajira",
        "Magdalena",
        "Meta",
        "Nariño",
        "Norte de Santander",
        "Putumayo",
        "Quindío",
        "Risaralda",
        "San Andrés y Providencia",
        "Santander",
        "Sucre",
        "Tolima",
        "Valle del Cauca",
        "Vaupés",
        "Vichada",
    ),
    "CRI": ("San José", "Limón", "Puntarenas", "Guanacaste", "Alajuela", "Heredia"),
    "DOM": ("Santo Domingo", "Santiago", "La Altagracia", "Puerto Plata", "San Pedro de Macorís"),
    "ECU": ("Guayas", "Pichincha", "Manabí", "El Oro", "Esmeraldas", "Los Ríos", "Sucumbíos"),
    "GTM": ("Guatemala", "Petén", "Izabal", "Escuintla", "San Marcos", "Huehuetenango"),
    "HND": ("Cortés", "Francisco Morazán", "Atlántida", "Colón", "Gracias a Dios", "Olancho"),
    "MEX": ("Sinaloa", "Jalisco", "Michoacán", "Guerrero", "Tamaulipas", "Baja California"),
    "PAN": ("Panamá", "Colón", "Darién", "Chiriquí", "Bocas del Toro", "Veraguas"),
    "PER": ("Lima", "Callao", "Cusco", "Puno", "Loreto", "Ayacucho", "Tumbes", "Piura"),
    "PRY": ("Asunción", "Alto Paraná", "Amambay", "Canindeyú", "Central", "Concepción"),
    "SLV": ("San Salvador", "La Libertad", "Santa Ana", "San Miguel", "Sonsonate"),
    "URY": ("Montevideo", "Canelones", "Maldonado", "Rivera", "Colonia", "Artigas"),
    "VEN": ("Zulia", "Táchira", "Apure", "Falcón", "Sucre", "Bolívar", "Amazonas"),
}
EVENT_HEADER = (
    "país;fecha;departamento;tipo de evento;elemento;cantidad;unidad;fuente;fiabilidad;"
    "credibilidad;notas"
)
# (event type as written, item as written, weight, quantity range, integer quantity?)
EVENT_MIX: tuple[tuple[str, tuple[str, ...], int, tuple[float, float], bool], ...] = (
    ("incautación", ("cocaína", "cocaine"), 20, (0.05, 3000.0), False),
    ("incautación", ("marihuana", "cannabis"), 15, (0.1, 8000.0), False),
    ("incautación", ("drogas sintéticas",), 3, (0.01, 50.0), False),
    ("incautación", ("precursores químicos",), 2, (1.0, 20000.0), False),
    ("incautación", ("armas de fuego", "firearms"), 8, (1, 30), True),
    ("incautación", ("municiones",), 4, (10, 20000), True),
    ("incautación", ("madera",), 2, (0.5, 300.0), False),
    ("incautación", ("fauna silvestre",), 1, (1, 200), True),
    ("incidente", ("secuestro", "kidnapping"), 10, (1, 4), True),
    ("incidente", ("extorsión",), 12, (1, 3), True),
    ("incidente", ("tráfico de migrantes",), 5, (1, 60), True),
    ("incidente", ("muerte de migrantes",), 1, (1, 5), True),
    ("incidente", ("minería ilegal",), 2, (0.5, 400.0), False),
    ("víctima", ("víctima de trata", "thb_victim"), 15, (1, 1), True),
)
UNITS = {"cocaína": "kg", "cocaine": "kg", "marihuana": "kg", "cannabis": "kg",
         "drogas sintéticas": "kg", "precursores químicos": "kg", "madera": "m3",
         "minería ilegal": "ha"}  # fmt: skip
SOURCES = ("Policía Nacional", "Fiscalía General", "Armada Nacional", "Migración", "Ejército")


def _decimal_comma(x: float, integer: bool) -> str:
    """'1.234,56' (thousands dot, decimal comma) as a Spanish-locale export writes it."""
    text = f"{round(x):,}" if integer else f"{x:,.2f}"
    return text.replace(",", "_").replace(".", ",").replace("_", ".")


def make_event_csv(path: Path, rows: int, country: str = "COL", *, errors: bool = False) -> int:
    """A national event register; returns how many rows need pydantic's attention.

    About 300 rows draw warnings (a quantity in tonnes, a missing source, an implausible
    seizure) or are written oddly but validly (' Colombia ', 'KG', '5/3/2025'). With
    ``errors`` they carry mistakes instead (unknown item, 31/02/2025, a negative
    quantity, grade G, a date in the future), and the file is rejected.
    """
    from ideal.reference import country_name, load_countries

    rng = random.Random(2025)
    iso2 = dict(zip(load_countries()["country_iso3"], load_countries()["iso2"], strict=True))
    name = country_name(country, "es")
    spellings = (name, name, country, iso2[country], name.upper())
    admin1 = ADMIN1[country]
    weights = [m[2] for m in EVENT_MIX]
    odd = set(rng.sample(range(rows), min(rows, 300)))
    with path.open("w", encoding="utf-8", newline="") as fh:
        fh.write(EVENT_HEADER + "\n")
        w = csv.writer(fh, delimiter=";", lineterminator="\n")
        for n in range(rows):
            etype, items, _, (low, high), integer = rng.choices(EVENT_MIX, weights)[0]
            item = items[n % len(items)]
            qty = rng.uniform(low, high) if not integer else rng.randint(int(low), int(high))
            day = dt.date(2025, 1, 1) + dt.timedelta(days=rng.randrange(365))
            date = day.strftime("%d/%m/%Y") if n % 3 else day.isoformat()
            row = [
                spellings[n % len(spellings)],
                date,
                admin1[rng.randrange(len(admin1))],
                etype,
                item,
                _decimal_comma(qty, integer),
                UNITS.get(item, "count"),
                SOURCES[n % len(SOURCES)],
                "ABC"[n % 3],
                str(1 + n % 3),
                "" if n % 20 else f'Operación "{admin1[n % len(admin1)]}"; informe {n}',
            ]
            if n in odd:
                _attention(row, n, errors)
            w.writerow(row)
    return len(odd)


def _attention(row: list[str], n: int, errors: bool) -> None:
    """Make a row that pydantic must look at: a warning, an odd spelling, or an error."""
    if errors:
        k = n % 5
        if k == 0:
            row[4] = "heroína"  # not in the catalogue
        elif k == 1:
            row[1] = "31/02/2025"
        elif k == 2:
            row[5] = "-" + row[5]
        elif k == 3:
            row[8] = "G"
        else:
            row[1] = "2099-01-01"
        return
    k = n % 6
    if k == 0 and row[6] == "kg":
        row[5], row[6] = "0,5", "t"  # converted to 500 kg: a warning
    elif k == 1:
        row[7] = ""  # missing source: a warning
    elif k == 2 and row[6] == "kg":
        row[5] = "980.000,0"  # implausible for one event: a warning
    elif k == 3:
        row[0] = f" {row[0]} "  # valid once stripped
    elif k == 4:
        row[6] = row[6].upper()  # KG: valid once lower-cased
    else:
        d = row[1]
        row[1] = f"{int(d[:2])}/{int(d[3:5])}/{d[6:]}" if "/" in d else d  # 5/3/2025


def _naive_event_loop(path: Path, sample: int) -> float:
    """Seconds for csv.reader + EventRecord.model_validate over the first ``sample`` rows."""
    from ideal.catalogue import load_catalogue
    from ideal.contract import ContractContext, EventRecord, fold, header_lookup
    from ideal.reference import default_resolver

    ctx = ContractContext(
        load_catalogue(), default_resolver(), "2025", 2025, ",", dt.date(2026, 3, 1)
    )
    lookup = header_lookup("events")

    start = time.perf_counter()
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh, delimiter=";")
        names = [lookup[fold(h)] for h in next(reader)]
        for i, cells in enumerate(reader):
            if i == sample:
                break
            with contextlib.suppress(ValueError):  # a row with mistakes: the loop goes on
                EventRecord.model_validate(dict(zip(names, cells, strict=True)), context=ctx)
    return time.perf_counter() - start


def ingest_child(path: Path, home: Path) -> None:
    """Child process: open a cycle in a fresh warehouse and ingest one file; print JSON."""
    from ideal import assessment
    from ideal.config import workspace
    from ideal.cycles import Cycle

    ws = workspace(home, home / "reports").ensure()
    assessment.ensure_cycle(ws, Cycle("2025", 2025, dt.date(2026, 3, 31), ()))
    # Once-per-process costs (imports, the GX context, catalogue caches) are paid by a
    # small register of another country first, as a running worker has paid them.
    warmup_file = home / "warmup.csv"
    make_event_csv(warmup_file, 1_000, "PER")
    start = time.perf_counter()
    assessment.ingest_paths(ws, "2025", [warmup_file])
    warmup = time.perf_counter() - start
    start = time.perf_counter()
    [outcome] = assessment.ingest_paths(ws, "2025", [path])
    seconds = time.perf_counter() - start
    with duckdb.connect(str(ws.warehouse_path), read_only=True) as con:
        row = con.execute(
            "SELECT count(*) FROM core_threat__events WHERE submission_sha256 = ?", [outcome.sha256]
        ).fetchone()
    sys.stdout.write(
        json.dumps(
            {
                "seconds": seconds,
                "warmup": warmup,
                "status": outcome.status,
                "rows": outcome.n_rows,
                "warnings": outcome.n_warnings,
                "events_loaded": row[0] if row else 0,
            }
        )
        + "\n"
    )


def _bare_load(src: str, db: Path) -> None:
    """DuckDB's bare read of the file into a table of a new database file, committed."""
    db.unlink(missing_ok=True)
    with duckdb.connect(str(db)) as con:
        con.execute(f"CREATE TABLE t AS FROM {src}")


def bench_events(rows: int, workdir: Path) -> tuple[list[tuple[str, float, str]], list[str]]:
    """Event register: bare DuckDB read, naive pydantic loop, ideal validate and load."""
    from ideal.catalogue import load_catalogue
    from ideal.cycles import Cycle
    from ideal.intake import parse_and_validate
    from ideal.reference import default_resolver

    path, bad = workdir / "events.csv", workdir / "events_with_errors.csv"
    n_attention = make_event_csv(path, rows)
    make_event_csv(bad, rows, errors=True)
    size_mb = path.stat().st_size / 1e6
    con = duckdb.connect()
    src = f"read_csv('{path}', delim=';', header=true)"
    base_count = best_of(lambda: con.execute(f"SELECT count(*) FROM {src}").fetchall())
    base_table = best_of(lambda: con.execute(f"CREATE OR REPLACE TEMP TABLE t AS FROM {src}"))
    con.close()
    base_file = best_of(lambda: _bare_load(src, workdir / "bare.duckdb"))

    sample = min(rows, 100_000)
    t_naive = _naive_event_loop(path, sample) * rows / sample
    cycle = Cycle("2025", 2025, dt.date(2026, 3, 31), ())
    catalogue, resolver = load_catalogue(), default_resolver()
    today = dt.date(2026, 3, 1)
    data, data_bad = path.read_bytes(), bad.read_bytes()
    results: dict[str, object] = {}

    def validate() -> None:
        results["ok"] = parse_and_validate(data, cycle, catalogue, resolver, today, path=path)

    def validate_bad() -> None:
        results["bad"] = parse_and_validate(data_bad, cycle, catalogue, resolver, today, path=bad)

    t_validate = best_of(validate, 2)
    t_validate_bad = best_of(validate_bad, 1)

    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    runs = []
    for i in range(INGEST_RUNS):  # each into a fresh warehouse, in a fresh process
        home = workdir / f"events-home-{i}"
        child = subprocess.run(
            [sys.executable, "-m", "bench", "--ingest-child", str(path), str(home)],
            check=True,
            capture_output=True,
            text=True,
        )
        runs.append(json.loads(child.stdout.strip().splitlines()[-1]))
        shutil.rmtree(home, ignore_errors=True)
    child_peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    out = min(runs, key=lambda run: float(run["seconds"]))
    t_ingest = float(out["seconds"])
    ingest_times = ", ".join(f"{float(run['seconds']):.2f}" for run in runs)
    ok_raw, ok_result = results["ok"]  # type: ignore[misc]
    _, bad_result = results["bad"]  # type: ignore[misc]

    def r(t: float) -> str:
        return f"{t / base_count:.1f}× / {t / base_table:.1f}× / {t / base_file:.1f}×"

    def verdict(t: float, base: float) -> str:
        return f"{t / base:.1f}× ({'met' if t / base <= TARGET_RATIO else 'NOT met'})"

    table = [
        (f"DuckDB `read_csv` count(*), {rows:,} rows, {size_mb:.0f} MB (baseline 1)", base_count,
         r(base_count)),
        ("DuckDB `read_csv` into an in-memory table (baseline 2)", base_table, r(base_table)),
        ("DuckDB `read_csv` into a table of a new database file (baseline 3)", base_file,
         r(base_file)),
        (f"naive per-row pydantic loop (timed on {sample:,} rows, × {rows / sample:g})",
         t_naive, r(t_naive)),
        (f"ideal validate: SQL path ({ok_result.status}, {ok_result.n_warnings} warnings, "
         f"{n_attention} rows for pydantic)", t_validate, r(t_validate)),
        (f"ideal validate, file with errors ({bad_result.status}, "
         f"{bad_result.n_errors} errors)", t_validate_bad, r(t_validate_bad)),
        (f"ideal ingest: archive + ledger + validate + load ({out['events_loaded']:,} events "
         f"into a fresh warehouse, one transaction; best of {INGEST_RUNS} processes: "
         f"{ingest_times} s)", t_ingest, r(t_ingest)),
    ]  # fmt: skip
    notes = [
        "Ratios are to baseline 1 / baseline 2 / baseline 3. "
        f"Kind detected: {ok_raw.kind}; decimal separator: '{ok_raw.decimal}'.",
        f"Target ≤ {TARGET_RATIO:g}×, validating and loading against DuckDB's bare read "
        f"and load of the same file (baseline 3, both end in a committed database file): "
        f"{verdict(t_ingest, base_file)}. For information, validation alone (nothing "
        f"written) against the bare read into memory: {t_validate / base_table:.1f}×.",
        f"Peak resident memory of the ingest child process: {child_peak_mb:.0f} MB "
        f"(RUSAGE_CHILDREN; before it: {before / 1024:.0f} MB; target < "
        f"{TARGET_PEAK_MB:,} MB: {'met' if child_peak_mb < TARGET_PEAK_MB else 'NOT met'}).",
        f"The naive loop was timed on the first {sample:,} rows and extrapolated linearly.",
        f"The ingest child imports the validation engines before it starts the clock "
        f"(a once-per-process cost: {out['warmup']:.2f} s here).",
    ]
    return table, notes


def bench_cycle(workdir: Path) -> list[tuple[str, float, str]]:
    from ideal import assessment
    from ideal.config import DEMO_DIR, workspace
    from ideal.cycles import load_cycles_file
    from ideal.intake import copy_into_inbox

    ws = workspace(workdir / "home", workdir / "reports").ensure()
    cycles = load_cycles_file(DEMO_DIR / "cycles.yaml")
    timings: dict[str, float] = {"ingest": 0.0, "score": 0.0, "report": 0.0}
    for cycle in cycles:
        assessment.ensure_cycle(ws, cycle)
        copy_into_inbox(ws, cycle.cycle_id, sorted((DEMO_DIR / cycle.cycle_id).iterdir()))
        for step, fn in (
            ("ingest", lambda c=cycle.cycle_id: assessment.ingest_inbox(ws, c)),
            ("score", lambda c=cycle.cycle_id: assessment.score(ws, c)),
            ("report", lambda c=cycle.cycle_id: assessment.render_reports(ws, c)),
        ):
            start = time.perf_counter()
            fn()
            timings[step] += time.perf_counter() - start
    total = sum(timings.values())
    return [
        (f"demo, both cycles: {k}", v, f"{v / total:.0%} of {total:.2f} s")
        for k, v in timings.items()
    ]


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--rows", type=int, default=200_000, help="indicator CSV rows")
    parser.add_argument("--event-rows", type=int, default=1_000_000, help="event CSV rows")
    parser.add_argument(
        "--only", choices=("events", "indicators", "cycle"), help="run one benchmark only"
    )
    parser.add_argument("--ingest-child", nargs=2, metavar=("FILE", "HOME"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.ingest_child:
        ingest_child(Path(args.ingest_child[0]), Path(args.ingest_child[1]))
        return
    workdir = Path(tempfile.mkdtemp(prefix="ideal-bench-"))
    events: list[tuple[str, float, str]] = []
    event_notes: list[str] = []
    results: list[tuple[str, float, str]] = []
    try:
        if args.only in (None, "events"):
            events, event_notes = bench_events(args.event_rows, workdir)
        if args.only in (None, "indicators"):
            results += bench_validation(args.rows, workdir)
        if args.only in (None, "cycle"):
            results += bench_cycle(workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out = sys.stdout
    out.write(
        f"\nideal benchmarks — {dt.datetime.now():%Y-%m-%d %H:%M}, {os.cpu_count()} cores, "
        f"load average {os.getloadavg()[0]:.1f}\n\n"
    )
    if events:
        out.write("Event records:\n\n| measure | seconds | ratio |\n|---|---:|---:|\n")
        for name, seconds, ratio in events:
            out.write(f"| {name} | {seconds:.3f} | {ratio} |\n")
        out.write("\n" + "\n".join(f"- {n}" for n in event_notes) + "\n\n")
    if results:
        out.write(
            "Indicators and the demo cycle:\n\n| measure | seconds | ratio |\n|---|---:|---:|\n"
        )
        for name, seconds, ratio in results:
            out.write(f"| {name} | {seconds:.3f} | {ratio} |\n")
    out.write(f"\nPeak resident memory of the benchmark process: {peak_mb:.0f} MB\n")


if __name__ == "__main__":
    main()
