"""Migrating a whole workspace between stores, and backing one up live.

The demo city (real Kisenso data) is built in a GeoPackage, one dataset gets
a real history (two re-imports of modified files and a restore), then it goes
GeoPackage → PostGIS → GeoPackage. Every version of every dataset must come
out the same: metadata, change counts, dates, attributes and geometries.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pyarrow as pa
import pyogrio
import pytest
import shapely

from quartier.access import LOCAL
from quartier.domain import Dataset, Field, FieldType
from quartier.errors import Conflict
from quartier.services import accounts
from quartier.services.catalogue import export_dataset, restore_version
from quartier.services.demo import build_demo
from quartier.services.importer import ImportOptions, import_path
from quartier.services.migrate import migrate
from quartier.storage import open_store
from quartier.storage.base import SqlStore


@pytest.fixture(scope="module")
def demo_gpkg(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo, with 4 versions of ``erosions`` (built once for the module)."""
    folder = tmp_path_factory.mktemp("demo")
    path = folder / "kisenso.gpkg"
    with open_store(str(path)) as store:
        build_demo(store)
        add_history(store, folder)
        accounts.create_user(store, "awa", password="un-mot-de-passe", actor=LOCAL)
        accounts.grant_role(store, "awa", "commune_kisenso", "steward", actor=LOCAL)
    return path


def add_history(store: SqlStore, folder: Path) -> None:
    """Edit an export as a GIS user would, and import it back twice."""
    v1 = export_dataset(store, "erosions", folder / "erosions_v1.gpkg")
    df = pyogrio.read_dataframe(v1)
    df = df.drop(index=[0, 1, 2, 3, 4])
    df.loc[df.index[:3], "nom"] = "Ravine renommée"
    pyogrio.write_dataframe(df, folder / "erosions_v2.gpkg")
    (r2,) = import_path(
        store,
        folder / "erosions_v2.gpkg",
        ImportOptions(dataset="erosions", message="contrôle terrain"),
    )
    # no key field: 5 removed, 3 changed = 3 removed + 3 added
    assert (r2.version, r2.added, r2.removed, r2.changed) == (2, 3, 8, 0)
    df = df.iloc[2:].copy()
    df["longueur_m"] = df["longueur_m"] * 1.01
    pyogrio.write_dataframe(df, folder / "erosions_v3.gpkg")
    (r3,) = import_path(
        store, folder / "erosions_v3.gpkg", ImportOptions(dataset="erosions")
    )
    # 2 dropped, 50 longer (one length is null and stays as it was)
    assert (r3.version, r3.added, r3.removed) == (3, 50, 52)
    assert restore_version(store, "erosions", 1, author="test").version == 4


# ----------------------------------------------------------------- helpers
def features(store: SqlStore, slug: str, version: int) -> list[tuple]:
    """A version's rows without fid, in a canonical order, geometry apart."""
    out = []
    for batch in store.read_batches(slug, version=version):
        for row in batch.to_pylist():
            row.pop("fid")
            wkb = row.pop("geometry", None)
            geom = None if wkb is None else shapely.from_wkb(wkb)
            key = repr(sorted(row.items())) + (
                "" if geom is None else shapely.normalize(geom).wkb_hex
            )
            out.append((key, row, geom))
    return sorted(out, key=lambda item: item[0])


def _same_bbox(a: dict, b: dict) -> None:
    """After a first version the GeoPackage takes the extent from its R-tree
    (float32, padded): bounding boxes agree to ~1e-6 degree, not exactly."""
    box_a, box_b = a.pop("bbox"), b.pop("bbox")
    assert (box_a is None) == (box_b is None)
    if box_a is not None:
        assert box_a == pytest.approx(box_b, abs=1e-5)


def describe(store: SqlStore) -> dict:
    """Everything a migration must keep, except the features."""
    datasets = {}
    for ds in store.list_datasets():
        meta = {k: v for k, v in vars(ds).items() if k not in ("updated", "created")}
        versions = [dict(vars(v)) for v in store.list_versions(ds.slug)]
        datasets[ds.slug] = (meta, versions)
    ws = store.get_workspace()
    return {
        "workspace": (ws.name, ws.working_crs, ws.boundary_wkt, ws.admin_dataset),
        "organisations": store.list_organisations(),
        "datasets": datasets,
    }


def assert_same_workspace(a: SqlStore, b: SqlStore) -> int:
    """Same catalogue and the same features at every version; returns versions seen."""
    da, db = describe(a), describe(b)
    assert da["workspace"] == db["workspace"]
    assert da["organisations"] == db["organisations"]
    assert list(da["datasets"]) == list(db["datasets"])
    seen = 0
    for slug, (meta, versions) in da["datasets"].items():
        meta_b, versions_b = db["datasets"][slug]
        _same_bbox(meta, meta_b)
        assert meta == meta_b, slug
        for va, vb in zip(versions, versions_b, strict=True):
            _same_bbox(va, vb)
        assert versions == versions_b, slug
        for v in versions:
            fa = features(a, slug, v["version"])
            fb = features(b, slug, v["version"])
            assert len(fa) == len(fb) == v["feature_count"], (slug, v["version"])
            for (ka, ra, ga), (_kb, rb, gb) in zip(fa, fb, strict=True):
                assert ra == rb, (slug, v["version"])
                if ga is None:
                    assert gb is None
                else:
                    assert shapely.equals_exact(ga, gb, tolerance=0), (slug, ka)
                    assert ga.wkb == gb.wkb
            seen += 1
    return seen


# ------------------------------------------------------------------- tests
def test_demo_round_trip_through_postgis(
    demo_gpkg: Path, pg_url: str, tmp_path: Path
) -> None:
    steps: list[tuple[str, int]] = []
    with (
        open_store(str(demo_gpkg), create=False) as source,
        open_store(pg_url) as pg,
        open_store(str(tmp_path / "back.gpkg")) as back,
    ):
        n_versions = sum(
            len(source.list_versions(d.slug)) for d in source.list_datasets()
        )
        assert len(source.list_versions("erosions")) == 4
        assert (
            migrate(source, pg, on_step=lambda s, v: steps.append((s, v))) == n_versions
        )
        assert len(steps) == n_versions and ("erosions", 4) in steps
        assert migrate(pg, back) == n_versions
        assert assert_same_workspace(source, pg) == n_versions
        assert assert_same_workspace(source, back) == n_versions
        # the audit log travels too, in order, with its dates
        log = [
            (e["at"], e["action"], e["target"]) for e in source.list_audit(limit=None)
        ]
        moved = [
            (e["at"], e["action"], e["target"]) for e in back.list_audit(limit=None)
        ]
        assert moved[-len(log) :] == log and moved[0][1] == "migrate"
        # accounts travel: the password still works after two moves
        assert accounts.authenticate(back, "awa", "un-mot-de-passe").roles == {
            "commune_kisenso": "steward"
        }
        history = back.list_versions("erosions")
        assert [v.restored_from for v in history] == [None, None, None, 1]
        assert [v.message for v in history][1] == "contrôle terrain"
        assert history[3].author == "test"
        # the migrated history keeps working: a new version diffs against it
        restored = restore_version(back, "erosions", 2)
        assert (restored.version, restored.restored_from) == (5, 2)
        assert restored.feature_count == history[1].feature_count


def test_migrate_refuses_a_target_with_data(demo_gpkg: Path, tmp_path: Path) -> None:
    with (
        open_store(str(demo_gpkg), create=False) as source,
        open_store(str(tmp_path / "busy.gpkg")) as target,
    ):
        import_path(target, demo_gpkg.parent / "erosions_v2.gpkg")
        before = [(d.slug, d.current_version) for d in target.list_datasets()]
        with pytest.raises(Conflict, match="already holds datasets"):
            migrate(source, target)
        assert [(d.slug, d.current_version) for d in target.list_datasets()] == before


# ------------------------------------------------------------------ backup
FIELDS = [Field("n", FieldType.INTEGER), Field("label", FieldType.TEXT)]


def _batch(version: int) -> pa.RecordBatch:
    size = 5000 + 37 * (version % 7)  # versions differ in count
    ids = list(range(size))
    return pa.RecordBatch.from_arrays(
        [
            pa.array(ids, pa.int64()),
            pa.array([f"v{version}-{i % 50}" for i in ids]),
            pa.array(
                shapely.to_wkb(
                    shapely.points([[i * 0.001, version * 0.001] for i in ids])
                ),
                pa.binary(),
            ),
        ],
        names=["n", "label", "geometry"],
    )


def check_consistent(path: Path) -> int:
    """The backup opens as a store and every count matches its rows."""
    with open_store(str(path), create=False) as snap:
        datasets = snap.list_datasets()
        assert datasets, "empty backup"
        total = 0
        for ds in datasets:
            versions = snap.list_versions(ds.slug)
            assert [v.version for v in versions] == list(
                range(1, ds.current_version + 1)
            )
            assert versions[-1].feature_count == ds.feature_count
            n_rows = sum(b.num_rows for b in snap.read_batches(ds.slug))
            assert n_rows == ds.feature_count, (ds.slug, ds.current_version)
            for v in versions:
                assert (
                    sum(
                        b.num_rows
                        for b in snap.read_batches(ds.slug, version=v.version)
                    )
                    == v.feature_count
                )
            total += ds.current_version
        return total


def test_backup_while_another_thread_writes(tmp_path: Path) -> None:
    live = tmp_path / "live.gpkg"
    with open_store(str(live)) as store:
        store.write_version(
            "points",
            [_batch(0)],
            fields=FIELDS,
            geometry_type="POINT",
            new=Dataset(slug="points", title="Points"),
        )
    stop = threading.Event()
    errors: list[BaseException] = []
    written = [1]

    def writer() -> None:
        try:
            with open_store(str(live)) as w:
                v = 1
                while not stop.is_set() and v < 200:
                    v += 1
                    w.write_version(
                        "points", [_batch(v)], fields=FIELDS, geometry_type="POINT"
                    )
                    written.append(v)
        except BaseException as e:  # noqa: BLE001 - reported by the main thread
            errors.append(e)

    thread = threading.Thread(target=writer)
    seen = []
    with open_store(str(live)) as store:
        thread.start()
        try:
            deadline = time.monotonic() + 30
            while len(seen) < 5 and time.monotonic() < deadline and not errors:
                if len(written) <= (seen[-1][1] if seen else 1):
                    time.sleep(0.005)  # let the writer commit one more version
                    continue
                target = tmp_path / f"backup_{len(seen)}.gpkg"
                store.backup(str(target))  # while the next version is being written
                seen.append((target, len(written)))
        finally:
            stop.set()
            thread.join()
    assert not errors, errors
    assert len(seen) == 5
    versions = [check_consistent(path) for path, _ in seen]
    assert versions == sorted(versions)  # later backups never go back in time
    assert versions[-1] > 1, "the writer never ran during the backups"
    assert check_consistent(live) == written[-1]


def test_forms_and_submissions_travel(demo_gpkg: Path, pg_url: str, tmp_path: Path):
    import hashlib
    import shutil

    from quartier.domain.forms import Form, Status, Submission

    copy = tmp_path / "formes.gpkg"
    shutil.copy(demo_gpkg, copy)
    xml = "<h:html><data id='p'/></h:html>"
    with open_store(str(copy), create=False) as source, open_store(pg_url) as pg:
        source.add_form(
            Form(
                "p",
                "1",
                "P",
                xml,
                hashlib.md5(xml.encode()).hexdigest(),
                "commune_kisenso",
                media={"logo.png": "x"},
                created="2026-01-01",
            )
        )
        source.put_form_media("p", "1", "logo.png", "image/png", b"PNG")
        source.add_submission(
            Submission("uuid:1", "p", "1", "<data/>", "awa", received="2026-01-02"),
            [("photo.jpg", "image/jpeg", b"JPEG")],
        )
        source.set_submission_status(
            "uuid:1", Status.HAS_ISSUES, reviewer="modo", note="GPS ?", at="2026-01-03"
        )
        migrate(source, pg)
        assert pg.get_form("p").md5 == source.get_form("p").md5
        assert pg.get_form_media("p", "1", "logo.png") == ("image/png", b"PNG")
        moved = pg.get_submission("uuid:1")
        assert (moved.status, moved.note, moved.updated) == (
            Status.HAS_ISSUES,
            "GPS ?",
            "2026-01-03",
        )
        assert pg.get_attachment("uuid:1", "photo.jpg")[1] == b"JPEG"


def test_reports_and_campaigns_travel(demo_gpkg: Path, pg_url: str, tmp_path: Path):
    import shutil

    from quartier.domain.campaigns import Campaign, Grid
    from quartier.services.campaigns import create_campaign
    from quartier.services.reports import NewReport, file_report

    copy = tmp_path / "ville.gpkg"
    shutil.copy(demo_gpkg, copy)
    with open_store(str(copy), create=False) as source, open_store(pg_url) as pg:
        report, _ = file_report(
            source,
            LOCAL,
            NewReport(
                "0b7a3f4e-1c2d-4e5f-8a9b-0c1d2e3f4a5b",
                lon=15.33,
                lat=-4.42,
                description="Caniveau bouché",
                category="assainissement",
                name="Awa",
                contact="0812345678",
            ),
            [],
        )
        area = shapely.box(15.33, -4.42, 15.335, -4.415)
        campaign, cells = create_campaign(
            source,
            Campaign("kabila", "Kabila", "commune_kisenso", "", Grid.SQUARE, 200),
            area,
            actor=LOCAL,
        )
        migrate(source, pg)
        moved = pg.get_report(report.id)
        assert (moved.description, moved.name, moved.contact) == (
            "Caniveau bouché",
            "Awa",
            "0812345678",
        )
        assert pg.get_campaign("kabila").title == "Kabila"
        assert len(pg.list_cells("kabila")) == cells
