"""``/api/analyses``: run an analysis as a background job.

``POST /api/analyses/{name}`` with the parameters as JSON answers ``202``
with the job to follow (``/api/jobs/{id}``); its result gives the headline
figures and the datasets written (new versions, each with its lineage).
Running one takes an administrator or steward role in some organisation
(it writes datasets), and every input must be readable by the caller — an
input one may not see is refused like an unknown one. One run of each
analysis per caller at a time (409 while it runs): a server for a city's
staff, not a queue anyone can fill.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Literal

from fastapi import APIRouter
from pydantic import Field

from quartier import access
from quartier.access import Principal
from quartier.domain.catalogue import make_slug
from quartier.errors import Conflict, PermissionDenied
from quartier.i18n import Translator
from quartier.services.accessibility import AccessibilityParams, run_accessibility
from quartier.services.densification import DensificationParams, run_densification
from quartier.services.expansion import ExpansionParams, run_expansion
from quartier.services.exposure import ExposureParams, run_exposure
from quartier.services.jobs import Job
from quartier.services.profile import cached_profiles, profile_json
from quartier.services.suitability import SuitabilityParams, run_suitability
from quartier.services.vulnerability import (
    DEFAULT_WEIGHTS,
    VulnerabilityParams,
    run_vulnerability,
)
from quartier.storage.base import SqlStore
from quartier.web.api_common import Base, Body, Caller, Ctx, jobs_of
from quartier.web.responses import JSONResponse

router = APIRouter(
    prefix="/api", tags=["Analyses"], default_response_class=JSONResponse
)

Name = Annotated[str, Field(max_length=48, pattern=r"^[a-z][a-z0-9_]*$")]
OptName = Name | None
Lang = Literal["fr", "en"]


class ExposureIn(Body):
    hazard: OptName = None
    class_field: Annotated[str | None, Field(max_length=100)] = None
    class_order: list[Annotated[str, Field(max_length=100)]] = []
    buffer_m: Annotated[float, Field(ge=0, le=10_000)] = 0.0
    buildings: OptName = None
    units: OptName = None
    population: Annotated[str | None, Field(max_length=150)] = None
    facilities: list[Name] = []
    roads: OptName = None
    people_per_building: Annotated[float | None, Field(ge=0, le=1000)] = None
    #: census age/sex columns (None: detected; []: none)
    breakdown: list[Annotated[str, Field(max_length=100)]] | None = None


class AccessibilityIn(Body):
    facilities: OptName = None
    profile: Literal["walk", "drive"] = "walk"
    limit_min: Annotated[float, Field(gt=0, le=600)] = 15.0
    thresholds_min: list[Annotated[float, Field(gt=0, le=600)]] = [5, 10, 15, 30]
    roads: OptName = None
    buildings: OptName = None
    units: OptName = None
    population: Annotated[str | None, Field(max_length=150)] = None
    capacity_field: Annotated[str | None, Field(max_length=100)] = None
    hazard: OptName = None
    buffer_m: Annotated[float, Field(ge=0, le=10_000)] = 0.0


class VulnerabilityIn(Body):
    weights: dict[Name, Annotated[float, Field(ge=0)]] = dict(DEFAULT_WEIGHTS)
    hazard: OptName = None
    buffer_m: Annotated[float, Field(ge=0, le=10_000)] = 0.0
    facilities: OptName = None
    limit_min: Annotated[float, Field(gt=0, le=600)] = 15.0
    informal: OptName = None
    tenure: OptName = None


class ExpansionIn(Body):
    breaks: list[Annotated[int, Field(ge=1800, le=2100)]] = [1990, 2000, 2010, 2020]
    year_field: Annotated[str | None, Field(max_length=100)] = None
    years: Annotated[str | None, Field(max_length=150)] = None
    key: Annotated[str | None, Field(max_length=100)] = None
    ring_km: Annotated[float, Field(gt=0, le=100)] = 1.0
    hazard: OptName = None
    planned: OptName = None
    buildings: OptName = None
    units: OptName = None
    #: dated building layers {dataset: year}; rasters are read from the
    #: server's disk, so they are the command line's only (never a path
    #: named over the network)
    layers: dict[Name, Annotated[int, Field(ge=1800, le=2100)]] | None = None
    min_overlap: Annotated[float, Field(ge=0, le=1)] = 0.5


class SuitabilityIn(Body):
    cell_m: Annotated[float, Field(ge=10, le=10_000)] = 250.0
    minutes: Annotated[float, Field(gt=0, le=120)] = 10.0
    profile: Literal["walk", "drive"] = "walk"
    competitors: OptName = None
    radius_m: Annotated[float, Field(ge=0, le=50_000)] = 500.0
    hazard: OptName = None
    weights: dict[Name, Annotated[float, Field(ge=0)]] = {
        "population": 0.5,
        "competition": 0.3,
        "hazard_free": 0.2,
    }
    top: Annotated[int, Field(ge=1, le=1000)] = 10
    grid: Literal["square", "hexagon"] = "square"
    zoning: OptName = None
    zoning_field: Annotated[str | None, Field(max_length=100)] = None
    allowed_zones: list[Annotated[str, Field(max_length=100)]] | None = None


class DensificationIn(Body):
    plots: Literal["auto", "parcels", "blocks", "grid"] = "auto"
    parcels: OptName = None
    cell_m: Annotated[float, Field(ge=10, le=10_000)] = 100.0
    snap_m: Annotated[float, Field(ge=0, le=500)] = 20.0
    max_block_ha: Annotated[float, Field(gt=0, le=10_000)] = 20.0
    min_block_share: Annotated[float, Field(ge=0, le=1)] = 0.8
    buildings: OptName = None
    floors_field: Annotated[str | None, Field(max_length=100)] = None
    roads: OptName = None
    hazard: OptName = None
    protected: OptName = None
    services: list[Name] | None = None
    max_coverage: Annotated[float, Field(ge=0, le=1)] = 0.6
    max_far: Annotated[float, Field(gt=0, le=50)] = 1.8
    default_floors: Annotated[float, Field(gt=0, le=200)] = 1.0
    vacant_below: Annotated[float, Field(ge=0, le=1)] = 0.05
    underused_below: Annotated[float, Field(ge=0, le=1)] = 0.25
    excluded_from: Annotated[float, Field(gt=0, le=1)] = 0.5
    top: Annotated[int, Field(ge=1, le=1000)] = 10


Runner = Callable[[SqlStore, Any, Principal], Any]

ANALYSES: dict[str, tuple[type[Body], Runner]] = {
    "exposure": (
        ExposureIn,
        lambda s, b, p: run_exposure(
            s, ExposureParams(**b.model_dump()), author=p.label, reader=p
        ),
    ),
    "accessibility": (
        AccessibilityIn,
        lambda s, b, p: run_accessibility(
            s, AccessibilityParams(**b.model_dump()), author=p.label, reader=p
        ),
    ),
    "expansion": (
        ExpansionIn,
        lambda s, b, p: run_expansion(
            s, ExpansionParams(**b.model_dump()), author=p.label, reader=p
        ),
    ),
    "densification": (
        DensificationIn,
        lambda s, b, p: run_densification(
            s, DensificationParams(**b.model_dump()), author=p.label, reader=p
        ),
    ),
    "suitability": (
        SuitabilityIn,
        lambda s, b, p: run_suitability(
            s, SuitabilityParams(**b.model_dump()), author=p.label, reader=p
        ),
    ),
    "vulnerability": (
        VulnerabilityIn,
        lambda s, b, p: run_vulnerability(
            s, VulnerabilityParams(**b.model_dump()), author=p.label, reader=p
        ),
    ),
}


@router.get("/analyses")
def list_analyses(base: Base) -> dict[str, Any]:
    """The analyses one can run, with their parameters and defaults."""
    return {
        "analyses": [
            {
                "name": name,
                "parameters": model.model_json_schema()["properties"],
                "run": f"{base}/api/analyses/{name}",
            }
            for name, (model, _) in ANALYSES.items()
        ]
    }


@router.get("/profiles")
def profiles(ctx: Ctx, who: Caller, base: Base, lang: Lang = "fr") -> dict[str, Any]:
    """Every admin unit's profile, from the datasets the caller may read."""
    built = cached_profiles(ctx.store, who)
    t = Translator(lang)
    return {
        "units": [
            profile_json(built, str(name), t)
            | {"href": f"{base}/api/profiles/{make_slug(str(name))}"}
            for name in built.table.index
        ]
    }


@router.get("/profiles/{unit}")
def profile(ctx: Ctx, who: Caller, unit: str, lang: Lang = "fr") -> dict[str, Any]:
    """One unit's profile (by name or its slug): indicators next to the
    city's median, gaps and sources."""
    built = cached_profiles(ctx.store, who)
    for name in built.table.index:
        if make_slug(str(name)) == unit:
            unit = str(name)
    return profile_json(built, built.unit(unit), Translator(lang))


@router.post("/analyses/exposure", status_code=202)
def exposure(body: ExposureIn, ctx: Ctx, who: Caller, base: Base) -> JSONResponse:
    """Hazard exposure: buildings, people, facilities, roads per class and unit."""
    return _start("exposure", body, ctx, who, base)


@router.post("/analyses/accessibility", status_code=202)
def accessibility(
    body: AccessibilityIn, ctx: Ctx, who: Caller, base: Base
) -> JSONResponse:
    """Travel time to the nearest facility, isochrones, people beyond a limit."""
    return _start("accessibility", body, ctx, who, base)


@router.post("/analyses/expansion", status_code=202)
def expansion(body: ExpansionIn, ctx: Ctx, who: Caller, base: Base) -> JSONResponse:
    """Urban expansion: built-up area by period, unit and distance ring."""
    return _start("expansion", body, ctx, who, base)


@router.post("/analyses/densification", status_code=202)
def densification(
    body: DensificationIn, ctx: Ctx, who: Caller, base: Base
) -> JSONResponse:
    """Densification potential per parcel, block or cell, ranked."""
    return _start("densification", body, ctx, who, base)


@router.post("/analyses/suitability", status_code=202)
def suitability(body: SuitabilityIn, ctx: Ctx, who: Caller, base: Base) -> JSONResponse:
    """Site suitability for a business on a grid: customers, competition, hazard."""
    return _start("suitability", body, ctx, who, base)


@router.post("/analyses/vulnerability", status_code=202)
def vulnerability(
    body: VulnerabilityIn, ctx: Ctx, who: Caller, base: Base
) -> JSONResponse:
    """Vulnerability index per unit, with components, ranks and sensitivity."""
    return _start("vulnerability", body, ctx, who, base)


def _start(name: str, body: Body, ctx: Any, who: Principal, base: str) -> JSONResponse:
    p = access.require_signed_in(who)
    if not (p.is_admin or any(access.can_create(p, org) for org in p.roles)):
        raise PermissionDenied(
            f"{p.label} may not run analyses: it takes an admin or steward role "
            "in an organisation (results are written as datasets)"
        )
    run = ANALYSES[name][1]
    key = f"analysis:{name}:{p.label}"
    runner = jobs_of(ctx)
    if runner.find_active(key) is not None:
        raise Conflict(
            f"your {name} analysis is still running: follow it in /api/jobs, "
            "then run again"
        )

    def work(job: Job) -> dict[str, Any]:
        result = run(ctx.store, body, p)
        return {
            "analysis": name,
            "summary": result.summary,
            "datasets": result.datasets,
        }

    job = runner.submit(work, kind="analysis", owner=p.label, target=name, key=key)
    url = f"{base}/api/jobs/{job.id}"
    return JSONResponse(
        {
            "id": job.id,
            "status": job.status,
            "links": [{"href": url, "rel": "monitor"}],
        },
        status_code=202,
        headers={"Location": url},
    )
