"""``quartier evaluate``, ``quartier calls`` and ``quartier diagnose
--report`` run as a user would, on a copy of the demo city."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from test_cli import run


@pytest.fixture(scope="module")
def city(demo_gpkg: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("evaluation")
    db = folder / "ville.gpkg"
    shutil.copy(demo_gpkg, db)
    return db


def test_evaluate_before_and_after_a_saved_diagnostic(city: Path) -> None:
    told = run("evaluate", "--db", str(city), cwd=city.parent).stdout
    assert "diagnose --save" in told
    empty = json.loads(
        run("evaluate", "--db", str(city), "--json", cwd=city.parent).stdout
    )
    assert empty["series"]["points"] == []
    saved = json.loads(
        run("diagnose", "--db", str(city), "--json", "--save", cwd=city.parent).stdout
    )
    found = json.loads(
        run(
            "evaluate", "--db", str(city), "--json", "--lang", "en", cwd=city.parent
        ).stdout
    )
    (point,) = found["series"]["points"]
    assert point["version"] == 1 and point["score"] == saved["score"]
    levels = {e["key"]: e["values"][0]["level"] for e in found["series"]["entries"]}
    assert levels == {e["key"]: e["level"] for e in saved["entries"]}
    buildings = next(e for e in found["series"]["entries"] if e["key"] == "batiments")
    assert buildings["title"] == "Buildings"
    # the demo's imports count as edits of their producers
    edits = sum(
        k["features_edited"] for k in found["contributions"]["by_kind"].values()
    )
    assert edits > 600 and found["contributions"]["by_kind"]["unattributed"] == {
        s: 0 for s in found["contributions"]["sources"]
    }


def test_calls_json(city: Path) -> None:
    found = json.loads(
        run("calls", "--db", str(city), "--json", cwd=city.parent).stdout
    )
    calls = found["calls"]
    assert calls and [c["priority"] for c in calls] == sorted(
        (c["priority"] for c in calls), reverse=True
    )
    by_key = {c["key"]: c for c in calls}
    assert by_key["batiments"]["kind"] == "buildings"
    assert by_key["batiments"]["cells_missing"] > 0
    assert "limites_administratives" not in by_key
    assert by_key["alea_inondation"]["report_page"] == "/signalements"
    table = run("calls", "--db", str(city), cwd=city.parent).stdout
    assert "Appels à contributions" in table


def test_diagnose_report_html_and_pdf(city: Path) -> None:
    html = city.parent / "rapport.html"
    run("diagnose", "--db", str(city), "--report", str(html), "-q", cwd=city.parent)
    text = html.read_text(encoding="utf-8")
    assert "Rapport de diagnostic des données" in text and "<svg" in text
    assert "Kisenso" in text and 'data-entry="batiments"' in text
    pdf = city.parent / "report.pdf"
    run(
        "diagnose", "--db", str(city), "--report", str(pdf), "--lang", "en", "-q",
        cwd=city.parent,
    )  # fmt: skip
    assert pdf.read_bytes().startswith(b"%PDF")
    bad = run(
        "diagnose", "--db", str(city), "--report", "rapport.doc", cwd=city.parent,
        check=False,
    )  # fmt: skip
    assert bad.returncode != 0 and "--report" in bad.stderr
