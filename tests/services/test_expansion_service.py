"""``quartier analyze expansion`` on the demo city, on both stores."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
import rasterio
import shapely
from rasterio.transform import from_origin
from shapely.geometry import box

from quartier.analysis.expansion import GHSL_EPOCHS
from quartier.errors import InvalidInput
from quartier.services import analyses as an
from quartier.services.expansion import ExpansionParams, _read_raster, run_expansion
from quartier.services.importer import ImportOptions, import_path
from quartier.storage.base import SqlStore


def test_expansion_by_period_unit_and_ring(city: SqlStore):
    run = run_expansion(city, ExpansionParams(breaks=[1990, 2000, 2010]))
    s = run.summary
    # the demo's years are a separate, illustrative table joined on osm_id
    assert s["dated"] == s["buildings"] and s["undated"] == 0
    assert s["first_year"] < 1990 < 2010 <= s["last_year"]
    assert set(run.datasets) == {
        "expansion_batiments",
        "expansion_periodes",
        "expansion_unites",
        "expansion_anneaux",
    }
    periods = [
        r for b in city.read_batches("expansion_periodes") for r in b.to_pylist()
    ]
    assert [p["period"] for p in periods] == [
        "<1990",
        "1990–1999",
        "2000–2009",
        "≥2010",
    ]
    assert sum(p["buildings"] for p in periods) == s["dated"]
    assert periods[-1]["stock_m2"] == pytest.approx(s["built_m2"], abs=1)
    units = [r for b in city.read_batches("expansion_unites") for r in b.to_pylist()]
    assert sum(u["buildings"] for u in units) == s["dated"]
    result = city.get_dataset("expansion_batiments")
    assert result.illustrative  # built on the illustrative years
    lineage = json.loads(result.lineage)
    assert lineage["parameters"]["key"] == "osm_id"
    assert lineage["inputs"]["years"]["dataset"] == "batiments_annees_illustratives"
    # analysis results are never picked as default inputs of another run
    again = run_expansion(city, ExpansionParams(breaks=[1990, 2000, 2010]))
    assert again.datasets == run.datasets


def test_missing_years_are_named(city: SqlStore):
    with pytest.raises(InvalidInput, match="no year field 'annee'"):
        run_expansion(city, ExpansionParams(year_field="annee"))
    with pytest.raises(InvalidInput, match="increasing years"):
        run_expansion(city, ExpansionParams(breaks=[2010, 2000]))


def test_dated_layers(city: SqlStore, tmp_path: Path):
    # isolated demo buildings (touching no other), 30 in 2005 and 50 in 2015
    buildings = an.read_frame(city, city.get_dataset("batiments"), 32733)
    shapes = buildings.geometry.values
    i, _ = shapely.STRtree(shapes).query(shapes, predicate="intersects")
    alone = buildings[np.bincount(i, minlength=len(buildings)) == 1].head(50)
    for slug, frame in (("batiments_2005", alone.head(30)), ("batiments_2015", alone)):
        path = tmp_path / f"{slug}.geojson"
        frame[["osm_id", "geometry"]].to_crs(4326).to_file(path)
        import_path(city, path, ImportOptions(dataset=slug, theme="bâti"))
    layers = {"batiments_2005": 2005, "batiments_2015": 2015}
    run = run_expansion(city, ExpansionParams(breaks=[2006, 2016], layers=layers))
    assert run.summary["layers"] == {"batiments_2005": 30, "batiments_2015": 20}
    assert run.summary["dated"] == 50 and run.summary["undated"] == 0
    periods = run.result.periods.set_index("period")["buildings"]
    assert periods.to_dict() == {"<2006": 30, "2006–2015": 20, "≥2016": 0}
    lineage = json.loads(city.get_dataset("expansion_batiments").lineage)
    assert lineage["inputs"]["layer_2005"]["dataset"] == "batiments_2005"
    assert lineage["inputs"]["layer_2015"]["dataset"] == "batiments_2015"
    assert lineage["parameters"]["min_overlap"] == 0.5
    with pytest.raises(InvalidInput, match="one source of years"):
        run_expansion(city, ExpansionParams(layers=layers, year_field="annee"))


def write_tif(path: Path, values, transform, crs: str, nodata=None) -> Path:
    values = np.asarray(values, dtype="float32")
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=values.shape[1],
        height=values.shape[0],
        count=1,
        dtype="float32",
        crs=crs,
        transform=transform,
        nodata=nodata,
    ) as dst:
        dst.write(values, 1)
    return path


def test_built_up_rasters(city: SqlStore, tmp_path: Path):
    # geographic rasters wider than Kisenso: 100 then 300 m² in every cell
    grid = from_origin(15.30, -4.38, 0.001, 0.001)
    paths = {
        str(
            write_tif(
                tmp_path / f"built_{y}.tif", np.full((70, 80), v), grid, "EPSG:4326"
            )
        ): y
        for y, v in ((2000, 100), (2010, 300))
    }
    run = run_expansion(city, ExpansionParams(breaks=[2001], rasters=paths))
    p = run.result.periods.set_index("period")
    cells = int(p.loc["<2001", "cells"])
    assert 0 < cells < 70 * 80  # only the cells whose centre is in Kisenso
    assert p["area_m2"].tolist() == [100 * cells, 200 * cells]
    assert p["stock_m2"].tolist() == [100 * cells, 300 * cells]
    units = [
        r for b in city.read_batches("expansion_raster_unites") for r in b.to_pylist()
    ]
    assert sum(u["area_m2"] for u in units) == pytest.approx(300 * cells)
    assert set(run.datasets) == {
        "expansion_raster_cellules",
        "expansion_raster_periodes",
        "expansion_raster_unites",
        "expansion_raster_anneaux",
    }
    lineage = json.loads(city.get_dataset("expansion_raster_periodes").lineage)
    raster = lineage["inputs"]["raster_2010"]
    assert raster["path"] == str((tmp_path / "built_2010.tif").resolve())
    digest = hashlib.sha256((tmp_path / "built_2010.tif").read_bytes()).hexdigest()
    assert raster["sha256"] == f"sha256:{digest}"
    assert lineage["inputs"]["units"]["dataset"] == "unites_admin"
    # the same files again: no new version
    again = run_expansion(city, ExpansionParams(breaks=[2001], rasters=paths))
    assert again.datasets == run.datasets


def test_epoch_raster_and_bad_rasters(city: SqlStore, tmp_path: Path):
    grid = from_origin(15.30, -4.38, 0.001, 0.001)
    codes = np.tile([6, 5, 4, 3, 2, 1, 0, 255], (70, 10))
    path = write_tif(tmp_path / "epochs.tif", codes, grid, "EPSG:4326", nodata=255)
    params = ExpansionParams(
        breaks=[1976, 1991, 2001], epoch_raster=str(path), epoch_codes=GHSL_EPOCHS
    )
    run = run_expansion(city, params)
    assert run.result.periods["cells"].min() > 0  # each epoch has cells
    assert run.summary["first_year"] == 1975 and run.summary["last_year"] == 2014
    with pytest.raises(InvalidInput, match="value 1 is not a year"):
        run_expansion(city, ExpansionParams(epoch_raster=str(path)))
    with pytest.raises(InvalidInput, match="no raster file"):
        run_expansion(city, ExpansionParams(rasters={str(tmp_path / "no.tif"): 2000}))
    far = write_tif(
        tmp_path / "far.tif", codes, from_origin(0, 0, 0.001, 0.001), "EPSG:4326"
    )
    with pytest.raises(InvalidInput, match="does not cover the territory"):
        run_expansion(
            city, ExpansionParams(epoch_raster=str(far), epoch_codes=GHSL_EPOCHS)
        )


def test_raster_window_over_the_territory(tmp_path: Path):
    # a 4×4 raster of 100 m cells; the territory covers the two middle columns
    values = np.arange(16).reshape(4, 4)
    path = write_tif(
        tmp_path / "r.tif", values, from_origin(0, 400, 100, 100), "EPSG:32733"
    )
    lineage = an.Lineage("expansion")
    r = _read_raster(lineage, "raster_2000", str(path), box(120, 120, 280, 280), 32733)
    assert r.values.tolist() == [[5, 6], [9, 10]]
    assert tuple(r.transform) == (100, 0, 100, 0, -100, 300)
    assert lineage.inputs["raster_2000"]["sha256"].startswith("sha256:")
