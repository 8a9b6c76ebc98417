"""Web forms in the portal (``/formulaires``): fill the organisation's
XLSForms in the browser, online or offline.

Who may fill a form is Collect's rule (``access.can_collect``: contributors
of the form's organisation and up), so the pages need a signed-in user, like
ODK Central's app users; there are no anonymous public forms. The page
carries the form as JSON (:func:`quartier.forms.webform.describe`, labels in
the portal language); the browser renders it, builds the instance XML
Collect would send and posts it to ``POST /api/forms/{id}/submissions``
through an IndexedDB queue. A service worker (``/formulaires/sw.js``, scope
``/formulaires/``) keeps the pages and scripts for offline use.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from quartier import __version__, access
from quartier.access import Principal
from quartier.forms.webform import describe
from quartier.i18n import N_
from quartier.services import accounts, collect
from quartier.web.deps import SESSION_COOKIE, context, principal
from quartier.web.portal.explorer import map_config, map_layers
from quartier.web.portal.render import page, render
from quartier.web.portal.routing import PortalRoute
from quartier.web.portal.static import STATIC_DIR
from quartier.web.responses import JSONResponse

router = APIRouter(
    include_in_schema=False,
    default_response_class=HTMLResponse,
    route_class=PortalRoute,
)
Caller = Annotated[Principal, Depends(principal)]

STRINGS = {
    "required": N_("Réponse obligatoire."),
    "invalid": N_("Réponse non valide."),
    "number": N_("Un nombre est attendu."),
    "integer": N_("Un nombre entier est attendu."),
    "fix": N_("Corrigez les réponses signalées."),
    "queued": N_("Réponse enregistrée sur l'appareil : elle partira dès que possible."),
    "sent": N_("Réponse envoyée : en attente de modération."),
    "pending0": N_("Aucun envoi en attente."),
    "pending1": N_("1 envoi en attente."),
    "pendingN": N_("{n} envois en attente."),
    "offline": N_("Hors ligne : les réponses restent sur l'appareil."),
    "signin": N_(
        "Votre session a expiré : reconnectez-vous pour envoyer les réponses "
        "en attente (elles restent sur l'appareil)."
    ),
    "error": N_("Dernière erreur : {error}"),
    "parked": N_(
        "Réponse du {created} refusée par le serveur : {error}. Elle ne "
        "repartira pas seule."
    ),
    "delete": N_("Supprimer"),
    "retry": N_("Réessayer"),
    "noUser": N_("Réponse sans auteur connu : elle ne sera pas envoyée."),
    "noSession": N_(
        "Impossible de vérifier qui est connecté sur cet appareil (hors ligne, "
        "sans session connue) : reconnectez-vous avec du réseau pour "
        "enregistrer cette réponse."
    ),
    "signOutPending": N_(
        "Des réponses ne sont pas encore envoyées : se déconnecter les efface "
        "de cet appareil. Se déconnecter quand même ?"
    ),
    "add": N_("Ajouter"),
    "remove": N_("Retirer"),
    "gps": N_("Ma position (GPS)"),
    "gpsError": N_("Position GPS indisponible."),
    "clear": N_("Effacer"),
    "undo": N_("Annuler le dernier point"),
    "tapMap": N_("Touchez la carte pour placer le point."),
    "drawMap": N_("Touchez la carte pour ajouter des points."),
    "choose": N_("— Choisir —"),
    "photoReady": N_("Photo prête ({size} Ko)."),
    "photoError": N_("Cette image ne peut pas être lue : essayez une photo JPEG."),
    "unsupported": N_(
        "Ce type de question ne se remplit pas dans le navigateur : utilisez "
        "ODK Collect."
    ),
    "offlineReady": N_("Formulaires disponibles hors ligne."),
    "noWorker": N_(
        "Mode hors ligne indisponible ici (il faut HTTPS) : gardez la page "
        "ouverte jusqu'à l'envoi."
    ),
    "map": N_("Carte interactive"),
    "zoomIn": N_("Zoom avant"),
    "zoomOut": N_("Zoom arrière"),
}


@router.get("/formulaires")
def forms_page(request: Request, who: Caller) -> HTMLResponse:
    access.require_signed_in(who)
    pg = page(request, who)
    forms = collect.forms_for(context(request).store, who)
    return _owned(
        render(
            pg,
            "webforms.html",
            active="webforms",
            forms=forms,
            config=_config(request, pg, None),
        ),
        who,
    )


@router.get("/formulaires/sw.js")
def service_worker() -> Response:
    """The service worker, at the scope it controls (``/formulaires/``)."""
    script = (STATIC_DIR / "js" / "webform_sw.js").read_text(encoding="utf-8")
    return Response(
        script.replace("__VERSION__", __version__),
        media_type="text/javascript",
        headers={"Cache-Control": "no-cache", "Service-Worker-Allowed": "/formulaires"},
    )


@router.get("/formulaires/session")
def session_state(request: Request, who: Caller) -> JSONResponse:
    """Who is signed in and their CSRF token (for sending the queue later)."""
    cookie = request.cookies.get(SESSION_COOKIE)
    session = accounts.session_of(context(request).store, cookie) if cookie else None
    body = {
        "user": who.label if who.authenticated else None,
        "csrf": session.csrf if session and who.authenticated else "",
    }
    return JSONResponse(body, headers={"Cache-Control": "no-store"})


@router.get("/formulaires/{form_id}")
def form_page(request: Request, who: Caller, form_id: str) -> HTMLResponse:
    access.require_signed_in(who)
    pg = page(request, who)
    store = context(request).store
    form = collect.form_for(store, who, form_id)
    return _owned(
        render(
            pg,
            "webform.html",
            active="webforms",
            form=form,
            config=_config(request, pg, describe(form.xml, pg.t.lang)),
        ),
        who,
    )


def _owned(response: HTMLResponse, who: Principal) -> HTMLResponse:
    """Names the page's user for the service worker, which serves a kept
    page offline only to the last user the server confirmed on the device."""
    response.headers["X-Quartier-User"] = quote(who.label, safe="")
    return response


def _config(request: Request, pg: Any, form: dict[str, Any] | None) -> dict[str, Any]:
    out: dict[str, Any] = {
        # no "user": who fills the form is asked to the server (the page
        # may be a copy the service worker kept for someone else)
        "strings": pg.t.strings(STRINGS),
        "version": __version__,
        "submit": "/api/forms/{id}/submissions",
    }
    if form is not None:
        out["form"] = form
        if _has_geo(form):
            store = context(request).store
            layers = map_layers(
                store, pg, access.readable(pg.who, store.list_datasets())
            )
            base = [la for la in layers if la.base]
            out["map"] = map_config(request, pg, base) | {
                "script": f"/static/vendor/maplibre-gl.js?v={__version__}",
                "css": f"/static/vendor/maplibre-gl.css?v={__version__}",
            }
    return out


def _has_geo(form: dict[str, Any]) -> bool:
    return any(
        b.get("type") in ("geopoint", "geotrace", "geoshape")
        for b in form["binds"].values()
    )
