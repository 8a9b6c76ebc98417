"""Access requests: a partner asks for a restricted dataset offered on
request; its stewards approve (which makes a data-sharing agreement, so the
access then flows through the one authorisation layer) or refuse."""

from __future__ import annotations

import datetime as dt
from typing import Any

from quartier import access
from quartier.access import Principal
from quartier.domain.agreements import Agreement, AgreementStatus
from quartier.domain.catalogue import Dataset
from quartier.domain.ecosystem import (
    AccessRequest,
    RequestStatus,
    agreement_id,
    check_decision,
    check_request,
)
from quartier.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from quartier.services import agreements
from quartier.services.capacities import offered
from quartier.storage.base import SqlStore, now


def as_json(r: AccessRequest) -> dict[str, Any]:
    return {
        "id": r.id,
        "dataset": r.dataset,
        "requester": r.requester,
        "organisation": r.organisation,
        "purpose": r.purpose,
        "starts": r.starts,
        "ends": r.ends,
        "status": r.status.value,
        "created": r.created,
        "decided_by": r.decided_by,
        "decided_at": r.decided_at,
        "reason": r.reason,
        "agreement": r.agreement or None,
    }


def requestable(store: SqlStore, who: Principal, slug: str) -> Dataset:
    """The dataset ``who`` may ask for: offered on request and not readable
    yet. Anything else that ``who`` cannot see is "unknown", as everywhere."""
    try:
        ds = store.get_dataset(slug)
    except NotFound:
        raise NotFound(f"no dataset {slug!r}") from None
    if access.can_read(who, ds):
        raise InvalidInput(f"dataset: you may already read {slug!r}")
    if slug not in offered(store):
        raise NotFound(f"no dataset {slug!r}")
    return ds


def ask(
    store: SqlStore,
    who: Principal,
    slug: str,
    *,
    purpose: str,
    starts: str = "",
    ends: str = "",
    organisation: str = "",
) -> AccessRequest:
    """A signed-in member of an organisation asks for ``slug``."""
    access.require_signed_in(who)
    ds = requestable(store, who, slug)
    org = organisation or _only_org(who)
    if not access.can_ask_access(who, org):
        raise InvalidInput(f"organisation: you are not a member of {org!r}")
    if org in (ds.producer, ds.steward):
        raise InvalidInput(f"organisation: {org!r} already holds {slug!r}")
    today = dt.date.today()
    r = check_request(
        AccessRequest(
            0,
            ds.slug,
            who.label,
            org,
            purpose.strip(),
            starts or today.isoformat(),
            ends or (today + dt.timedelta(days=365)).isoformat(),
            created=now(),
        )
    )
    mine = store.list_access_requests(requester=who.label, status=RequestStatus.PENDING)
    if any(x.dataset == ds.slug for x in mine):
        raise Conflict(f"you already have a pending request for {slug!r}")
    made = store.add_access_request(r)
    store.audit(
        actor=who.label,
        action="access_request.add",
        target=str(made.id),
        detail={"dataset": ds.slug, "organisation": org},
    )
    return made


def _only_org(who: Principal) -> str:
    if len(who.roles) == 1:
        return next(iter(who.roles))
    if not who.roles:
        raise InvalidInput(
            "organisation: only members of an organisation may ask for data"
        )
    raise InvalidInput(
        "organisation: say for which organisation you ask ("
        + ", ".join(sorted(who.roles))
        + ")"
    )


def _dataset_of(store: SqlStore, r: AccessRequest) -> Dataset:
    try:
        return store.get_dataset(r.dataset)
    except NotFound:  # removed since: only its requester and admins still see it
        return Dataset(slug=r.dataset, title=r.dataset)


def visible(store: SqlStore, who: Principal, request_id: int) -> AccessRequest:
    r = store.get_access_request(request_id)
    if not access.can_see_access_request(who, _dataset_of(store, r), r.requester):
        raise NotFound(f"no access request {request_id}")
    return r


def listed(store: SqlStore, who: Principal) -> list[AccessRequest]:
    """One's own requests and those about datasets one may share."""
    if who.is_admin:
        return store.list_access_requests()
    stewarded = [
        d.slug for d in store.list_datasets() if access.sharing_holders(who, d)
    ]
    return store.list_access_requests(requester=who.label, datasets=stewarded)


def to_decide(store: SqlStore, who: Principal) -> list[AccessRequest]:
    """Pending requests ``who`` may approve or refuse."""
    return [
        r
        for r in listed(store, who)
        if r.status is RequestStatus.PENDING
        and access.can_decide_access_request(who, _dataset_of(store, r), r.requester)
    ]


def decide(
    store: SqlStore, who: Principal, request_id: int, *, approve: bool, reason: str = ""
) -> AccessRequest:
    """Approve (creating the agreement) or refuse (with a reason)."""
    r = visible(store, who, request_id)
    ds = _dataset_of(store, r)
    if not access.can_decide_access_request(who, ds, r.requester):
        raise PermissionDenied(
            f"{who.label} may not decide access request {r.id}: it takes an admin "
            "or steward of the dataset's holder, and nobody decides their own request"
        )
    status = RequestStatus.APPROVED if approve else RequestStatus.REFUSED
    check_decision(r, status, reason)
    made = ""
    if approve:
        # the agreement is made as a draft (it opens nothing), the request
        # decided only if still pending, then the agreement put in force: a
        # failure in between never leaves access granted on a pending request
        made = _agreement_for(store, who, r, ds).id
    try:
        done = store.decide_access_request(
            r.id, status, by=who.label, at=now(), reason=reason.strip(), agreement=made
        )
    except Exception:
        if made:  # withdrawn or decided meanwhile, or the store failed
            agreements.set_status(store, who, made, AgreementStatus.ENDED)
        raise
    if made:
        agreements.set_status(store, who, made, AgreementStatus.ACTIVE)
    store.audit(
        actor=who.label,
        action=f"access_request.{status.value}",
        target=str(r.id),
        detail={"dataset": r.dataset, "agreement": made},
    )
    return done


def _agreement_for(
    store: SqlStore, who: Principal, r: AccessRequest, ds: Dataset
) -> Agreement:
    holders = access.sharing_holders(who, ds)
    if not holders:
        raise PermissionDenied(f"{ds.slug!r} has no holder organisation to share it")
    return agreements.create(
        store,
        who,
        Agreement(
            _free_id(store, agreement_id(r.id)),
            # no dataset title: the agreement outlives the access it opens
            f"Demande d'accès n° {r.id} — {r.organisation}",
            holders[0],
            (r.organisation,),
            (ds.slug,),
            r.purpose,
            r.starts,
            r.ends,
            AgreementStatus.DRAFT,
        ),
    )


def _free_id(store: SqlStore, wanted: str) -> str:
    """``wanted``, or ``wanted-2``… when taken (a request renumbered by a
    migration, or the draft left by an approval that failed)."""
    taken = {a.id for a in store.list_agreements()}
    n, candidate = 1, wanted
    while candidate in taken:
        n += 1
        candidate = f"{wanted}-{n}"
    return candidate


def withdraw(store: SqlStore, who: Principal, request_id: int) -> AccessRequest:
    r = visible(store, who, request_id)
    if not access.is_reporter(who, r.requester):
        raise PermissionDenied("only whoever sent a request may withdraw it")
    check_decision(r, RequestStatus.WITHDRAWN, "")
    done = store.decide_access_request(
        r.id, RequestStatus.WITHDRAWN, by=who.label, at=now()
    )
    store.audit(
        actor=who.label,
        action="access_request.withdrawn",
        target=str(r.id),
        detail={"dataset": r.dataset},
    )
    return done
