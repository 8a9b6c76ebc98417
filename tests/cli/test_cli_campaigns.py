"""``quartier campaigns`` on the demo city, run as a user would (subprocess):
a hexagon campaign over one Kisenso quartier of the admin-units dataset."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import shapely

from quartier.access import LOCAL, Principal
from quartier.domain.accounts import Role
from quartier.domain.campaigns import Action
from quartier.services import campaigns as svc
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


def test_create_list_show_on_the_demo(demo_gpkg: str, tmp_path: Path) -> None:
    db = tmp_path / "kisenso.gpkg"
    shutil.copy(demo_gpkg, db)
    done = run(
        "campaigns",
        "create",
        "kabila",
        "--title",
        "Bâtiments de Kabila",
        "--organisation",
        "commune_kisenso",
        "--area-dataset",
        "unites_admin",
        "--where",
        "name=Kabila",
        "--grid",
        "hexagon",
        "--size",
        "100",
        "--status",
        "active",
        "--lock-minutes",
        "30",
        "--db",
        str(db),
        "--json",
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    made = json.loads(done.stdout)
    assert made["grid"] == "hexagon" and made["lock_minutes"] == 30
    n = made["cells"]
    assert 10 < n <= 3000

    with open_store(str(db), create=False) as store:
        c = store.get_campaign("kabila")
        area = svc.area_from_dataset(store, LOCAL, "unites_admin", "name", "Kabila")
        assert store.list_cells("kabila")[0].geometry_wkt.startswith("POLYGON ((15.")
        cells = shapely.from_wkt([x.geometry_wkt for x in store.list_cells("kabila")])
        assert shapely.intersects(cells, area).all()  # every cell touches the quartier
        mapper = Principal("awa", roles={})
        checker = Principal("bena", roles={"commune_kisenso": Role.MODERATOR})
        now = dt.datetime.now(dt.UTC)
        svc.act(store, mapper, "kabila", 1, Action.LOCK, now=now)
        svc.act(store, mapper, "kabila", 1, Action.MAPPED, now=now)
        svc.act(store, checker, "kabila", 1, Action.LOCK, now=now)
        svc.act(store, checker, "kabila", 1, Action.VALIDATE, now=now)
        assert c.organisation == "commune_kisenso"

    listed = json.loads(
        run("campaigns", "list", "--db", str(db), "--json", cwd=tmp_path).stdout
    )
    assert [(r["slug"], r["progress"]["cells"]) for r in listed] == [("kabila", n)]
    shown = run("campaigns", "show", "kabila", "--db", str(db), cwd=tmp_path)
    assert shown.returncode == 0 and "Bâtiments de Kabila" in shown.stdout
    assert "awa" in shown.stdout and "validées" in shown.stdout
    data = json.loads(
        run(
            "campaigns", "show", "kabila", "--db", str(db), "--json", cwd=tmp_path
        ).stdout
    )
    assert data["stats"]["by_state"]["validated"] == 1
    assert {u["user"]: u["mapped"] for u in data["stats"]["users"]} == {
        "awa": 1,
        "bena": 0,
    }

    refused = run(
        "campaigns",
        "create",
        "trop",
        "--title",
        "Trop",
        "--organisation",
        "commune_kisenso",
        "--bbox",
        "15.2,-4.5,15.4,-4.3",
        "--size",
        "50",
        "--db",
        str(db),
        cwd=tmp_path,
    )
    assert refused.returncode == 1
    assert "choose larger cells" in refused.stderr and refused.stdout == ""
    again = run(
        "campaigns",
        "create",
        "kabila",
        "--title",
        "X",
        "--organisation",
        "commune_kisenso",
        "--bbox",
        "15.33,-4.43,15.336,-4.425",
        "--size",
        "250",
        "--db",
        str(db),
        cwd=tmp_path,
    )
    assert again.returncode == 1 and "already exists" in again.stderr
