"""Residents' reports in the portal: ``/signalements`` (map, list, the
"Signaler" form), ``/signalements/{id}`` (a report and its history),
``/signalements/contester`` (confirm or contest a map feature) and the
moderators' console page ``/console/signalements``.

Pages show the public view of reports only; personal data appears on the
console page, to those ``access`` lets handle the report. Writes go through
the platform API (``/api/reports…``) from the page's scripts.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from quartier import access
from quartier.domain.reports import Category, ReportKind, ReportStatus
from quartier.errors import NotFound, PermissionDenied
from quartier.i18n import N_ as _
from quartier.services import reports as service
from quartier.web.deps import context
from quartier.web.portal.console_common import Caller, ConsoleRoute, console, signed_in
from quartier.web.portal.explorer import map_config, map_layers
from quartier.web.portal.render import Page, page, render
from quartier.web.portal.routing import PortalRoute

router = APIRouter(include_in_schema=False, route_class=PortalRoute)
console_router = APIRouter(
    include_in_schema=False,
    default_response_class=HTMLResponse,
    route_class=ConsoleRoute,
)

STATUS_LABELS = {
    ReportStatus.RECEIVED: _("reçu"),
    ReportStatus.IN_PROGRESS: _("en cours"),
    ReportStatus.RESOLVED: _("résolu"),
    ReportStatus.REJECTED: _("rejeté"),
}
ACTION_LABELS = {
    "created": _("Signalement reçu"),
    "status": _("Statut changé"),
    "hidden": _("Masqué par la modération"),
    "shown": _("Rendu visible par la modération"),
}
VERDICT_LABELS = {"correct": _("C'est juste"), "wrong": _("C'est faux ici")}
#: strings of the reports page's script
STRINGS = {
    "tapMap": _("Touchez la carte à l'endroit du problème, ou utilisez le GPS."),
    "placed": _("Position choisie : %(lat)s, %(lon)s"),
    "noGps": _("La position GPS n'est pas disponible sur cet appareil."),
    "gpsFailed": _("Le GPS n'a pas donné de position : touchez la carte."),
    "needPlace": _("Indiquez l'endroit sur la carte (ou avec le GPS)."),
    "sending": _("Envoi en cours…"),
    "sent": _("Merci ! Votre signalement est reçu."),
    "network": _(
        "Le serveur ne répond pas : votre signalement sera renvoyé, réessayez."
    ),
    "failed": _("L'envoi a échoué (erreur %(status)s)."),
    "tooMany": _("Trop d'envois depuis cette connexion : réessayez dans un moment."),
    "see": _("Voir le signalement"),
    "already": _("Ce signalement avait déjà été reçu."),
    "alreadyContest": _("Votre avis avait déjà été reçu. Merci !"),
}
PAGE_SIZE = 50


def categories(request: Request) -> tuple[Category, ...]:
    return service.categories(context(request).settings.report_categories)


def category_label(pg: Page, cats: tuple[Category, ...], code: str) -> str:
    for c in cats:
        if c.code == code:
            return pg.t.pick(c.label, c.label_en)
    return code


@router.get("/signalements", response_class=HTMLResponse)
def reports_page(
    request: Request,
    who: Caller,
    statut: Annotated[ReportStatus | None, Query()] = None,
    categorie: Annotated[str | None, Query(max_length=48)] = None,
    page_no: Annotated[int, Query(alias="page", ge=1, le=10_000)] = 1,
) -> HTMLResponse:
    pg = page(request, who)
    store = context(request).store
    cats = categories(request)
    found = store.list_reports(
        kind=ReportKind.REPORT,
        status=statut,
        category=categorie or None,
        limit=PAGE_SIZE + 1,
        offset=(page_no - 1) * PAGE_SIZE,
    )
    layers = map_layers(store, pg, access.readable(who, store.list_datasets()))
    config = map_config(request, pg, [la for la in layers if la.base])
    config["strings"] |= pg.t.strings(STRINGS)
    config["reports"] = [_marker(r) for r in found[:PAGE_SIZE]]
    return render(
        pg,
        "reports.html",
        active="reports",
        reports=[_row(pg, cats, r) for r in found[:PAGE_SIZE]],
        more=len(found) > PAGE_SIZE,
        page_no=page_no,
        categories=[(c.code, pg.t.pick(c.label, c.label_en)) for c in cats],
        statuses=[(s.value, pg._(label)) for s, label in STATUS_LABELS.items()],
        chosen={"statut": statut.value if statut else "", "categorie": categorie or ""},
        config=config,
    )


@router.get("/signalements/contester", response_class=HTMLResponse)
def contest_page(
    request: Request,
    who: Caller,
    jeu: Annotated[str, Query(max_length=48, pattern=r"^[a-z][a-z0-9_]{0,47}$")],
    objet: Annotated[str, Query(max_length=20, pattern=r"^-?[0-9]+$")],
    version: Annotated[int, Query(ge=1, le=2**31 - 1)],
    lon: Annotated[float | None, Query(ge=-180, le=180)] = None,
    lat: Annotated[float | None, Query(ge=-90, le=90)] = None,
) -> HTMLResponse:
    """Confirm or contest one feature, as seen on the map (dataset version)."""
    pg = page(request, who)
    store = context(request).store
    ds = access.require_read(who, store.get_dataset(jeu))
    # the same checks as the API, before the resident writes anything
    service.check_contest_target(store, ds, objet, version, lon, lat)
    return render(
        pg,
        "contest.html",
        active="reports",
        dataset=ds,
        title=pg.t.pick(ds.title, ds.title_en) or ds.slug,
        fid=objet,
        version=version,
        lon=lon,
        lat=lat,
        strings=pg.t.strings(STRINGS),
        verdicts=[(k, pg._(v)) for k, v in VERDICT_LABELS.items()],
    )


@router.get("/signalements/{report_id}", response_class=HTMLResponse)
def report_page(request: Request, who: Caller, report_id: str) -> HTMLResponse:
    pg = page(request, who)
    store = context(request).store
    report = service.readable(store, who, report_id)
    if report.kind is not ReportKind.REPORT:
        raise NotFound(f"no report {report_id!r}")
    names = {o.slug: o.name for o in store.list_organisations()}
    return render(
        pg,
        "report.html",
        active="reports",
        report=_row(pg, categories(request), report),
        history=[_event(pg, e, names) for e in service.history(store, who, report)],
    )


@console_router.get("/console/signalements")
def console_reports(
    request: Request,
    who: Caller,
    statut: Annotated[ReportStatus | None, Query()] = None,
    page_no: Annotated[int, Query(alias="page", ge=1, le=100_000)] = 1,
    avis: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> HTMLResponse:
    """The queue of the reports the caller handles, with personal data; the
    reports and the contests are paged apart (``page``, ``avis``); counts
    come from the store, not from the page shown."""
    pg = signed_in(request, who)
    store = context(request).store
    orgs = access.handled_organisations(pg.who)
    if orgs is not None and not orgs:
        raise PermissionDenied(
            "the reports console needs an admin, steward or moderator role"
        )
    cats = categories(request)
    queue = store.list_reports(
        kind=ReportKind.REPORT,
        status=statut,
        organisations=orgs,
        hidden=None,
        limit=PAGE_SIZE + 1,
        offset=(page_no - 1) * PAGE_SIZE,
    )
    counts = store.count_reports(
        kind=ReportKind.REPORT, organisations=orgs, hidden=None
    )
    contests = store.list_reports(
        kind=ReportKind.CONTEST,
        organisations=orgs,
        hidden=None,
        limit=PAGE_SIZE + 1,
        offset=(avis - 1) * PAGE_SIZE,
    )
    return console(
        pg,
        "reports.html",
        "reports",
        queue=[_row(pg, cats, r) | {"private": r} for r in queue[:PAGE_SIZE]],
        more=len(queue) > PAGE_SIZE,
        page_no=page_no,
        total=counts.get(statut.value, 0) if statut else sum(counts.values()),
        contests=_contest_groups(pg, store, contests[:PAGE_SIZE], orgs),
        more_contests=len(contests) > PAGE_SIZE,
        contests_page=avis,
        statuses=[(s.value, pg._(label)) for s, label in STATUS_LABELS.items()],
        counts=counts,
        chosen=statut.value if statut else "",
    )


# ------------------------------------------------------------------ helpers
def _marker(report: Any) -> dict[str, Any]:
    return {
        "id": report.id,
        "lon": report.lon,
        "lat": report.lat,
        "status": report.status.value,
    }


def _row(pg: Page, cats: tuple[Category, ...], report: Any) -> dict[str, Any]:
    view = service.public_view(report)
    return view | {
        "category_label": category_label(pg, cats, report.category),
        "status_label": pg._(STATUS_LABELS[report.status]),
        "created_label": pg.t.date(report.created, time=True),
        "hidden": report.hidden,
    }


def _event(pg: Page, e: dict[str, Any], names: dict[str, str]) -> dict[str, Any]:
    return e | {
        "by": names.get(e["by"], e["by"]),
        "label": pg._(ACTION_LABELS.get(e["action"], e["action"])),
        "status_label": pg._(STATUS_LABELS[ReportStatus(e["status"])]),
        "at_label": pg.t.date(e["at"], time=True),
    }


def _contest_groups(
    pg: Page, store: Any, contests: list[Any], orgs: list[str] | None
) -> list[dict[str, Any]]:
    """A page of contests by dataset (readable datasets only), each with the
    counts by verdict of all its contests the caller handles."""
    groups: dict[str, dict[str, Any]] = {}
    for c in contests:
        if c.dataset not in groups:
            try:
                ds = access.require_read(pg.who, store.get_dataset(c.dataset))
            except NotFound:
                continue
            groups[c.dataset] = {
                "slug": ds.slug,
                "title": pg.t.pick(ds.title, ds.title_en) or ds.slug,
                "counts": store.count_reports(
                    kind=ReportKind.CONTEST,
                    dataset=ds.slug,
                    organisations=orgs,
                    hidden=None,
                ),
                "items": [],
            }
        groups[c.dataset]["items"].append(
            {"report": c, "verdict_label": pg._(VERDICT_LABELS.get(c.verdict, ""))}
        )
    return list(groups.values())
