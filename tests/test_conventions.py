"""Meta-tests that guard the project's conventions."""

from __future__ import annotations

import ast
import doctest
import importlib
import pkgutil
from dataclasses import fields
from pathlib import Path

import pytest

import quartier
import quartier.domain
from quartier.settings import Settings

SRC = Path(quartier.__file__).parent
FORBIDDEN_IN_PURE = ("fastapi", "starlette", "sqlalchemy", "sqlite3", "psycopg")


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("package", ["domain", "analysis"])
def test_pure_layers_import_no_web_or_sql(package: str) -> None:
    for path in (SRC / package).rglob("*.py"):
        bad = _imports(path) & set(FORBIDDEN_IN_PURE)
        assert not bad, f"{path.relative_to(SRC)} imports {bad}"


def test_cli_and_web_never_import_a_concrete_store() -> None:
    for path in [*SRC.glob("cli*.py"), *(SRC / "web").rglob("*.py")]:
        text = path.read_text()
        assert "storage.gpkg" not in text and "storage.postgis" not in text, path


def test_every_setting_is_documented() -> None:
    doc = importlib.import_module("quartier.settings").__doc__ or ""
    for f in fields(Settings):
        assert f"QUARTIER_{f.name.upper()}" in doc, f"setting {f.name} undocumented"


def _modules(pkg: object) -> list[str]:
    return [m.name for m in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + ".")]  # type: ignore[attr-defined]


@pytest.mark.parametrize("name", _modules(quartier))
def test_doctests(name: str) -> None:
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0


def test_modules_stay_small() -> None:
    """STYLE: modules under ~400 lines (a margin for docstrings)."""
    too_long = {
        str(p.relative_to(SRC)): n
        for p in SRC.rglob("*.py")
        if (n := len(p.read_text().splitlines())) > 700
    }
    assert not too_long, too_long
