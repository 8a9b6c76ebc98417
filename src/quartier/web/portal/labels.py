"""Labels the portal shows for codes (access levels, actor kinds…), translated.

The French strings are the message ids, so ``pybabel extract`` finds them.
"""

from __future__ import annotations

from quartier.i18n import N_ as _
from quartier.i18n import Translator

ACCESS = {
    "public": _("Public"),
    "partners": _("Partenaires"),
    "restricted": _("Restreint"),
    "confidential": _("Confidentiel"),
}
ACCESS_HELP = {
    "public": _("Ouvert à tous, sans compte : carte, téléchargements et API."),
    "partners": _(
        "Réservé aux personnes connectées membres d'une organisation partenaire."
    ),
    "restricted": _(
        "Réservé aux membres de l'organisation productrice ou gestionnaire."
    ),
    "confidential": _(
        "Réservé aux administrateurs, gestionnaires et modérateurs de "
        "l'organisation productrice ou gestionnaire."
    ),
}
ACTORS = {
    "local_authority": (
        _("Autorité locale"),
        _("Suivre l'extension urbaine, combler les manques de données, publier."),
        "/catalogue",
    ),
    "business": (
        _("Entreprises"),
        _("Trouver où s'implanter grâce aux données ouvertes."),
        "/catalogue?theme=%C3%A9conomie",
    ),
    "startup": (
        _("Start-ups"),
        _("Intégrer les données par les API standard (OGC API, tuiles, flux)."),
        "/ogc",
    ),
    "university": (
        _("Universités"),
        _("Télécharger dans tous les formats, avec métadonnées et historique."),
        "/catalogue",
    ),
    "ngo": (
        _("ONG"),
        _("Charger et gérer les données collectées avec les habitant·es."),
        "/console",
    ),
    "residents": (
        _("Habitant·es"),
        _("Voir son quartier sur la carte et s'appuyer sur des faits."),
        "/carte",
    ),
}
FRESHNESS = {
    "month": _("Mis à jour ce mois-ci"),
    "year": _("Mis à jour cette année"),
    "older": _("Plus d'un an"),
}
ROLES = {
    "admin": _("Administrateur"),
    "steward": _("Gestionnaire des données"),
    "moderator": _("Modérateur"),
    "contributor": _("Contributeur"),
    "viewer": _("Lecteur"),
}


def access_levels(t: Translator) -> list[tuple[str, str]]:
    return [(code, t.gettext(label)) for code, label in ACCESS.items()]


def access_help(t: Translator) -> dict[str, str]:
    return {code: t.gettext(text) for code, text in ACCESS_HELP.items()}


def actor_kinds(t: Translator) -> list[tuple[str, str]]:
    return [(code, t.gettext(label)) for code, (label, _, _) in ACTORS.items()]


def actor_entries(t: Translator) -> list[dict[str, str]]:
    return [
        {"kind": code, "title": t.gettext(title), "text": t.gettext(text), "href": href}
        for code, (title, text, href) in ACTORS.items()
    ]


def freshness(t: Translator) -> list[tuple[str, str]]:
    return [(code, t.gettext(label)) for code, label in FRESHNESS.items()]


def roles(t: Translator) -> list[tuple[str, str]]:
    return [(code, t.gettext(label)) for code, label in ROLES.items()]


FIELD_TYPES = {
    "text": _("texte"),
    "integer": _("entier"),
    "real": _("décimal"),
    "boolean": _("oui/non"),
    "date": _("date"),
    "datetime": _("date et heure"),
    "json": _("JSON"),
    "blob": _("binaire"),
}
GEOMETRIES = {
    "POINT": _("points"),
    "LINESTRING": _("lignes"),
    "POLYGON": _("surfaces"),
    "GEOMETRY": _("géométries mixtes"),
}


def field_types(t: Translator) -> dict[str, str]:
    return {code: t.gettext(label) for code, label in FIELD_TYPES.items()}


def geometry(t: Translator, geometry_type: str) -> str:
    """``MULTIPOLYGON`` → ``surfaces`` (in the page's language)."""
    plain = geometry_type.upper().removeprefix("MULTI")
    return t.gettext(GEOMETRIES.get(plain, GEOMETRIES["GEOMETRY"]))
