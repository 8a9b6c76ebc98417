"""Generate the benchmark source file: N building footprints around Kinshasa.

Small rotated rectangles (8-30 m sides) scattered within ~0.3 degrees of
(15.3, -4.4), with the attributes a city building survey has. Fully
vectorised (numpy + shapely 2, no Python loop per feature) and deterministic
(``numpy.random.default_rng(42)``): the same N gives the same file.

    python benchmarks/generate.py                 # 1,000,000 features
    python benchmarks/generate.py --n 250000 --parquet

Writes ``benchmarks/out/buildings_<N>.gpkg`` (layer ``buildings``, EPSG:4326,
with a spatial index), the source file every benchmark candidate reads.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyogrio
import shapely

OUT = Path(__file__).resolve().parent / "out"
LAYER = "buildings"
SEED = 42
CENTRE = (15.3, -4.4)
SPREAD = 0.3  # degrees, half-width of the scatter box
BUILDING_KINDS = np.array(
    [
        "house",
        "residential",
        "apartments",
        "commercial",
        "retail",
        "school",
        "church",
        "industrial",
        "hospital",
        "yes",
    ]
)
BUILDING_WEIGHTS = np.array(
    [0.40, 0.20, 0.05, 0.08, 0.07, 0.04, 0.04, 0.03, 0.01, 0.08]
)
DATE_START = np.datetime64("2015-01-01")
DATE_DAYS = int((np.datetime64("2024-12-31") - DATE_START).astype(np.int64)) + 1
M_PER_DEG_LAT = 110_574.0
M_PER_DEG_LON = 111_320.0


def source_path(n: int, suffix: str = ".gpkg") -> Path:
    return OUT / f"buildings_{n}{suffix}"


def make_table(n: int, seed: int = SEED) -> pa.Table:
    """The N features as an Arrow table with a WKB ``geometry`` column."""
    rng = np.random.default_rng(seed)
    cx = CENTRE[0] + rng.uniform(-SPREAD, SPREAD, n)
    cy = CENTRE[1] + rng.uniform(-SPREAD, SPREAD, n)
    width = rng.uniform(8.0, 30.0, n)
    depth = rng.uniform(8.0, 30.0, n)
    angle = rng.uniform(0.0, np.pi, n)

    # corners in metres around the centre (counter-clockwise, closed ring)
    ux = np.array([-0.5, 0.5, 0.5, -0.5, -0.5])
    uy = np.array([-0.5, -0.5, 0.5, 0.5, -0.5])
    lx = width[:, None] * ux[None, :]
    ly = depth[:, None] * uy[None, :]
    cos, sin = np.cos(angle)[:, None], np.sin(angle)[:, None]
    rx = lx * cos - ly * sin
    ry = lx * sin + ly * cos
    coords = np.empty((n, 5, 2), dtype=np.float64)
    coords[:, :, 0] = (
        cx[:, None] + rx / (M_PER_DEG_LON * np.cos(np.radians(cy)))[:, None]
    )
    coords[:, :, 1] = cy[:, None] + ry / M_PER_DEG_LAT
    geoms = shapely.polygons(coords)
    del coords, lx, ly, rx, ry

    building = BUILDING_KINDS[rng.choice(len(BUILDING_KINDS), n, p=BUILDING_WEIGHTS)]
    levels = rng.integers(1, 9, n, dtype=np.int64)
    area = np.round(width * depth, 2)
    days = rng.integers(0, DATE_DAYS, n)
    survey = (DATE_START + days.astype("timedelta64[D]")).astype("datetime64[D]")
    has_name = rng.random(n) >= 0.30
    ids = pa.array(np.arange(1, n + 1, dtype=np.int64)).cast(pa.string())
    names = pc.binary_join_element_wise("Bâtiment n°", ids, "")
    names = pc.if_else(pa.array(has_name), names, pa.scalar(None, pa.string()))

    return pa.table(
        {
            "building": pa.array(building, type=pa.string()),
            "levels": pa.array(levels, type=pa.int64()),
            "area_m2": pa.array(area, type=pa.float64()),
            "survey_date": pa.array(survey, type=pa.date32()),
            "name": names,
            "geometry": pa.array(shapely.to_wkb(geoms), type=pa.binary()),
        }
    )


def write_gpkg(table: pa.Table, path: Path) -> None:
    if path.exists():
        path.unlink()
    pyogrio.write_arrow(
        table,
        str(path),
        layer=LAYER,
        driver="GPKG",
        geometry_name="geometry",
        geometry_type="Polygon",
        crs="EPSG:4326",
        layer_options={"SPATIAL_INDEX": "YES", "GEOMETRY_NAME": "geom"},
        # GeoPackage 1.3: Debian's GDAL 3.6 (the ogr2ogr peer) warns on 1.4
        dataset_options={"VERSION": "1.3"},
    )


def write_geoparquet(table: pa.Table, path: Path) -> None:
    import pyarrow.parquet as pq

    geo = {
        "version": "1.1.0",
        "primary_column": "geometry",
        "columns": {
            "geometry": {
                "encoding": "WKB",
                "geometry_types": ["Polygon"],
                "crs": None,  # replaced below by PROJJSON when pyproj is present
            }
        },
    }
    try:
        from pyproj import CRS

        geo["columns"]["geometry"]["crs"] = CRS.from_epsg(4326).to_json_dict()
    except ImportError:  # pragma: no cover - pyproj is a quartier dependency
        del geo["columns"]["geometry"]["crs"]
    meta = dict(table.schema.metadata or {})
    meta[b"geo"] = json.dumps(geo).encode()
    pq.write_table(
        table.replace_schema_metadata(meta),
        path,
        compression="zstd",
        row_group_size=65536,
    )


def generate(
    n: int, *, parquet: bool = False, force: bool = False, quiet: bool = False
) -> Path:
    """Write the source file for ``n`` features (kept when it already exists)."""
    OUT.mkdir(parents=True, exist_ok=True)
    path = source_path(n)
    pq_path = source_path(n, ".parquet")
    need_gpkg = force or not path.exists()
    need_pq = parquet and (force or not pq_path.exists())
    if not (need_gpkg or need_pq):
        if not quiet:
            print(f"{path} exists (use --force to rewrite)")
        return path
    t0 = time.perf_counter()
    table = make_table(n)
    t1 = time.perf_counter()
    if need_gpkg:
        tmp = path.with_suffix(".tmp.gpkg")
        write_gpkg(table, tmp)
        tmp.replace(path)
    if need_pq:
        write_geoparquet(table, pq_path)
    t2 = time.perf_counter()
    if not quiet:
        size = path.stat().st_size / 1e6
        print(
            f"{n:,} features: built in {t1 - t0:.1f} s, written in {t2 - t1:.1f} s"
            f" -> {path} ({size:.0f} MB)" + (f" and {pq_path}" if need_pq else "")
        )
    return path


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1_000_000, help="number of features")
    ap.add_argument("--parquet", action="store_true", help="also write GeoParquet")
    ap.add_argument("--force", action="store_true", help="rewrite existing files")
    args = ap.parse_args(argv)
    generate(args.n, parquet=args.parquet, force=args.force)


if __name__ == "__main__":
    main()
