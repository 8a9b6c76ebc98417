"""The real ``quartier`` command, run as a subprocess.

The console script installed next to the interpreter is called exactly as a
user would; its output is checked against the store (opened in-process) and
against GDAL's own ``ogrinfo``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pyogrio
import pypdf
import pytest

from quartier.access import LOCAL
from quartier.storage import open_store

QUARTIER = Path(sys.executable).parent / "quartier"
DATA = Path(__file__).resolve().parents[3] / "shared" / "data"
MARKETS = DATA / "demo" / "kinshasa" / "kinshasa_markets_osm.geojson"
SUMMARY_KEYS = {"slug", "title", "theme", "access", "version", "feature_count"}
VERBS = [
    "init",
    "import",
    "export",
    "datasets",
    "history",
    "restore",
    "migrate",
    "backup",
    "demo",
    "organisations",
    "organisations add",
    "organisations list",
    "serve",
    "users",
    "users add",
    "users grant",
    "users token",
    "users list",
    "analyze",
    "analyze exposure",
    "analyze accessibility",
    "analyze vulnerability",
    "analyze expansion",
    "analyze suitability",
    "analyze densification",
    "analyze profile",
    "forms",
    "forms add",
    "forms list",
    "campaigns",
    "campaigns create",
    "campaigns list",
    "campaigns show",
    "diagnose",
    "agreements",
    "agreements add",
    "agreements list",
    "agreements status",
    "reference",
    "reference list",
    "reference export",
    "reference import",
    "reference reset",
    "reports",
    "reports list",
    "reports show",
    "reports status",
    "reports hide",
    "objectives",
    "objectives add",
    "objectives list",
    "objectives show",
    "objectives status",
    "roadmap",
    "roadmap add",
    "roadmap list",
    "roadmap status",
    "roadmap suggest",
    "access-requests",
    "access-requests list",
    "access-requests ask",
    "access-requests approve",
    "access-requests refuse",
    "organisations capacity add",
    "organisations capacity list",
    "evaluate",
    "calls",
]


def run(*args: str, cwd: Path, check: bool = True) -> subprocess.CompletedProcess:
    if not QUARTIER.exists():
        pytest.fail(
            f"{QUARTIER} is missing: pip install -e . in the venv", pytrace=False
        )
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
    if check and done.returncode != 0:
        pytest.fail(
            f"quartier {' '.join(args)} exited {done.returncode}:\n{done.stderr}",
            pytrace=False,
        )
    return done


def ogrinfo_counts(path: Path) -> dict[str, int]:
    exe = shutil.which("ogrinfo")
    if exe is None:
        pytest.fail("ogrinfo is missing: apt-get install gdal-bin", pytrace=False)
    text = subprocess.run(
        [exe, "-so", "-al", str(path)], capture_output=True, text=True, check=True
    ).stdout
    names = re.findall(r"^Layer name: (.+)$", text, re.M)
    counts = [int(n) for n in re.findall(r"^Feature Count: (\d+)$", text, re.M)]
    assert len(names) == len(counts) > 0, text
    return dict(zip(names, counts, strict=True))


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not DATA.is_dir():
        pytest.fail(f"{DATA} is missing", pytrace=False)
    folder = tmp_path_factory.mktemp("cli_demo")
    db = folder / "kisenso.gpkg"
    done = run("demo", "--db", str(db), "--no-serve", cwd=folder)
    assert "9" in done.stdout and db.exists()
    return db


# ------------------------------------------------------------------- tests
@pytest.mark.gdal
def test_datasets_json_matches_ogrinfo(demo_db: Path) -> None:
    items = json.loads(
        run("datasets", "--db", str(demo_db), "--json", cwd=demo_db.parent).stdout
    )
    assert len(items) == 9
    for item in items:
        assert SUMMARY_KEYS <= set(item), item
        assert item["version"] == 1 and item["access"] == "public"
        assert isinstance(item["feature_count"], int)
    assert {i["slug"]: i["feature_count"] for i in items} == ogrinfo_counts(demo_db)
    with open_store(str(demo_db), create=False) as store:
        assert [d.slug for d in store.list_datasets()] == [i["slug"] for i in items]


def test_history_json(demo_db: Path) -> None:
    (v1,) = json.loads(
        run(
            "history", "batiments", "--db", str(demo_db), "--json", cwd=demo_db.parent
        ).stdout
    )
    assert v1["version"] == 1 and v1["feature_count"] == 608 and v1["added"] == 608
    assert {"created", "message", "source", "fields", "bbox"} <= set(v1)
    assert {"name": "osm_id", "type": "text"} in v1["fields"]


def test_import_export_restore_backup_migrate(tmp_path: Path, pg_url: str) -> None:
    db = tmp_path / "ville.gpkg"
    slug = "kinshasa_markets_osm"
    done = run("import", str(MARKETS), "--db", str(db), "--json", cwd=tmp_path)
    (report,) = json.loads(done.stdout)
    assert report["dataset"] == slug and report["version"] == 1
    assert report["read"] == report["stored"] == 71
    # a retry of the same file is idempotent
    again = run("import", str(MARKETS), "--db", str(db), cwd=tmp_path).stdout
    assert "identique à la version 1" in again
    # the same features in another file (here: one more newline) are version 2
    copy = tmp_path / MARKETS.name
    copy.write_bytes(MARKETS.read_bytes() + b"\n")
    done = run(
        "import", str(copy), "--dataset", slug, "--db", str(db), "--json", cwd=tmp_path
    )
    (report,) = json.loads(done.stdout)
    assert (report["version"], report["unchanged"]) == (2, False)
    assert (report["added"], report["removed"], report["changed"]) == (0, 0, 0)

    history = json.loads(
        run("history", slug, "--db", str(db), "--json", cwd=tmp_path).stdout
    )
    assert [(v["version"], v["feature_count"], v["added"]) for v in history] == [
        (1, 71, 71),
        (2, 71, 0),
    ]
    table = run("history", slug, "--db", str(db), cwd=tmp_path).stdout
    assert "71" in table

    out = tmp_path / "v1.geojson"
    exported = json.loads(
        run(
            "export",
            slug,
            "--version",
            "1",
            "-f",
            "geojson",
            "-o",
            str(out),
            "--db",
            str(db),
            "--json",
            cwd=tmp_path,
        ).stdout
    )
    assert exported == {"dataset": slug, "version": 1, "path": str(out), "features": 71}
    assert pyogrio.read_info(out)["features"] == 71

    restored = json.loads(
        run("restore", slug, "1", "--db", str(db), "--json", cwd=tmp_path).stdout
    )
    assert (restored["version"], restored["restored_from"]) == (3, 1)

    backup = tmp_path / "sauvegarde.gpkg"
    run("backup", "-o", str(backup), "--db", str(db), cwd=tmp_path)
    with open_store(str(backup), create=False) as snap:
        assert [v.version for v in snap.list_versions(slug)] == [1, 2, 3]
        assert sum(b.num_rows for b in snap.read_batches(slug)) == 71

    moved = json.loads(
        run("migrate", "--to", pg_url, "--db", str(db), "--json", cwd=tmp_path).stdout
    )
    assert moved["versions"] == 3
    on_pg = json.loads(run("datasets", "--db", pg_url, "--json", cwd=tmp_path).stdout)
    assert [(d["slug"], d["version"], d["feature_count"]) for d in on_pg] == [
        (slug, 3, 71)
    ]
    with open_store(pg_url) as pg:
        assert [v.restored_from for v in pg.list_versions(slug)] == [None, None, 1]
    assert not (tmp_path / "quartier.gpkg").exists()  # --db was honoured everywhere


@pytest.mark.parametrize(
    "bad",
    [
        DATA / "corpus" / "gdal_autotest" / "unbalanced_double_quotes.csv",
        DATA / "corpus" / "pyogrio" / "curve.gpkg",
        DATA / "corpus" / "nothing_here.geojson",
    ],
    ids=["unbalanced-quotes", "curves", "missing"],
)
def test_bad_file_one_line_on_stderr(tmp_path: Path, bad: Path) -> None:
    db = tmp_path / "ville.gpkg"
    done = run("import", str(bad), "--db", str(db), cwd=tmp_path, check=False)
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1, f"stderr holds {len(lines)} lines: {done.stderr!r}"
    assert lines[0].startswith("quartier: ") and bad.name in lines[0]
    with open_store(str(db)) as store:
        assert store.list_datasets() == []


def test_help_of_every_verb(tmp_path: Path) -> None:
    from quartier.cli import app, orgs_app, users_app
    from quartier.cli_agreements import agreements_app
    from quartier.cli_analyze import analyze_app
    from quartier.cli_campaigns import campaigns_app
    from quartier.cli_ecosystem import access_requests_app, capacity_app
    from quartier.cli_forms import forms_app
    from quartier.cli_programme import objectives_app, roadmap_app
    from quartier.cli_reference import reference_app
    from quartier.cli_reports import reports_app

    names = {c.name or c.callback.__name__ for c in app.registered_commands}
    names |= {g.name for g in app.registered_groups}
    names |= {f"organisations {c.name}" for c in orgs_app.registered_commands}
    names |= {f"users {c.name}" for c in users_app.registered_commands}
    names |= {f"analyze {c.name}" for c in analyze_app.registered_commands}
    names |= {f"forms {c.name}" for c in forms_app.registered_commands}
    names |= {f"campaigns {c.name}" for c in campaigns_app.registered_commands}
    names |= {f"agreements {c.name}" for c in agreements_app.registered_commands}
    names |= {f"reference {c.name}" for c in reference_app.registered_commands}
    names |= {f"reports {c.name}" for c in reports_app.registered_commands}
    names |= {f"objectives {c.name}" for c in objectives_app.registered_commands}
    names |= {f"roadmap {c.name}" for c in roadmap_app.registered_commands}
    names |= {
        f"access-requests {c.name}" for c in access_requests_app.registered_commands
    }
    names |= {
        f"organisations capacity {c.name}" for c in capacity_app.registered_commands
    }
    assert names == set(VERBS)
    if not QUARTIER.exists():
        pytest.fail(f"{QUARTIER} is missing", pytrace=False)
    env = {**os.environ, "COLUMNS": "200"}

    def helps(verb: str) -> tuple[str, int, str, str]:
        done = subprocess.run(
            [str(QUARTIER), *verb.split(), "--help"],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        return verb, done.returncode, done.stdout, done.stderr

    # a few at a time: each start imports the whole stack, and a loaded
    # 2-core machine must not time them out
    with ThreadPoolExecutor(max_workers=4) as pool:
        for verb, code, stdout, stderr in pool.map(helps, [*VERBS, ""]):
            assert code == 0, (verb, stderr)
            assert "Usage: quartier" in stdout, verb
            assert stderr == "", (verb, stderr)
    assert list(tmp_path.iterdir()) == []  # --help creates no store


def test_analyze_exposure_on_the_demo(demo_gpkg: str, tmp_path: Path) -> None:
    db = tmp_path / "ville.gpkg"
    shutil.copy(demo_gpkg, db)
    done = run(
        "analyze", "exposure", "--db", str(db), "--buffer", "30", "--json", cwd=tmp_path
    )
    summary = json.loads(done.stdout)
    assert summary["hazard"] == "erosions"
    assert 0 < summary["buildings_exposed"] < summary["buildings_total"]
    assert summary["people_exposed"] > 0
    listed = json.loads(run("datasets", "--db", str(db), "--json", cwd=tmp_path).stdout)
    assert {"exposition_erosions", "exposition_erosions_synthese"} <= {
        d["slug"] for d in listed
    }
    access = run(
        "analyze",
        "accessibility",
        "--db",
        str(db),
        "--profile",
        "drive",
        "--limit",
        "10",
        "--json",
        cwd=tmp_path,
    )
    reach = json.loads(access.stdout)
    assert reach["profile"] == "drive" and reach["buildings_total"] > 0
    assert "acces_sante" in reach["datasets"]
    index = run(
        "analyze",
        "vulnerability",
        "--db",
        str(db),
        "--weights",
        "exposition=1,densite=1",
        "--json",
        cwd=tmp_path,
    )
    ranked = json.loads(index.stdout)
    assert ranked["weights"] == {"exposition": 0.5, "densite": 0.5}
    assert len(ranked["most_vulnerable"]) == 3
    grown = json.loads(
        run(
            "analyze",
            "expansion",
            "--db",
            str(db),
            "--breaks",
            "2000,2010",
            "--json",
            cwd=tmp_path,
        ).stdout
    )
    assert grown["dated"] > 0 and "expansion_periodes" in grown["datasets"]
    sites = json.loads(
        run(
            "analyze",
            "suitability",
            "--db",
            str(db),
            "--cell",
            "500",
            "--top",
            "3",
            "--grid",
            "hexagon",
            "--json",
            cwd=tmp_path,
        ).stdout
    )
    assert len(sites["top"]) == 3 and "aptitude_sites" in sites["datasets"]
    assert sites["grid"] == "hexagon"
    bad_codes = run(
        "analyze",
        "expansion",
        "--db",
        str(db),
        "--epoch-raster",
        "x.tif",
        "--epoch-codes",
        "six:1975",
        cwd=tmp_path,
        check=False,
    )
    assert bad_codes.returncode != 0 and "--epoch-codes: expected" in bad_codes.stderr
    dense = json.loads(
        run(
            "analyze",
            "densification",
            "--db",
            str(db),
            "--cell",
            "250",
            "--max-far",
            "1.2",
            "--json",
            cwd=tmp_path,
        ).stdout
    )
    assert dense["plots"] == "grid" and dense["extra_floor_m2"] > 0
    assert "densification" in dense["datasets"]
    # profiles: the analyses above appear in them; a PDF that opens, and
    # one offline page per unit
    fiche = tmp_path / "mbuku.pdf"
    run(
        "analyze",
        "profile",
        "--db",
        str(db),
        "--unit",
        "mbuku",
        "-o",
        str(fiche),
        cwd=tmp_path,
    )
    text = " ".join(p.extract_text() for p in pypdf.PdfReader(fiche).pages)
    assert "Mbuku" in text and "Bâtiments exposés" in text
    folder = tmp_path / "fiches"
    listed = json.loads(
        run(
            "analyze",
            "profile",
            "--db",
            str(db),
            "-o",
            str(folder),
            "--lang",
            "en",
            "--json",
            cwd=tmp_path,
        ).stdout
    )
    assert len(listed["units"]) == 17 and len(list(folder.glob("*.html"))) == 17
    assert "Key indicators" in (folder / "mbuku.html").read_text()
    bad = run(
        "analyze",
        "exposure",
        "--db",
        str(db),
        "--hazard",
        "nope",
        cwd=tmp_path,
        check=False,
    )
    assert bad.returncode != 0 and "hazard: no dataset 'nope'" in bad.stderr


def test_forms_add_and_list(demo_gpkg: str, tmp_path: Path) -> None:
    from quartier.forms import EXAMPLE_FORM

    db = tmp_path / "ville.gpkg"
    shutil.copy(demo_gpkg, db)
    added = json.loads(
        run(
            "forms",
            "add",
            str(EXAMPLE_FORM),
            "--organisation",
            "commune_kisenso",
            "--dataset",
            "profils_terrain",
            "--db",
            str(db),
            "--json",
            cwd=tmp_path,
        ).stdout
    )
    assert added["form_id"] == "profil_quartier" and added["new"]
    made = json.loads(run("datasets", "--db", str(db), "--json", cwd=tmp_path).stdout)
    assert {"slug": "profils_terrain", "access": "restricted"}.items() <= next(
        d for d in made if d["slug"] == "profils_terrain"
    ).items()
    assert added["hash"].startswith("md5:")
    listed = json.loads(
        run("forms", "list", "--db", str(db), "--json", cwd=tmp_path).stdout
    )
    assert [(f["form_id"], f["submissions"]) for f in listed] == [
        ("profil_quartier", 0)
    ]
    bad = run(
        "forms",
        "add",
        str(EXAMPLE_FORM),
        "--organisation",
        "nulle_part",
        "--db",
        str(db),
        cwd=tmp_path,
        check=False,
    )
    assert bad.returncode != 0 and "no organisation 'nulle_part'" in bad.stderr


def test_diagnose_json_on_the_demo(demo_gpkg: str, tmp_path: Path) -> None:
    db = tmp_path / "ville.gpkg"
    shutil.copy(demo_gpkg, db)
    found = json.loads(
        run("diagnose", "--db", str(db), "--json", "--save", cwd=tmp_path).stdout
    )
    assert len(found["entries"]) == 25 and 0 < found["score"] < 100
    assert all(0 <= e["level"] <= 4 for e in found["entries"])
    buildings = next(e for e in found["entries"] if e["key"] == "batiments")
    assert buildings["coverage"] > 0 and buildings["completeness"] > 0
    assert found["building_gaps"]["missing"] > 0
    assert "diagnostic_lacunes_batiments" in found["saved"]
    listed = json.loads(run("datasets", "--db", str(db), "--json", cwd=tmp_path).stdout)
    assert {"diagnostic_niveaux", "diagnostic_lacunes_batiments"} <= {
        d["slug"] for d in listed
    }
    bad = tmp_path / "ref.json"
    bad.write_text('{"entries": []}', encoding="utf-8")
    refused = run(
        "diagnose", "--db", str(db), "--reference", str(bad), cwd=tmp_path, check=False
    )
    assert refused.returncode != 0 and "entries" in refused.stderr


def test_the_city_edits_its_reference_list(demo_gpkg: str, tmp_path: Path) -> None:
    db = tmp_path / "ville.gpkg"
    shutil.copy(demo_gpkg, db)

    def q(*args: str, check: bool = True) -> subprocess.CompletedProcess:
        return run(*args, "--db", str(db), cwd=tmp_path, check=check)

    target = tmp_path / "liste.json"
    q("reference", "export", str(target))
    data = json.loads(target.read_text(encoding="utf-8"))
    assert len(data["entries"]) == 25
    data["entries"] = [e for e in data["entries"] if e["key"] == "batiments"]
    data["entries"][0]["frequency_days"] = 7
    target.write_text(json.dumps(data), encoding="utf-8")
    assert json.loads(q("reference", "import", str(target), "--json").stdout) == {
        "entries": 1
    }
    listed = json.loads(q("reference", "list", "--json").stdout)
    assert listed == {"custom": True, "entries": ["batiments"], "count": 1}
    found = json.loads(q("diagnose", "--json").stdout)
    assert [e["key"] for e in found["entries"]] == ["batiments"]
    # a broken file changes nothing
    target.write_text('{"entries": [{"key": "x"}]}', encoding="utf-8")
    refused = q("reference", "import", str(target), check=False)
    assert refused.returncode != 0 and "entry 1" in refused.stderr
    assert json.loads(q("reference", "list", "--json").stdout)["count"] == 1
    q("reference", "reset")
    listed = json.loads(q("reference", "list", "--json").stdout)
    assert listed["custom"] is False and listed["count"] == 25


def test_reports_are_followed_from_the_terminal(demo_gpkg: str, tmp_path: Path) -> None:
    from quartier.services.reports import NewReport, file_report

    db = tmp_path / "ville.gpkg"
    shutil.copy(demo_gpkg, db)
    report_id = "0b7a3f4e-1c2d-4e5f-8a9b-0c1d2e3f4a5b"
    with open_store(str(db), create=False) as store:
        file_report(
            store,
            LOCAL,
            NewReport(report_id, lon=15.33, lat=-4.42, description="Caniveau bouché",
                      category="assainissement", name="Awa", contact="0812345678"),
            [],
        )  # fmt: skip

    def q(*args: str, check: bool = True) -> subprocess.CompletedProcess:
        return run(*args, "--db", str(db), cwd=tmp_path, check=check)

    listed = json.loads(q("reports", "list", "--json").stdout)
    assert [(r["id"], r["status"], r["contact"]) for r in listed] == [
        (report_id, "received", "0812345678")
    ]
    assert (
        json.loads(q("reports", "list", "--status", "resolved", "--json").stdout) == []
    )
    # a rejection needs its reason; nothing changes without it
    refused = q("reports", "status", report_id, "rejected", check=False)
    assert refused.returncode != 0 and "note" in refused.stderr
    q("reports", "status", report_id, "in_progress", "--note", "Équipe envoyée")
    shown = json.loads(q("reports", "show", report_id, "--json").stdout)
    assert shown["status"] == "in_progress"
    assert [e["action"] for e in shown["history"]] == ["created", "status"]
    assert shown["history"][-1]["note"] == "Équipe envoyée"
    q("reports", "hide", report_id, "--note", "Doublon")
    assert json.loads(q("reports", "list", "--json").stdout) == []
    assert len(json.loads(q("reports", "list", "--hidden", "--json").stdout)) == 1
    unknown = q("reports", "show", "nope", check=False)
    assert unknown.returncode != 0 and "no report" in unknown.stderr
