"""Capacities: what each organisation declares it can do, produces, could
produce or offers on request (see :mod:`quartier.domain.ecosystem`)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from quartier import access
from quartier.access import Principal
from quartier.domain.catalogue import AccessLevel, Dataset
from quartier.domain.ecosystem import Capacity, CapacityKind, check_capacity
from quartier.errors import InvalidInput, NotFound, PermissionDenied
from quartier.services import reference as reference_list
from quartier.storage.base import SqlStore, now


def as_json(c: Capacity, titles: dict[str, tuple[str, str]] | None = None) -> dict:
    """A declaration; ``titles`` (ref → (fr, en)) names reference entries."""
    fr, en = (titles or {}).get(c.ref, (c.label, c.label))
    out: dict[str, Any] = {
        "id": c.id,
        "organisation": c.organisation,
        "kind": c.kind.value,
        "ref": c.ref,
        "label": c.label or fr,
        "label_en": c.label or en,
        "note": c.note,
        "created": c.created,
    }
    return out


def reference_titles(store: SqlStore) -> dict[str, tuple[str, str]]:
    """Entry key → (French, English) title, from the city's reference list."""
    return {e.key: (e.title, e.title_en) for e in reference_list.entries(store)}


def declare(store: SqlStore, who: Principal, draft: Capacity) -> Capacity:
    """Check and store a declaration of ``draft.organisation``."""
    try:
        store.get_organisation(draft.organisation)
    except NotFound:
        raise InvalidInput(
            f"organisation: no organisation {draft.organisation!r}"
        ) from None
    if not access.can_declare_capacities(who, draft.organisation):
        raise PermissionDenied(
            f"{who.label} may not declare for {draft.organisation!r}: it takes an "
            "admin or steward of that organisation"
        )
    c = replace(draft, label=draft.label.strip(), ref=draft.ref.strip())
    check_capacity(c, frozenset(reference_titles(store)))
    if c.kind is CapacityKind.ON_REQUEST:
        _check_offer(store, who, c)
    made = store.add_capacity(replace(c, created=now(), author=who.label))
    store.audit(
        actor=who.label,
        action="capacity.add",
        target=c.organisation,
        detail={"kind": c.kind.value, "ref": c.ref, "label": c.label},
    )
    return made


def _check_offer(store: SqlStore, who: Principal, c: Capacity) -> None:
    try:
        ds = access.require_read(who, store.get_dataset(c.ref))
    except NotFound:
        raise InvalidInput(f"ref: no dataset {c.ref!r}") from None
    if ds.access is AccessLevel.PUBLIC:
        raise InvalidInput(f"ref: {c.ref!r} is public: everyone reads it already")
    if not access.can_offer_on_request(who, c.organisation, ds):
        raise PermissionDenied(
            f"{who.label} may not offer {c.ref!r} for {c.organisation!r}: the "
            "organisation must produce or steward it, and you be an admin or "
            "steward there"
        )


def remove(store: SqlStore, who: Principal, capacity_id: int) -> Capacity:
    found = [c for c in store.list_capacities() if c.id == capacity_id]
    if not found:
        raise NotFound(f"no capacity {capacity_id}")
    if not access.can_declare_capacities(who, found[0].organisation):
        raise PermissionDenied(
            f"{who.label} may not change the declarations of {found[0].organisation!r}"
        )
    done = store.remove_capacity(capacity_id)
    store.audit(
        actor=who.label,
        action="capacity.remove",
        target=done.organisation,
        detail={"kind": done.kind.value, "ref": done.ref, "label": done.label},
    )
    return done


def listed(
    store: SqlStore, who: Principal, organisation: str | None = None
) -> list[Capacity]:
    """Declarations anyone may see: an offer on request shows only while its
    organisation still holds the dataset and it is not public (the offer
    names a restricted dataset on purpose: its holder chose to list it)."""
    datasets = {d.slug: d for d in store.list_datasets()}
    return [
        c
        for c in store.list_capacities(organisation=organisation)
        if c.kind is not CapacityKind.ON_REQUEST or _offer_holds(c, datasets.get(c.ref))
    ]


def _offer_holds(c: Capacity, ds: Dataset | None) -> bool:
    return (
        ds is not None
        and c.organisation in (ds.producer, ds.steward)
        and ds.access is not AccessLevel.PUBLIC
    )


def offered(store: SqlStore) -> dict[str, tuple[Dataset, str]]:
    """Datasets offered on request: slug → (dataset, offering organisation)."""
    datasets = {d.slug: d for d in store.list_datasets()}
    out: dict[str, tuple[Dataset, str]] = {}
    for c in store.list_capacities(kind=CapacityKind.ON_REQUEST):
        ds = datasets.get(c.ref)
        if ds is not None and _offer_holds(c, ds):
            out.setdefault(ds.slug, (ds, c.organisation))
    return out


def on_request_for(store: SqlStore, who: Principal) -> list[dict[str, str]]:
    """What ``who`` may ask for: offered datasets they cannot read yet —
    identifier, titles and holder only, never the data or its description."""
    return [
        {
            "dataset": ds.slug,
            "title": ds.title,
            "title_en": ds.title_en or ds.title,
            "holder": holder,
        }
        for ds, holder in offered(store).values()
        if not access.can_read(who, ds)
    ]
