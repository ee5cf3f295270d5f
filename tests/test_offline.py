"""`ideal demo` with no network at all: run under a new, empty network namespace.

Skipped where the machine does not allow ``unshare -n`` (it needs root or user namespaces).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow


def _unshare_works() -> bool:
    if shutil.which("unshare") is None:
        return False
    return subprocess.run(["unshare", "-n", "true"], capture_output=True).returncode == 0


@pytest.mark.skipif(not _unshare_works(), reason="unshare -n is not permitted here")
def test_demo_runs_with_no_network(tmp_path: Path) -> None:
    ideal = Path(sys.executable).with_name("ideal")
    result = subprocess.run(
        [
            "unshare",
            "-n",
            str(ideal),
            "demo",
            "--home",
            str(tmp_path / "home"),
            "--reports",
            str(tmp_path / "reports"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Traceback" not in result.stdout + result.stderr
    for lang in ("es", "pt", "en"):
        report = tmp_path / "reports" / "2025" / f"ideal-2025-{lang}.html"
        text = report.read_text(encoding="utf-8")
        assert "http://" not in text and "https://" not in text
