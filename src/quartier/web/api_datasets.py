"""``/api/datasets``: the catalogue, its versions, metadata edits and restores."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import Field, field_validator, model_validator

from quartier import access
from quartier.access import Principal
from quartier.domain import AccessLevel, Dataset, Version
from quartier.errors import InvalidInput, NotFound, PermissionDenied
from quartier.services.catalogue import (
    dataset_summary,
    restore_version,
    version_summary,
)
from quartier.services.downloads import formats_for
from quartier.services.search import CatalogueQuery
from quartier.storage.base import SqlStore
from quartier.web.api_common import (
    MAX_INT,
    Base,
    Body,
    Caller,
    Ctx,
    Slug,
    VersionNumber,
    link,
)
from quartier.web.responses import JSONResponse

router = APIRouter(
    prefix="/api", tags=["Jeux de données"], default_response_class=JSONResponse
)


@router.get("/datasets")
def list_datasets(
    ctx: Ctx,
    who: Caller,
    base: Base,
    q: Annotated[str | None, Query(max_length=200, description="Recherche")] = None,
    theme: Annotated[str | None, Query(max_length=100)] = None,
    producer: Annotated[str | None, Query(max_length=100)] = None,
    access_level: Annotated[
        AccessLevel | None, Query(alias="access", description="Niveau d'accès")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_INT)] = 0,
) -> dict[str, Any]:
    """The datasets you may see, searched and filtered, one page at a time."""
    wanted = CatalogueQuery(q=q, theme=theme, producer=producer, access=access_level)
    found = wanted.filter(access.readable(who, ctx.store.list_datasets()))
    page = found[offset : offset + limit]
    query = _query(q=q, theme=theme, producer=producer, access=access_level)
    links = [link(f"{base}/api/datasets?{query}limit={limit}&offset={offset}", "self")]
    if offset + limit < len(found):
        after = offset + limit
        links.append(
            link(f"{base}/api/datasets?{query}limit={limit}&offset={after}", "next")
        )
    if offset > 0:
        before = max(offset - limit, 0)
        links.append(
            link(f"{base}/api/datasets?{query}limit={limit}&offset={before}", "prev")
        )
    return {
        "datasets": [describe(ds, who, base) for ds in page],
        "numberMatched": len(found),
        "numberReturned": len(page),
        "links": links,
    }


@router.get("/datasets/{slug}")
def get_dataset(slug: Slug, ctx: Ctx, who: Caller, base: Base) -> dict[str, Any]:
    """One dataset: metadata, the fields you may see, links to its data."""
    ds = access.require_read(who, ctx.store.get_dataset(slug))
    return describe(ds, who, base, store=ctx.store)


_NULLABLE = {"producer", "steward", "temporal_start", "temporal_end", "key_field"}


class DatasetPatch(Body):
    """Metadata to change; members left out stay as they are."""

    title: str | None = Field(None, min_length=1, max_length=300)
    title_en: str | None = Field(None, max_length=300)
    description: str | None = Field(None, max_length=20000)
    description_en: str | None = Field(None, max_length=20000)
    theme: str | None = Field(None, max_length=100)
    producer: str | None = Field(None, max_length=100)
    steward: str | None = Field(None, max_length=100)
    licence: str | None = Field(None, max_length=300)
    attribution: str | None = Field(None, max_length=1000)
    access: AccessLevel | None = None
    sensitive_fields: list[Annotated[str, Field(max_length=100)]] | None = None
    update_frequency: str | None = Field(None, max_length=50)
    lineage: str | None = Field(None, max_length=5000)
    temporal_start: str | None = Field(None, description="AAAA-MM-JJ ou RFC 3339")
    temporal_end: str | None = Field(None, description="AAAA-MM-JJ ou RFC 3339")
    key_field: str | None = Field(None, max_length=100)
    illustrative: bool | None = None

    @model_validator(mode="after")
    def _no_null(self) -> DatasetPatch:
        for name in self.model_fields_set - _NULLABLE:
            if getattr(self, name) is None:
                raise ValueError(f"{name} may not be null")
        return self

    @field_validator("temporal_start", "temporal_end")
    @classmethod
    def _instant(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            (date if len(value) == 10 else datetime).fromisoformat(value)
        except ValueError:
            raise ValueError(
                "expected a date (YYYY-MM-DD) or an RFC 3339 instant"
            ) from None
        return value


@router.patch("/datasets/{slug}")
def patch_dataset(
    slug: Slug, body: DatasetPatch, ctx: Ctx, who: Caller, base: Base
) -> dict[str, Any]:
    """Change metadata or the access level (admin or steward of the dataset)."""
    ds = access.require_write(
        access.require_signed_in(who), ctx.store.get_dataset(slug)
    )
    changes = body.model_dump(exclude_unset=True)
    if not changes:
        raise InvalidInput("body: nothing to change")
    _check_patch(ctx.store, who, ds, changes)
    before = {k: _plain(getattr(ds, k)) for k in changes}
    updated = ctx.store.update_dataset(slug, **changes)
    ctx.store.audit(
        actor=who.label,
        action="dataset.update",
        target=slug,
        detail={"before": before, "after": {k: _plain(v) for k, v in changes.items()}},
    )
    return describe(updated, who, base, store=ctx.store)


@router.get("/datasets/{slug}/versions")
def list_versions(slug: Slug, ctx: Ctx, who: Caller, base: Base) -> dict[str, Any]:
    """Every version of a dataset, oldest first."""
    ds = access.require_read(who, ctx.store.get_dataset(slug))
    return {
        "dataset": slug,
        "versions": [
            describe_version(ds, v, who, base) for v in ctx.store.list_versions(slug)
        ],
    }


@router.get("/datasets/{slug}/versions/{n}")
def get_version(
    slug: Slug, n: VersionNumber, ctx: Ctx, who: Caller, base: Base
) -> dict[str, Any]:
    ds = access.require_read(who, ctx.store.get_dataset(slug))
    return describe_version(ds, ctx.store.get_version(slug, n), who, base)


@router.post("/datasets/{slug}/versions/{n}/restore", status_code=201)
def restore(
    slug: Slug, n: VersionNumber, ctx: Ctx, who: Caller, base: Base
) -> dict[str, Any]:
    """Make version ``n`` current again, as a new version (history is kept)."""
    ds = access.require_write(
        access.require_signed_in(who), ctx.store.get_dataset(slug)
    )
    ctx.store.get_version(slug, n)
    new = restore_version(ctx.store, slug, n, author=who.label)
    return describe_version(ds, new, who, base)


# ----------------------------------------------------------------- helpers
def describe(
    ds: Dataset, p: Principal, base: str, *, store: SqlStore | None = None
) -> dict[str, Any]:
    """A dataset as the API shows it to ``p`` (with fields when ``store`` given)."""
    out = dataset_summary(ds) | {
        "description": ds.description,
        "description_en": ds.description_en,
        "attribution": ds.attribution,
        "update_frequency": ds.update_frequency,
        "lineage": ds.lineage,
        "temporal_start": ds.temporal_start,
        "temporal_end": ds.temporal_end,
        "key_field": ds.key_field,
        "created": ds.created,
    }
    hidden = access.hidden_fields(p, ds)
    if not hidden:  # the names of masked fields are for those who see them
        out["sensitive_fields"] = list(ds.sensitive_fields)
    if store is not None and ds.current_version:
        v = store.get_version(ds.slug, ds.current_version)
        out["fields"] = _fields(v, hidden)
    out["links"] = dataset_links(ds, base)
    return out


def dataset_links(ds: Dataset, base: str) -> list[dict[str, str]]:
    api = f"{base}/api/datasets/{ds.slug}"
    ogc = f"{base}/ogc/collections/{ds.slug}"
    links = [
        link(api, "self", "application/json"),
        link(f"{api}/versions", "version-history", "application/json"),
        link(ogc, "collection", "application/json", "OGC API – Features"),
        link(f"{ogc}/items", "items", "application/geo+json"),
    ]
    if ds.kind == "features":
        links.append(
            link(
                f"{ogc}/tiles/WebMercatorQuad",
                "tiles",
                "application/json",
                "TileJSON (MVT)",
            )
        )
    for fmt in formats_for(ds) if ds.current_version else []:
        links.append(
            link(
                f"{api}/download?format={fmt.key}",
                "enclosure",
                fmt.media_type,
                fmt.label,
            )
        )
    return links


def describe_version(
    ds: Dataset, v: Version, p: Principal, base: str
) -> dict[str, Any]:
    out = version_summary(v)
    out["fields"] = _fields(v, access.hidden_fields(p, ds))
    api = f"{base}/api/datasets/{ds.slug}"
    out["links"] = [
        link(f"{api}/versions/{v.version}", "self", "application/json"),
        link(api, "collection", "application/json"),
    ] + [
        link(
            f"{api}/versions/{v.version}/download.{f.extension}",
            "enclosure",
            f.media_type,
            f.label,
        )
        for f in formats_for(ds)
    ]
    return out


def _fields(v: Version, hidden: frozenset[str]) -> list[dict[str, str]]:
    return [
        {"name": f.name, "type": f.type.value} for f in v.fields if f.name not in hidden
    ]


def _check_patch(
    store: SqlStore, p: Principal, ds: Dataset, changes: dict[str, Any]
) -> None:
    for role in ("producer", "steward"):
        org = changes.get(role)
        if org is None:
            continue
        try:
            store.get_organisation(org)
        except NotFound:
            raise InvalidInput(f"{role}: no organisation {org!r}") from None
        # a dataset may only be placed in an organisation one edits for
        if not access.can_create(p, org):
            raise PermissionDenied(
                f"{p.label} may not make {org!r} the {role} of {ds.slug!r}: it "
                "takes an admin or steward role in that organisation"
            )
    if "access" in changes:
        changes["access"] = AccessLevel(changes["access"])


def _plain(value: Any) -> Any:
    return value.value if isinstance(value, AccessLevel) else value


def _query(**params: Any) -> str:
    from urllib.parse import urlencode

    kept = {k: str(v) for k, v in params.items() if v is not None}
    return urlencode(kept) + "&" if kept else ""
