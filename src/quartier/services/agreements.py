"""Data-sharing agreements: made by the holder's stewards, they let partner
organisations read restricted datasets while in force (see
:mod:`quartier.domain.agreements`); the grants reach every output through
the callers' :class:`~quartier.access.Principal`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from quartier import access
from quartier.access import Principal
from quartier.domain.agreements import Agreement, AgreementStatus, check, in_force
from quartier.errors import InvalidInput, NotFound, PermissionDenied
from quartier.storage.base import SqlStore, now


def as_json(a: Agreement) -> dict[str, Any]:
    return {
        "id": a.id,
        "title": a.title,
        "holder": a.holder,
        "partners": list(a.partners),
        "datasets": list(a.datasets),
        "purpose": a.purpose,
        "starts": a.starts,
        "ends": a.ends,
        "status": a.status.value,
        "created": a.created,
        "updated": a.updated,
    }


def readable_slugs(store: SqlStore, who: Principal) -> set[str]:
    return {d.slug for d in access.readable(who, store.list_datasets())}


def as_json_for(
    a: Agreement, who: Principal, readable: set[str] | None = None, *, store: SqlStore
) -> dict[str, Any]:
    """:func:`as_json` naming only the datasets ``who`` may read: a party's
    member must not learn of a dataset the agreement does not (or no longer)
    open to them."""
    seen = readable if readable is not None else readable_slugs(store, who)
    return as_json(a) | {"datasets": [d for d in a.datasets if d in seen]}


def create(store: SqlStore, who: Principal, draft: Agreement) -> Agreement:
    """Check and store an agreement; every dataset must be the holder's."""
    a = check(draft)
    for org in (a.holder, *a.partners):
        try:
            store.get_organisation(org)
        except NotFound:
            raise InvalidInput(f"no organisation {org!r}") from None
    for slug in a.datasets:
        try:
            ds = store.get_dataset(slug)
        except NotFound:
            raise InvalidInput(f"datasets: no dataset {slug!r}") from None
        if not access.can_read(who, ds):
            raise InvalidInput(f"datasets: no dataset {slug!r}")
        if not access.can_share(who, a.holder, ds):
            raise PermissionDenied(
                f"{who.label} may not share {slug!r} for {a.holder!r}: the holder "
                "must produce or steward it, and you be an admin or steward there"
            )
    made = store.add_agreement(replace(a, created=now(), author=who.label))
    store.audit(
        actor=who.label,
        action="agreement.add",
        target=a.id,
        detail={"partners": list(a.partners), "datasets": list(a.datasets)},
    )
    return made


def set_status(
    store: SqlStore, who: Principal, agreement_id: str, status: AgreementStatus
) -> Agreement:
    a = visible(store, who, agreement_id)
    if not (who.is_admin or access.can_create(who, a.holder)):
        raise PermissionDenied(
            f"{who.label} may not change agreement {a.id!r}: it takes an admin or "
            f"steward of {a.holder!r}"
        )
    done = store.set_agreement_status(a.id, status, at=now())
    store.audit(
        actor=who.label,
        action=f"agreement.{status.value}",
        target=a.id,
        detail={},
    )
    return done


def visible(store: SqlStore, who: Principal, agreement_id: str) -> Agreement:
    a = store.get_agreement(agreement_id)
    if not access.can_see_agreement(who, a.holder, a.partners):
        raise NotFound(f"no agreement {agreement_id!r}")
    return a


def listed(store: SqlStore, who: Principal) -> list[Agreement]:
    return [
        a
        for a in store.list_agreements()
        if access.can_see_agreement(who, a.holder, a.partners)
    ]


def grants_for(
    store: SqlStore, organisations: Iterable[str], today: dt.date | None = None
) -> frozenset[str]:
    """Datasets the members of ``organisations`` may read through agreements
    in force ``today``."""
    orgs = set(organisations)
    if not orgs:
        return frozenset()
    day = today or dt.date.today()
    return frozenset(
        slug
        for a in store.list_agreements(status=AgreementStatus.ACTIVE)
        if orgs & set(a.partners) and in_force(a, day)
        for slug in a.datasets
    )
