"""``quartier objectives`` and ``quartier roadmap`` on the demo city, run as
a user would (subprocess)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

QUARTIER = Path(sys.executable).parent / "quartier"


def run(*args: str, cwd: Path, ok: bool = True) -> subprocess.CompletedProcess:
    env = {**os.environ, "COLUMNS": "200"}
    env.pop("QUARTIER_DB", None)
    done = subprocess.run(
        [str(QUARTIER), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert (done.returncode == 0) is ok, (args, done.stdout, done.stderr)
    return done


def test_objectives_add_list_show_status(demo_gpkg: str, tmp_path: Path) -> None:
    db = str(tmp_path / "kisenso.gpkg")
    shutil.copy(demo_gpkg, db)
    run(
        "objectives", "add", "connaitre-le-bati", "--db", db,
        "--title", "Connaître le bâti", "--owner", "commune_kisenso",
        "--indicator", '{"label": "Score", "source": "score", "target": 80}',
        "--indicator", "Agents formés",
        "--dataset", "batiments", cwd=tmp_path,
    )  # fmt: skip
    listed = json.loads(run("objectives", "list", "--db", db, "--json",
                            cwd=tmp_path).stdout)  # fmt: skip
    (o,) = listed
    assert o["id"] == "connaitre-le-bati" and o["status"] == "proposed"
    score = o["indicators"][0]
    assert score["computed"] and 0 < score["current"] < 100
    assert o["indicators"][1] == {**o["indicators"][1], "computed": False,
                                  "current": None}  # fmt: skip
    assert o["datasets"][0]["slug"] == "batiments"
    run("objectives", "status", "connaitre-le-bati", "active", "--note", "voté",
        "--db", db, cwd=tmp_path)  # fmt: skip
    shown = json.loads(run("objectives", "show", "connaitre-le-bati", "--db", db,
                           "--json", cwd=tmp_path).stdout)  # fmt: skip
    assert [(e["from"], e["to"], e["actor"]) for e in shown["history"]] == [
        (None, "proposed", "local"),
        ("proposed", "active", "local"),
    ]
    text = run("objectives", "show", "connaitre-le-bati", "--db", db, cwd=tmp_path)
    assert "Connaître le bâti" in text.stdout and "voté" in text.stdout
    # a forbidden move: one line on stderr, non-zero, nothing changed
    bad = run("objectives", "status", "connaitre-le-bati", "proposed", "--db", db,
              cwd=tmp_path, ok=False)  # fmt: skip
    assert "allowed" in bad.stderr and len(bad.stderr.strip().splitlines()) == 1
    bad = run("objectives", "add", "x", "--title", "X", "--owner", "personne",
              "--db", db, cwd=tmp_path, ok=False)  # fmt: skip
    assert "owner" in bad.stderr


def test_roadmap_add_list_status_and_suggest(demo_gpkg: str, tmp_path: Path) -> None:
    db = str(tmp_path / "kisenso.gpkg")
    shutil.copy(demo_gpkg, db)
    shown = json.loads(run("roadmap", "suggest", "--db", db, "--json",
                           cwd=tmp_path).stdout)  # fmt: skip
    suggestions = shown["suggestions"]
    assert shown["added"] == [] and suggestions
    assert all(s["level"] <= 2 for s in suggestions)
    flood = next(s for s in suggestions if s["reference"] == "alea_inondation")
    assert flood["suggested_priority"] == "high"
    run("roadmap", "add", "inondations", "--db", db, "--title", "Zones inondables",
        "--organisation", "commune_kisenso", "--reference", "alea_inondation",
        "--target-date", "2020-01-31", "--priority", "medium",
        cwd=tmp_path)  # fmt: skip
    run("roadmap", "status", "inondations", "in_progress", "--db", db, cwd=tmp_path)
    (item,) = json.loads(run("roadmap", "list", "--db", db, "--json",
                             cwd=tmp_path).stdout)  # fmt: skip
    assert (item["suggested_priority"], item["priority"], item["status"]) == (
        "high", "medium", "in_progress",
    )  # fmt: skip
    assert item["overdue"] is True and item["quarter"] == "2020-T1"
    table = run("roadmap", "list", "--db", db, cwd=tmp_path).stdout
    assert "inondations" in table and "2020-01-31 !" in table
    bad = run("roadmap", "suggest", "--add", "--db", db, cwd=tmp_path, ok=False)
    assert "--organisation" in bad.stderr
    first = json.loads(run("roadmap", "suggest", "--add", "--organisation",
                           "commune_kisenso", "--db", db, "--json",
                           cwd=tmp_path).stdout)  # fmt: skip
    # the flood entry is already on the roadmap: every other one is added
    assert len(first["added"]) == len(suggestions) - 1
    assert "donnee-alea_inondation" not in first["added"]
    again = json.loads(run("roadmap", "suggest", "--add", "--organisation",
                           "commune_kisenso", "--db", db, "--json",
                           cwd=tmp_path).stdout)  # fmt: skip
    assert again["added"] == []
    listed = json.loads(run("roadmap", "list", "--db", db, "--json",
                            cwd=tmp_path).stdout)  # fmt: skip
    assert len(listed) == len(suggestions)
