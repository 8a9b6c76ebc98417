"""HTML to PDF with headless Chromium (the browser the tests already use).

Chromium lays out the same standalone page a visitor would open, so the PDF
and the page never drift apart. It is found as ``QUARTIER_CHROMIUM``, else
``chromium``, ``chromium-browser`` or ``google-chrome`` on the PATH; without
it the error says how to install it and that the HTML works without it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from quartier.errors import InvalidInput

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def chromium() -> str | None:
    configured = os.environ.get("QUARTIER_CHROMIUM")
    if configured:
        return configured
    return next((found for c in CANDIDATES if (found := shutil.which(c))), None)


def html_to_pdf(html: str, target: Path, *, timeout: float = 120) -> Path:
    """Print ``html`` (a self-contained page) to ``target`` as a PDF."""
    browser = chromium()
    if browser is None:
        raise InvalidInput(
            "a PDF needs Chromium (apt install chromium, or set QUARTIER_CHROMIUM); "
            "write the profile as HTML instead: -o fiche.html"
        )
    with tempfile.TemporaryDirectory(prefix="quartier-pdf-") as tmp:
        page = Path(tmp) / "fiche.html"
        page.write_text(html, encoding="utf-8")
        out = Path(tmp) / "fiche.pdf"
        command = [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
            f"--user-data-dir={Path(tmp) / 'profile'}",
            "--no-pdf-header-footer",
            f"--print-to-pdf={out}",
            page.as_uri(),
        ]
        try:
            done = subprocess.run(
                command, capture_output=True, text=True, timeout=timeout, check=False
            )
        except subprocess.TimeoutExpired:
            raise InvalidInput(
                f"Chromium took more than {timeout:g} s to print the PDF"
            ) from None
        except OSError as e:  # QUARTIER_CHROMIUM names no program that runs
            raise InvalidInput(
                f"Chromium could not be started ({browser}): {e}"
            ) from None
        if not out.exists() or out.stat().st_size == 0:
            raise InvalidInput(
                f"Chromium did not print the PDF (exit {done.returncode}): "
                + (done.stderr.strip().splitlines() or [""])[-1]
            )
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(out), target)
    return target
