"""Usage errors are shown by the CLI, not as tracebacks."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

QUARTIER = str(Path(sys.executable).with_name("quartier"))


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([QUARTIER, *args], capture_output=True, text=True)


def test_missing_option_is_a_usage_error() -> None:
    done = _run("export", "batiments")
    assert done.returncode == 2
    assert "Missing option '-o' / '--output'" in done.stderr
    assert "Traceback" not in done.stderr


def test_unknown_command_is_a_usage_error() -> None:
    done = _run("bogus")
    assert done.returncode == 2 and "No such command 'bogus'" in done.stderr


def test_demo_layers_have_one_geometry_type(tmp_path: Path) -> None:
    db = tmp_path / "demo.gpkg"
    assert _run("demo", "--db", str(db), "--no-serve", "-q").returncode == 0
    out = subprocess.run(["ogrinfo", "-so", str(db)], capture_output=True, text=True)
    assert "batiments (Multi Polygon)" in out.stdout
    assert "unites_admin (Multi Polygon)" in out.stdout
