"""The ideal command: exit codes, JSON output and clear messages instead of tracebacks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ideal.cli import app
from ideal.config import DEMO_DIR

runner = CliRunner()


def invoke(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.output


def test_validate_accepts_a_clean_demo_file_with_json_output() -> None:
    code, out = invoke(
        "validate", str(DEMO_DIR / "2025" / "COL_ideal_2025.csv"), "--cycle", "2025", "--json"
    )
    doc = json.loads(out)
    assert code == 0
    assert doc["status"] == "accepted" and doc["country"] == "COL"
    assert set(doc) == {"file", "sha256", "kind", "country", "status", "rows", "issues"}


def test_validate_rejects_with_row_column_and_spanish_message() -> None:
    code, out = invoke(
        "validate",
        str(DEMO_DIR / "2025" / "HND_ideal_2025.csv"),
        "--cycle",
        "2025",
        "--json",
        "--lang",
        "es",
    )
    doc = json.loads(out)
    assert code == 1 and doc["status"] == "rejected"
    errors = [i for i in doc["issues"] if i["severity"] == "error"]
    assert all(i["row"] and i["column"] and i["message"] and i["hint"] for i in errors)
    assert any("no es un código de indicador" in i["message"] for i in errors)


def test_validate_unreadable_file_exits_2(tmp_path: Path) -> None:
    junk = tmp_path / "x.xlsx"
    junk.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100)
    code, out = invoke("validate", str(junk), "--json", "--lang", "pt")
    assert code == 2
    assert "senha" in json.loads(out)["issues"][0]["message"]


def test_validate_missing_file_is_a_message(tmp_path: Path) -> None:
    code, out = invoke("validate", str(tmp_path / "nope.csv"))
    assert code == 2 and "no such file" in out


@pytest.mark.parametrize(
    "args",
    [
        ("run", "--cycle", "1999"),
        ("cycle", "status", "1999"),
        (
            "cycle",
            "open",
            "2026",
            "--year",
            "2026",
            "--deadline",
            "31/03/2027",
            "--countries",
            "COL",
        ),
        (
            "cycle",
            "open",
            "2026",
            "--year",
            "2026",
            "--deadline",
            "2027-03-31",
            "--countries",
            "COL,XXX",
        ),
    ],
)
def test_user_mistakes_get_a_message_and_exit_2(tmp_path: Path, args: tuple[str, ...]) -> None:
    code, out = invoke(*args, "--home", str(tmp_path / "home"))
    assert code == 2
    assert "error:" in out


def test_cycle_open_then_status_lists_missing_countries(tmp_path: Path) -> None:
    home = str(tmp_path / "home")
    code, _ = invoke(
        "cycle",
        "open",
        "2026",
        "--year",
        "2026",
        "--deadline",
        "2027-03-31",
        "--countries",
        "col,bra",
        "--home",
        home,
    )
    assert code == 0
    code, out = invoke("cycle", "status", "2026", "--home", home)
    assert code == 0 and out.count("missing") == 2


# -- the steward's commands: template and validate -------------------------------------------
@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("--country", "XXX", "--cycle", "2026"), "not a country"),
        (("--country", "Narnia", "--cycle", "2026", "--format", "csv"), "not a country"),
        (("--country", "COL", "--cycle", "2026", "--format", "pdf"), "unknown format"),
        (("--country", "COL", "--cycle", "2026", "--lang", "fr"), "unknown language"),
        (("--country", "COL", "--cycle", "next"), "does not start with a year"),
        (("--country", "COL", "--cycle", "2026", "--out", "t.csv", "--format", "xlsx"), ".csv"),
    ],
)
def test_template_mistakes_get_one_line_and_exit_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: tuple[str, ...], needle: str
) -> None:
    monkeypatch.chdir(tmp_path)
    code, out = invoke("template", *args)
    assert code == 2
    lines = out.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and needle in lines[0]
    assert list(tmp_path.iterdir()) == []


def test_template_writes_each_format_and_keeps_an_existing_file(tmp_path: Path) -> None:
    for fmt in ("xlsx", "csv", "json"):
        code, out = invoke(
            "template",
            "--country",
            "co",
            "--cycle",
            "2026",
            "--format",
            fmt,
            "--out",
            str(tmp_path),
        )
        assert code == 0 and (tmp_path / f"COL_ideal_2026_es.{fmt}").is_file()
        assert "ideal validate COL_ideal_2026_es." in out
    code, out = invoke("template", "--country", "COL", "--cycle", "2026", "--out", str(tmp_path))
    assert code == 2 and "already exists" in out
    code, _ = invoke(
        "template",
        "--country",
        "Brasil",
        "--cycle",
        "2026",
        "--lang",
        "pt",
        "--out",
        str(tmp_path / "new" / "bra.json"),
    )
    assert code == 0 and json.loads((tmp_path / "new" / "bra.json").read_text())["country"] == "BRA"


def test_validate_unknown_language_is_one_line(tmp_path: Path) -> None:
    src = DEMO_DIR / "2025" / "COL_ideal_2025.csv"
    code, out = invoke("validate", str(src), "--lang", "de")
    assert code == 2 and out.strip().splitlines() == [
        "error: unknown language 'de'; use es, pt or en."
    ]
