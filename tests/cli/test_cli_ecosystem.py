"""``quartier organisations capacity …`` and ``quartier access-requests …``,
run as a user would (subprocess), checked against the store."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from quartier.access import LOCAL
from quartier.domain import ActorKind, Organisation
from quartier.services import accounts
from quartier.services.importer import ImportOptions, import_path
from quartier.storage import open_store

QUARTIER = Path(sys.executable).parent / "quartier"


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "COLUMNS": "200"}
    env.pop("QUARTIER_DB", None)
    return subprocess.run(
        [str(QUARTIER), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )


def _city(tmp_path: Path) -> str:
    db = str(tmp_path / "ville.gpkg")
    zones = tmp_path / "zones.geojson"
    zones.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "properties": {"alea": "fort"},
                        "geometry": {"type": "Point", "coordinates": [15.3, -4.4]},
                    }
                ],
            }
        ),
        encoding="utf-8",
    )
    with open_store(db) as store:
        store.ensure_schema()
        store.add_organisation(
            Organisation("ville", "Ville", ActorKind.LOCAL_AUTHORITY)
        )
        store.add_organisation(Organisation("unikin", "UNIKIN", ActorKind.UNIVERSITY))
        import_path(
            store,
            zones,
            ImportOptions(dataset="zones", title="Zones", access="restricted",
                          producer="ville", steward="ville"),
        )  # fmt: skip
        for name, org, role in (("cheffe", "ville", "steward"),
                                ("chercheur", "unikin", "viewer")):  # fmt: skip
            accounts.create_user(store, name, password="un-mot-de-passe", actor=LOCAL)
            accounts.grant_role(store, name, org, role, actor=LOCAL)
    return db


def test_capacities_and_an_access_request_from_the_command_line(tmp_path: Path):
    db = _city(tmp_path)
    for args in (
        ("unikin", "--kind", "capacity", "--label", "Levés par drone"),
        ("unikin", "--kind", "could_produce", "--ref", "batiments"),
        ("ville", "--kind", "on_request", "--ref", "zones"),
    ):
        done = run("organisations", "capacity", "add", *args, "--db", db, cwd=tmp_path)
        assert done.returncode == 0, done.stderr
    bad = run("organisations", "capacity", "add", "unikin", "--kind", "produces",
              "--ref", "inconnu", "--db", db, cwd=tmp_path)  # fmt: skip
    assert bad.returncode == 1 and bad.stderr.startswith("quartier: ref")
    listed = run("organisations", "capacity", "list", "unikin", "--json",
                 "--db", db, cwd=tmp_path)  # fmt: skip
    rows = json.loads(listed.stdout)
    assert [(r["kind"], r["label"]) for r in rows] == [
        ("capacity", "Levés par drone"),
        ("could_produce", "Bâtiments"),
    ]
    asked = run("access-requests", "ask", "zones", "--purpose", "Thèse",
                "--user", "chercheur", "--json", "--db", db, cwd=tmp_path)  # fmt: skip
    assert asked.returncode == 0, asked.stderr
    rid = json.loads(asked.stdout)["id"]
    own = run("access-requests", "approve", str(rid), "--user", "chercheur",
              "--db", db, cwd=tmp_path)  # fmt: skip
    assert own.returncode == 1 and "own request" in own.stderr
    no_reason = run("access-requests", "refuse", str(rid), "--reason", " ",
                    "--db", db, cwd=tmp_path)  # fmt: skip
    assert no_reason.returncode == 1 and "reason" in no_reason.stderr
    ok = run("access-requests", "approve", str(rid), "--user", "cheffe",
             "--db", db, cwd=tmp_path)  # fmt: skip
    assert ok.returncode == 0, ok.stderr
    assert f"demande-{rid}" in ok.stdout
    again = run("access-requests", "approve", str(rid), "--db", db, cwd=tmp_path)
    assert again.returncode == 1 and "already approved" in again.stderr
    mine = run("access-requests", "list", "--user", "chercheur", "--json",
               "--db", db, cwd=tmp_path)  # fmt: skip
    assert [(r["status"], r["agreement"]) for r in json.loads(mine.stdout)] == [
        ("approved", f"demande-{rid}")
    ]
    with open_store(db, create=False) as store:
        assert store.get_agreement(f"demande-{rid}").partners == ("unikin",)
