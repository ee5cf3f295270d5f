"""Print a rendered report to PDF with headless Chromium (Debian's ``chromium``).

What belongs here: finding the browser and running it once per report. The report's own
print CSS decides the layout (A4, page breaks, the classification in every page's margin
boxes); Chromium's default header and footer are switched off so they do not cover it.

The browser is started with the network shut: background services off and every host
name resolving to nothing, because the report needs no network and a printed report
must never leak that it was opened.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import tempfile
from pathlib import Path

logger = logging.getLogger(__name__)

CHROMIUM = "chromium"
# Flags that keep headless Chromium offline and quiet on a server (root, no GPU, no D-Bus).
CHROMIUM_ARGS: tuple[str, ...] = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--no-first-run",
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE localhost",
)
TIMEOUT_S = 180


class ChromiumNotFound(RuntimeError):
    """``chromium`` is not on PATH."""


def find_chromium() -> str | None:
    """The path of the ``chromium`` executable, or None."""
    return shutil.which(CHROMIUM)


def print_pdf(html_path: Path, pdf_path: Path | None = None, *, timeout: float = TIMEOUT_S) -> Path:
    """Print ``html_path`` to ``pdf_path`` (default: same name, ``.pdf``) and return it.

    Raises ChromiumNotFound when there is no browser, RuntimeError when printing fails.
    """
    browser = find_chromium()
    if browser is None:
        raise ChromiumNotFound(
            "--pdf needs Chromium, and `chromium` is not on PATH "
            "(Debian/Ubuntu: `apt-get install chromium`)."
        )
    html_path = html_path.resolve()
    pdf_path = (pdf_path or html_path.with_suffix(".pdf")).resolve()
    pdf_path.unlink(missing_ok=True)
    # A throw-away profile: nothing of the user's browser is read or written.
    with tempfile.TemporaryDirectory(prefix="ideal-chromium-") as profile:
        command = [
            browser,
            *CHROMIUM_ARGS,
            f"--user-data-dir={profile}",
            "--no-pdf-header-footer",
            f"--print-to-pdf={pdf_path}",
            html_path.as_uri(),
        ]
        logger.debug("printing: %s", command)
        try:
            done = subprocess.run(
                command, capture_output=True, text=True, timeout=timeout, check=False
            )
        except subprocess.TimeoutExpired as exc:
            raise RuntimeError(
                f"Chromium did not finish printing {html_path} in {timeout:.0f} s"
            ) from exc
    if not pdf_path.is_file() or pdf_path.stat().st_size == 0:
        tail = (done.stderr or "").strip().splitlines()[-3:]
        raise RuntimeError(
            f"Chromium could not print {html_path} (exit {done.returncode}): {' '.join(tail)}"
        )
    logger.info("printed %s (%d bytes)", pdf_path, pdf_path.stat().st_size)
    return pdf_path
