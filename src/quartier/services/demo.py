"""The demo city: the commune of Kisenso (Kinshasa) from real open data.

Real layers stay real. Where the data has gaps (population, building years),
the demo adds separate tables flagged *illustrative*, built reproducibly.
See ``demo_data/kinshasa/ATTRIBUTION.md`` for sources and licences.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import shapely

from quartier.domain import AccessLevel, ActorKind, Dataset, Organisation
from quartier.io.normalise import ImportReport, Normaliser
from quartier.io.source import SourceLayer
from quartier.services.catalogue import dataset_summary
from quartier.services.workspace import AdminLayer, init_workspace
from quartier.storage.base import SqlStore

ODBL = "ODbL-1.0"
OSM_CREDIT = (
    "© OpenStreetMap contributors, ODbL 1.0, https://www.openstreetmap.org/copyright"
)
OPEN_CITIES = (
    "Open Cities Kinshasa (GFDRR / OSFAC), via github.com/vick25/opencitieskinshasa"
)
#: Assumed mean density used for the illustrative population estimate.
DENSITY_PER_KM2 = 25_000
SEED = 20181

ORGS = [
    Organisation(
        "commune_kisenso",
        "Commune de Kisenso",
        ActorKind.LOCAL_AUTHORITY,
        "Administration communale de Kisenso, Kinshasa",
    ),
    Organisation(
        "osm_contributeurs",
        "Contributeurs OpenStreetMap",
        ActorKind.RESIDENTS,
        "Cartographes bénévoles d'OpenStreetMap",
    ),
    Organisation(
        "opendatalab_rdc",
        "OpenDataLab RDC",
        ActorKind.NGO,
        "Contrôle qualité des données OSM en RDC",
    ),
    Organisation(
        "open_cities_kinshasa",
        "Open Cities Kinshasa (GFDRR / OSFAC)",
        ActorKind.NGO,
        "Cartographie de terrain des risques, 2018",
    ),
]


def data_dir() -> Path:
    return Path(str(resources.files("quartier") / "demo_data" / "kinshasa"))


def build_demo(store: SqlStore) -> dict[str, Any]:
    """Load the Kisenso workspace into an empty store; returns a summary."""
    d = data_dir()
    for org in ORGS:
        store.add_organisation(org)
    ws = init_workspace(
        store,
        name="Kisenso",
        boundary=d / "kisenso_limite_commune_osm.geojson",
        admin=AdminLayer(
            d / "kisenso_quartiers_osm.geojson", "quartier", "osm_id", "name"
        ),
    )
    store.update_dataset(
        "unites_admin",
        producer="osm_contributeurs",
        steward="commune_kisenso",
        licence=ODBL,
        attribution=OSM_CREDIT,
        description="La commune de Kisenso et ses 17 quartiers (OpenStreetMap). "
        "« Mbuku » porte dans la source le niveau 7 et l'identifiant de la commune.",
        description_en="The commune of Kisenso and its 17 quartiers (OpenStreetMap).",
    )
    boundary = shapely.from_wkt(ws.boundary_wkt)
    irregular = _read(d / "kisenso_osm_buildings_irregular_2018-08-16.geojson")
    overlaps = _read(d / "kisenso_osm_overlaps_2018-08-16.geojson")
    buildings = _buildings(irregular, overlaps)
    _write(
        store,
        buildings,
        _osm(
            "batiments",
            "Bâtiments (extrait OSM 2018)",
            "Buildings (OSM extract 2018)",
            "bâti",
            "Sous-ensemble des bâtiments de Kisenso signalés par le "
            "contrôle qualité OSM de 2018 : loin d'être complet.",
            key="osm_id",
            producer="osm_contributeurs",
            steward="opendatalab_rdc",
        ),
    )
    roads = overlaps[
        overlaps["highway"].notna()
        & overlaps.geom_type.isin(["LineString", "MultiLineString"])
    ]
    _write(
        store,
        roads[["@id", "highway", "name", "geometry"]].rename(columns={"@id": "osm_id"}),
        _osm(
            "routes",
            "Voies (extrait OSM 2018)",
            "Roads (OSM extract 2018)",
            "mobilité",
            "Voies présentes dans l'extrait OSM de 2018.",
            key="osm_id",
            producer="osm_contributeurs",
            steward="opendatalab_rdc",
        ),
    )
    _write(
        store,
        _erosions(d),
        Dataset(
            slug="erosions",
            title="Érosions et ravines",
            title_en="Erosion gullies",
            theme="risques",
            producer="open_cities_kinshasa",
            steward="commune_kisenso",
            licence="GPL-3.0",
            attribution=OPEN_CITIES,
            update_frequency="annual",
            description="Ravines d'érosion relevées sur le terrain par Open Cities "
            "Kinshasa (2018).",
            description_en="Erosion gullies mapped in the field.",
            lineage="Open Cities Kinshasa, data/erosions.geojson; Surface converted "
            "from text with a comma decimal",
            temporal_start="2018-01-01",
            temporal_end="2018-12-31",
        ),
    )
    for slug, fname, title, title_en, theme in (
        (
            "sante",
            "kinshasa_hospitals_osm.geojson",
            "Établissements de santé",
            "Health facilities",
            "santé",
        ),
        ("ecoles", "kinshasa_schools_osm.geojson", "Écoles", "Schools", "éducation"),
        ("marches", "kinshasa_markets_osm.geojson", "Marchés", "Markets", "économie"),
    ):
        gdf = _read(d / fname)
        inside = gdf[gdf.intersects(boundary)]
        _write(
            store,
            inside,
            _osm(
                slug,
                title,
                title_en,
                theme,
                f"{title} de Kinshasa situés dans Kisenso (OSM).",
                producer="osm_contributeurs",
                steward="commune_kisenso",
            ),
        )
    _write(
        store,
        _population(store, ws.working_crs),
        Dataset(
            slug="population_estimee",
            title="Population estimée par quartier (illustratif)",
            title_en="Estimated population by quartier (illustrative)",
            theme="population",
            steward="commune_kisenso",
            illustrative=True,
            kind="attributes",
            key_field="code",
            description=f"ESTIMATION ILLUSTRATIVE, pas un recensement : superficie du "
            f"quartier × densité supposée de {DENSITY_PER_KM2:,} hab./km². Aucune "
            "donnée de population ouverte n'a été trouvée pour Kisenso.",
            description_en="ILLUSTRATIVE ESTIMATE, not a census: quartier area × an "
            "assumed density.",
            lineage="computed by quartier demo",
        ),
    )
    _write(
        store,
        _building_years(buildings),
        Dataset(
            slug="batiments_annees_illustratives",
            title="Année de construction des bâtiments (synthétique)",
            title_en="Building construction years (synthetic)",
            theme="bâti",
            steward="commune_kisenso",
            illustrative=True,
            kind="attributes",
            key_field="osm_id",
            description="DONNÉES SYNTHÉTIQUES tirées au hasard (graine fixe) pour "
            "illustrer le suivi de l'expansion urbaine ; ce ne sont pas des "
            "observations.",
            description_en="SYNTHETIC years drawn with a fixed seed; not observations.",
            lineage=f"numpy default_rng({SEED})",
        ),
    )
    store.audit(actor="demo", action="demo", target="Kisenso")
    return {
        "workspace": ws.name,
        "working_crs": ws.working_crs,
        "datasets": [dataset_summary(x) for x in store.list_datasets()],
    }


def _osm(
    slug: str,
    title: str,
    title_en: str,
    theme: str,
    description: str,
    *,
    key: str | None = None,
    producer: str,
    steward: str,
) -> Dataset:
    return Dataset(
        slug=slug,
        title=title,
        title_en=title_en,
        theme=theme,
        description=description,
        producer=producer,
        steward=steward,
        licence=ODBL,
        attribution=OSM_CREDIT,
        key_field=key,
        sensitive_fields=["@user", "@uid"],
        update_frequency="irregular",
        lineage="OpenStreetMap extract (see ATTRIBUTION.md)",
    )


def _read(path: Path) -> gpd.GeoDataFrame:
    import pyogrio

    return pyogrio.read_dataframe(path)


def _buildings(
    irregular: gpd.GeoDataFrame, overlaps: gpd.GeoDataFrame
) -> gpd.GeoDataFrame:
    cols = ["@id", "building", "amenity", "name", "@timestamp", "@user", "geometry"]
    a = irregular[irregular.geom_type.isin(["Polygon", "MultiPolygon"])]
    b = overlaps[
        overlaps["building"].notna()
        & overlaps.geom_type.isin(["Polygon", "MultiPolygon"])
    ]
    both = pd.concat(
        [a.reindex(columns=cols), b.reindex(columns=cols)], ignore_index=True
    )
    both = both.rename(columns={"@id": "osm_id", "@timestamp": "date_edition_osm"})
    # one geometry type for the layer (QGIS shows mixed layers as sub-layers)
    both["geometry"] = [
        shapely.MultiPolygon([g]) if g.geom_type == "Polygon" else g
        for g in both["geometry"]
    ]
    return gpd.GeoDataFrame(both, geometry="geometry", crs="EPSG:4326")


def _erosions(d: Path) -> gpd.GeoDataFrame:
    gdf = _read(d / "kisenso_erosions_opencities.geojson")
    surface = pd.to_numeric(
        gdf["Surface"].astype("string").str.replace(",", "."), errors="coerce"
    )
    return gpd.GeoDataFrame(
        {"nom": gdf["Noms"], "longueur_m": gdf["Long"], "surface_m2": surface},
        geometry=gdf.geometry,
        crs="EPSG:4326",
    )


def _population(store: SqlStore, crs: int) -> pd.DataFrame:
    rows = [r for b in store.read_batches("unites_admin") for r in b.to_pylist()]
    quartiers = [r for r in rows if r["level"] == "quartier"]
    geoms = gpd.GeoSeries(
        shapely.from_wkb([r["geometry"] for r in quartiers]), crs="EPSG:4326"
    ).to_crs(crs)
    km2 = (geoms.area / 1e6).round(3)
    return pd.DataFrame(
        {
            "code": [r["code"] for r in quartiers],
            "nom": [r["name"] for r in quartiers],
            "superficie_km2": km2.to_numpy(),
            "densite_supposee": DENSITY_PER_KM2,
            "population_estimee": (km2 * DENSITY_PER_KM2)
            .round(-2)
            .astype("int64")
            .to_numpy(),
        }
    )


def _building_years(buildings: gpd.GeoDataFrame) -> pd.DataFrame:
    rng = np.random.default_rng(SEED)
    years = rng.integers(1975, 2019, size=len(buildings))
    return pd.DataFrame(
        {
            "osm_id": buildings["osm_id"].astype("string").to_numpy(),
            "annee_construction": years.astype("int64"),
        }
    )


def _write(store: SqlStore, frame: pd.DataFrame, ds: Dataset) -> None:
    """Through the importer's normaliser, as a file import would."""
    if isinstance(frame, gpd.GeoDataFrame):
        table = pa.Table.from_pandas(
            pd.DataFrame(frame.drop(columns="geometry")), preserve_index=False
        )
        table = table.append_column(
            "geometry",
            pa.array(shapely.to_wkb(frame.geometry.to_numpy()), type=pa.binary()),
        )
        crs: str | None = "EPSG:4326"
    else:
        table = pa.Table.from_pandas(frame, preserve_index=False)
        crs = None
    layer = SourceLayer(ds.slug, iter(table.to_batches()), crs=crs)
    report = ImportReport(source="demo")
    norm = Normaliser(layer, report)
    batches = list(norm.batches())
    ds.access = AccessLevel.PUBLIC
    store.write_version(
        ds.slug,
        batches,
        fields=norm.fields,
        new=ds,
        message="démo Kisenso",
        source="demo_data/kinshasa",
        author="demo",
        geometry_type=report.geometry_type,
    )
