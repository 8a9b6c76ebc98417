"""Create a workspace: the city, its boundary, working CRS and admin units."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import shapely

from quartier.domain import Field, FieldType, Workspace
from quartier.domain.catalogue import Dataset, make_slug
from quartier.domain.workspace import ADMIN_LEVELS, utm_epsg
from quartier.errors import InvalidInput
from quartier.io.normalise import ImportReport, Normaliser
from quartier.io.readers import open_source
from quartier.storage.base import SqlStore

ADMIN_DATASET = "unites_admin"
_CODE_NAMES = ("code", "ref", "id", "osm_id", "code_quartier", "insee")
_NAME_NAMES = ("name", "nom", "name_fr", "libelle", "nom_quartier")


@dataclass
class AdminLayer:
    path: Path
    level: str = "quartier"
    code_field: str | None = None
    name_field: str | None = None
    #: a field giving each unit's level, when the layer mixes levels
    level_field: str | None = None
    #: a field giving each unit's parent code (else the commune)
    parent_field: str | None = None


def read_geometries(path: str | Path) -> tuple[list[dict], list[shapely.Geometry]]:
    """All rows (attributes) and geometries (EPSG:4326) of a one-layer file."""
    with open_source(path) as opened:
        layer = opened.layers[0]
        norm = Normaliser(layer, ImportReport(source=str(path)))
        rows: list[dict] = []
        geoms: list[shapely.Geometry] = []
        for batch in norm.batches():
            if "geometry" not in batch.schema.names:
                raise InvalidInput(f"{Path(path).name}: has no geometry")
            geoms.extend(shapely.from_wkb(batch.column("geometry").to_pylist()))
            rows.extend(batch.drop_columns(["geometry"]).to_pylist())
    return rows, geoms


def init_workspace(
    store: SqlStore,
    *,
    name: str,
    boundary: str | Path | None = None,
    admin: AdminLayer | None = None,
) -> Workspace:
    """Record the city; with a boundary, its UTM zone becomes the working CRS."""
    boundary_wkt, crs = None, 3857
    commune_code = make_slug(name)
    if boundary is not None:
        _rows, geoms = read_geometries(boundary)
        shape = shapely.union_all([g for g in geoms if g is not None])
        if shape.is_empty:
            raise InvalidInput(f"{Path(boundary).name}: the boundary is empty")
        boundary_wkt = shape.wkt
        c = shape.centroid
        crs = utm_epsg(c.x, c.y)
    admin_slug = None
    if admin is not None:
        _import_admin(store, admin, commune_code, name, boundary_wkt)
        admin_slug = ADMIN_DATASET
    ws = Workspace(
        name=name, working_crs=crs, boundary_wkt=boundary_wkt, admin_dataset=admin_slug
    )
    store.set_workspace(ws)
    store.audit(actor="cli", action="init", target=name, detail={"crs": crs})
    return store.get_workspace()


def _to_multi_wkb(geom: shapely.Geometry) -> bytes:
    """Polygons as one-part multipolygons, so the layer has one type."""
    if geom.geom_type == "Polygon":
        geom = shapely.MultiPolygon([geom])
    return shapely.to_wkb(geom, flavor="iso")


def _text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip() or None


def _levels(rows: list[dict], admin: AdminLayer) -> list[str]:
    if admin.level_field is None:
        return [admin.level] * len(rows)
    levels = []
    for i, r in enumerate(rows, start=1):
        value = (_text(r.get(admin.level_field)) or "").lower()
        if value not in ADMIN_LEVELS:
            raise InvalidInput(
                f"{admin.path.name}, feature {i}: level {value!r} in "
                f"{admin.level_field!r} is not one of {', '.join(ADMIN_LEVELS)}"
            )
        levels.append(value)
    return levels


def _check_hierarchy(units: dict[str, list], path: Path) -> None:
    """Codes are unique and present; parents exist and sit one level up."""
    rank = {level: i for i, level in enumerate(ADMIN_LEVELS)}
    level_of: dict[str, str] = {}
    for i, (code, level) in enumerate(zip(units["code"], units["level"], strict=True)):
        if code is None:
            raise InvalidInput(f"{path.name}, unit {i}: no code")
        if code in level_of:
            raise InvalidInput(f"{path.name}: code {code!r} is used twice")
        level_of[code] = level
    for code, level, parent in zip(
        units["code"], units["level"], units["parent_code"], strict=True
    ):
        if parent is None:
            continue
        if parent not in level_of:
            raise InvalidInput(
                f"{path.name}: unit {code!r} has unknown parent {parent!r}"
            )
        if rank[level_of[parent]] >= rank[level]:
            raise InvalidInput(
                f"{path.name}: unit {code!r} ({level}) cannot belong to "
                f"{parent!r} ({level_of[parent]})"
            )


def _pick(
    columns: list[str],
    wanted: str | None,
    candidates: tuple[str, ...],
    what: str,
    path: Path,
) -> str:
    if wanted:
        if wanted not in columns:
            raise InvalidInput(f"{path.name}: no field {wanted!r} for the {what}")
        return wanted
    lower = {c.lower(): c for c in columns}
    for cand in candidates:
        if cand in lower:
            return lower[cand]
    raise InvalidInput(
        f"{path.name}: cannot tell which field holds the {what}; "
        f"name it with --admin-{what}-field"
    )


def _import_admin(
    store: SqlStore,
    admin: AdminLayer,
    commune_code: str,
    commune_name: str,
    boundary_wkt: str | None,
) -> None:
    if admin.level not in ADMIN_LEVELS:
        raise InvalidInput(
            f"unknown admin level {admin.level!r}; expected one of "
            f"{', '.join(ADMIN_LEVELS)}"
        )
    rows, geoms = read_geometries(admin.path)
    columns = list(rows[0]) if rows else []
    code_f = _pick(columns, admin.code_field, _CODE_NAMES, "code", admin.path)
    name_f = _pick(columns, admin.name_field, _NAME_NAMES, "name", admin.path)
    levels = _levels(rows, admin)
    codes = [_text(r[code_f]) for r in rows]
    parents = [
        _text(r[admin.parent_field]) if admin.parent_field else None for r in rows
    ]
    has_commune = "commune" in levels
    units: dict[str, list] = {k: [] for k in ("code", "name", "level", "parent_code")}
    units["geometry"] = []
    if not has_commune:
        units["code"].append(commune_code)
        units["name"].append(commune_name)
        units["level"].append("commune")
        units["parent_code"].append(None)
        units["geometry"].append(
            boundary_wkt and _to_multi_wkb(shapely.from_wkt(boundary_wkt))
        )
    top = commune_code if not has_commune else None
    for r, code, level, parent, geom in zip(
        rows, codes, levels, parents, geoms, strict=True
    ):
        units["code"].append(code)
        units["name"].append(r[name_f])
        units["level"].append(level)
        units["parent_code"].append(parent or (None if level == "commune" else top))
        units["geometry"].append(None if geom is None else _to_multi_wkb(geom))
    _check_hierarchy(units, admin.path)
    gtype = (
        "MULTIPOLYGON"
        if all(g is None or g.geom_type in ("Polygon", "MultiPolygon") for g in geoms)
        else "GEOMETRY"
    )
    batch = pa.RecordBatch.from_pydict(
        units,
        schema=pa.schema(
            [
                ("code", pa.string()),
                ("name", pa.string()),
                ("level", pa.string()),
                ("parent_code", pa.string()),
                ("geometry", pa.binary()),
            ]
        ),
    )
    fields = [
        Field(n, FieldType.TEXT) for n in ("code", "name", "level", "parent_code")
    ]
    new = Dataset(
        slug=ADMIN_DATASET,
        title="Unités administratives",
        title_en="Administrative units",
        theme="limites",
        key_field="code",
        lineage=f"init from {admin.path.name}",
    )
    store.write_version(
        ADMIN_DATASET,
        [batch],
        fields=fields,
        new=new,
        message=f"admin units from {admin.path.name}",
        source=admin.path.name,
        geometry_type=gtype,
    )
