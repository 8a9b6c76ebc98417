"""The one authorisation layer: who may see or change what.

Every output — OGC items, tiles, downloads, exports, the DCAT catalogue,
search, the change feed, webhooks, forms, the portal — asks this module and
nothing else. It is pure: it reads a :class:`Principal` and a dataset's
metadata, never the store or the request.

Rules (documented in ``docs/architecture.md``):

======================  =====================================================
access level            who may read the dataset
======================  =====================================================
``public``              everyone, anonymous included
``partners``            any signed-in user with a role in an organisation
``restricted``          members (any role) of the producer or steward
``confidential``        admin, steward or moderator of the producer or steward
======================  =====================================================

Platform administrators may read and change everything. Sensitive fields
(personal data) are removed from every output unless the caller is an admin,
steward or moderator of the producer or steward organisation. Changing a
dataset (new version, metadata, access level, restore) takes an admin or
steward role in its producer or steward organisation.

A dataset the caller may not read does not exist for them: callers get the
same "not found" as for an unknown identifier, so restricted names never leak.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from quartier.domain.accounts import Role
from quartier.domain.campaigns import Campaign, CampaignStatus
from quartier.domain.catalogue import AccessLevel, Dataset
from quartier.errors import NotFound, PermissionDenied, Unauthenticated

_EDITORS = frozenset({Role.ADMIN, Role.STEWARD})
_CUSTODIANS = frozenset({Role.ADMIN, Role.STEWARD, Role.MODERATOR})


@dataclass(frozen=True)
class Principal:
    """Who is asking: a user (with roles per organisation) or nobody."""

    username: str | None = None
    is_admin: bool = False
    roles: Mapping[str, Role] = field(default_factory=dict)
    #: how the caller was identified: anonymous, session, token, local
    via: str = "anonymous"
    #: datasets readable through data-sharing agreements in force today
    grants: frozenset[str] = frozenset()

    @property
    def authenticated(self) -> bool:
        return self.username is not None

    @property
    def label(self) -> str:
        """The name written in the audit log."""
        return self.username or "anonymous"


ANONYMOUS = Principal()
#: the operator at the machine (CLI): owns the workspace file or database
LOCAL = Principal(username="local", is_admin=True, via="local")


def _role_in(p: Principal, ds: Dataset) -> set[Role]:
    orgs = {o for o in (ds.producer, ds.steward) if o}
    return {role for org, role in p.roles.items() if org in orgs}


def can_read(p: Principal, ds: Dataset) -> bool:
    """May ``p`` see that ``ds`` exists and read its (masked) features?"""
    if p.is_admin:
        return True
    level = AccessLevel(ds.access)
    if level is AccessLevel.PUBLIC:
        return True
    if not p.authenticated:
        return False
    if ds.slug in p.grants:  # a data-sharing agreement in force
        return True
    if level is AccessLevel.PARTNERS:
        return bool(p.roles)
    roles = _role_in(p, ds)
    if level is AccessLevel.RESTRICTED:
        return bool(roles)
    return bool(roles & _CUSTODIANS)  # confidential


def can_share(p: Principal, holder: str, ds: Dataset) -> bool:
    """May ``p`` share ``ds`` in an agreement of ``holder``? The holder must
    produce or steward it, and ``p`` be an admin or steward there."""
    if holder not in (ds.producer, ds.steward):
        return False
    return p.is_admin or p.roles.get(holder) in _EDITORS


def can_see_agreement(p: Principal, holder: str, partners: Iterable[str]) -> bool:
    """Agreements are seen by administrators and members of their parties."""
    return p.is_admin or any(o in p.roles for o in (holder, *partners))


def can_write(p: Principal, ds: Dataset) -> bool:
    """May ``p`` add versions, edit metadata, change access, restore?"""
    return p.is_admin or bool(_role_in(p, ds) & _EDITORS)


def can_create(p: Principal, organisation: str | None) -> bool:
    """May ``p`` create a dataset produced by ``organisation``?"""
    if p.is_admin:
        return True
    return organisation is not None and p.roles.get(organisation) in _EDITORS


def can_manage(p: Principal, organisation: str | None = None) -> bool:
    """Users, roles and tokens of an organisation (or the platform: admins)."""
    if p.is_admin:
        return True
    return organisation is not None and p.roles.get(organisation) is Role.ADMIN


def can_edit_reference(p: Principal) -> bool:
    """The city's reference list of essential datasets frames its diagnostic:
    platform administrators change it."""
    return p.is_admin


def can_collect(p: Principal, organisation: str | None) -> bool:
    """May ``p`` see and fill the forms of ``organisation`` (send submissions)?
    Contributors and every role above them."""
    if p.is_admin:
        return True
    role = p.roles.get(organisation) if organisation else None
    return role is not None and role is not Role.VIEWER


def can_moderate(p: Principal, organisation: str | None) -> bool:
    """May ``p`` approve, reject or flag the submissions to its forms?"""
    if p.is_admin:
        return True
    role = p.roles.get(organisation) if organisation else None
    return role in (Role.ADMIN, Role.STEWARD, Role.MODERATOR)


def can_review(p: Principal, organisation: str | None, submitter: str) -> bool:
    """May ``p`` review this submission? A moderator of the organisation who
    did not send it (four eyes); an administrator always."""
    if p.is_admin:
        return True
    return can_moderate(p, organisation) and p.label != submitter


def hidden_fields(p: Principal, ds: Dataset) -> frozenset[str]:
    """Sensitive fields ``p`` must not see in any output of ``ds``."""
    if not ds.sensitive_fields or p.is_admin or _role_in(p, ds) & _CUSTODIANS:
        return frozenset()
    return frozenset(ds.sensitive_fields)


def must_audit_read(ds: Dataset) -> bool:
    """Reads of restricted and confidential data are written to the audit log."""
    return AccessLevel(ds.access) in (AccessLevel.RESTRICTED, AccessLevel.CONFIDENTIAL)


def require_read(p: Principal, ds: Dataset) -> Dataset:
    if not can_read(p, ds):
        raise NotFound(f"no dataset {ds.slug!r}")
    return ds


def require_write(p: Principal, ds: Dataset) -> Dataset:
    require_read(p, ds)
    if not can_write(p, ds):
        raise PermissionDenied(
            f"{p.label} may not change dataset {ds.slug!r}: it takes an admin or "
            "steward role in its producer or steward organisation"
        )
    return ds


def require_manage(p: Principal, organisation: str | None = None) -> None:
    if not can_manage(p, organisation):
        raise PermissionDenied(
            f"{p.label} may not manage "
            + (f"organisation {organisation!r}" if organisation else "the platform")
        )


def require_signed_in(p: Principal) -> Principal:
    if not p.authenticated:
        raise Unauthenticated("sign in or send an API token")
    return p


D = TypeVar("D", bound=Dataset)


def readable(p: Principal, datasets: Iterable[D]) -> list[D]:
    """The datasets ``p`` may see, in the given order."""
    return [ds for ds in datasets if can_read(p, ds)]


def visible_columns(p: Principal, ds: Dataset, columns: Sequence[str]) -> list[str]:
    """``columns`` minus the sensitive ones ``p`` may not see."""
    hidden = hidden_fields(p, ds)
    return [c for c in columns if c not in hidden]


# ---------------------------------------------------------------- reports
# A report's personal data (name, contact, reporter account) is seen only by
# those who handle it and by the reporter themself; see docs/reports.md.


def can_handle_report(p: Principal, organisation: str | None) -> bool:
    """May ``p`` change the status of, hide, and see the personal data of the
    reports ``organisation`` handles? Its admins, stewards and moderators;
    platform admins handle every report (and those of no organisation)."""
    if p.is_admin:
        return True
    return bool(organisation) and p.roles.get(organisation or "") in _CUSTODIANS


def contest_handler(ds: Dataset) -> str:
    """The organisation that handles residents' contests of ``ds``'s
    features: its steward, else its producer ("" when it has neither)."""
    return ds.steward or ds.producer or ""


def can_handle_contests(p: Principal, ds: Dataset) -> bool:
    """May ``p`` see and handle the contests of ``ds`` (and who sent them)?
    The admins, stewards and moderators of :func:`contest_handler`, while
    they may read the dataset; platform admins."""
    return can_read(p, ds) and can_handle_report(p, contest_handler(ds))


def handled_organisations(p: Principal) -> list[str] | None:
    """The organisations whose reports ``p`` handles (None: all of them)."""
    if p.is_admin:
        return None
    return sorted(org for org, role in p.roles.items() if role in _CUSTODIANS)


def is_reporter(p: Principal, reporter: str) -> bool:
    return p.authenticated and bool(reporter) and p.username == reporter


def can_see_report_private(p: Principal, organisation: str, reporter: str) -> bool:
    """Name, contact and account of whoever sent the report."""
    return can_handle_report(p, organisation) or is_reporter(p, reporter)


def can_see_report(
    p: Principal,
    *,
    organisation: str,
    reporter: str,
    hidden: bool,
    contest_of: Dataset | None = None,
) -> bool:
    """Public reports are seen by all; hidden ones by their handlers (and
    reporter). A contest is seen by its handlers and author only, and only
    while they may read the dataset it is about."""
    if contest_of is not None:
        return can_read(p, contest_of) and can_see_report_private(
            p, organisation, reporter
        )
    return not hidden or can_see_report_private(p, organisation, reporter)


# ------------------------------------------------------------- campaigns
# A campaign is seen by everyone once active or closed when it is public,
# else by its organisation's members; a draft only by its managers. Any
# signed-in user may map an active public campaign (as in the HOT Tasking
# Manager); a non-public one takes a contributor role or above in the
# organisation. Validators are its moderators, stewards and admins; managers
# (create, edit, change status) its admins and stewards.


def can_manage_campaign(p: Principal, organisation: str | None) -> bool:
    """May ``p`` create or change the campaigns of ``organisation``?"""
    return can_create(p, organisation)


def can_see_campaign(p: Principal, c: Campaign) -> bool:
    if can_manage_campaign(p, c.organisation):
        return True
    if c.status is CampaignStatus.DRAFT:
        return False
    return c.public or c.organisation in p.roles


def can_map_campaign(p: Principal, c: Campaign) -> bool:
    """May ``p`` take and map cells (the campaign must be active)?"""
    if not p.authenticated or c.status is not CampaignStatus.ACTIVE:
        return False
    return can_see_campaign(p, c) and (c.public or can_collect(p, c.organisation))


def can_validate_campaign(p: Principal, c: Campaign) -> bool:
    """May ``p`` validate or invalidate what others mapped?"""
    return can_map_campaign(p, c) and can_moderate(p, c.organisation)


def can_see_contributors(p: Principal, c: Campaign) -> bool:
    """User names in a campaign's statistics and cell histories are personal
    data: shown to its validators and managers only (others see counts, and
    their own name)."""
    return can_moderate(p, c.organisation) or can_manage_campaign(p, c.organisation)


def can_attach_form(p: Principal, organisation: str, c: Campaign) -> bool:
    """May a form of ``organisation``, published by ``p``, name campaign
    ``c``? Only a form of the campaign's own organisation: its submissions
    count in the campaign's statistics and its contributors' names reach the
    campaign's validators. ``p`` must see the campaign."""
    return organisation == c.organisation and can_see_campaign(p, c)


def campaign_form(c: Campaign, organisation: str | None) -> bool:
    """Does a form of ``organisation`` that lists or names ``c`` count as one
    of the campaign's forms? Only one of the campaign's organisation."""
    return organisation == c.organisation


def can_see_campaign_forms(p: Principal, c: Campaign) -> bool:
    """May ``p`` see which forms a campaign has (ids, titles)? Those who may
    fill them: the organisation's contributors and above (``can_collect``);
    others are told to sign in or join the organisation."""
    return can_collect(p, c.organisation)


def can_see_campaign_dataset(p: Principal, c: Campaign, ds: Dataset | None) -> bool:
    """May ``p`` see which dataset a campaign completes? Only if ``p`` may
    read that dataset (its slug alone can reveal a restricted dataset)."""
    return ds is not None and ds.slug == c.dataset and can_read(p, ds)


def require_see_campaign(p: Principal, c: Campaign) -> Campaign:
    if not can_see_campaign(p, c):
        raise NotFound(f"no campaign {c.slug!r}")
    return c


def require_manage_campaign(p: Principal, organisation: str) -> None:
    if not can_manage_campaign(p, organisation):
        raise PermissionDenied(
            f"{p.label} may not manage campaigns of {organisation!r}: it takes an "
            "admin or steward role there"
        )


# ------------------------------------------------------------- programme
# Objectives and roadmap items are public programme information (the founding
# text: communicate publicly); the datasets they name are shown only to those
# who may read them. They are made and changed by platform admins and the
# admins and stewards of their owner (objective) or responsible (roadmap)
# organisation — as agreements are by their holder's.


def can_edit_programme(p: Principal, organisation: str | None) -> bool:
    """May ``p`` create or change the objectives or roadmap items that
    ``organisation`` owns or is responsible for?"""
    return can_create(p, organisation)


def programme_datasets(
    p: Principal, slugs: Iterable[str], catalogue: Mapping[str, Dataset]
) -> list[str]:
    """The datasets named by an objective or roadmap item that ``p`` may see
    (an unknown or hidden one is left out, never named)."""
    return [s for s in slugs if s in catalogue and can_read(p, catalogue[s])]


def require_edit_programme(p: Principal, organisation: str, what: str) -> None:
    if not can_edit_programme(p, organisation):
        raise PermissionDenied(
            f"{p.label} may not change {what}: it takes an admin or steward "
            f"role in {organisation!r}"
        )


# ------------------------------------------------------------- ecosystem
# Capacities are declared by an organisation's managers (its admins and
# stewards) or platform admins. An access request is seen by whoever sent
# it, by those who may share the dataset (``can_share``: the admins and
# stewards of its producer or steward) and by platform admins; it is
# decided by the latter, never by its own author. See docs/ecosystem.md.


def can_declare_capacities(p: Principal, organisation: str) -> bool:
    """May ``p`` declare what ``organisation`` can do, produce or offer?"""
    return can_create(p, organisation)


def sharing_holders(p: Principal, ds: Dataset) -> list[str]:
    """The holders of ``ds`` (steward first, then producer) for which ``p``
    may share it in an agreement."""
    holders = dict.fromkeys(o for o in (ds.steward, ds.producer) if o)
    return [o for o in holders if can_share(p, o, ds)]


def can_offer_on_request(p: Principal, organisation: str, ds: Dataset) -> bool:
    """May ``p`` list ``ds`` as available on request from ``organisation``?
    (Its title and holder then show to everyone; never its data.)"""
    return can_share(p, organisation, ds)


def can_ask_access(p: Principal, organisation: str) -> bool:
    """May ``p`` ask for data on behalf of ``organisation``? Any member."""
    return p.authenticated and organisation in p.roles


def can_see_access_request(p: Principal, ds: Dataset, requester: str) -> bool:
    return p.is_admin or is_reporter(p, requester) or bool(sharing_holders(p, ds))


def can_decide_access_request(p: Principal, ds: Dataset, requester: str) -> bool:
    """Approve or refuse: those who may share the dataset, never the author."""
    if p.label == requester:
        return False
    return p.is_admin or bool(sharing_holders(p, ds))
