"""The public data charter: its principles, then for every dataset the
reader may see who answers for it, its licence and access policy, the
agreements in force the reader may see, and what may be asked for."""

from __future__ import annotations

import datetime as dt
from typing import Any

from quartier import access
from quartier.access import Principal
from quartier.domain.agreements import in_force
from quartier.i18n import N_, Translator
from quartier.services import agreements, capacities, ecosystem
from quartier.storage.base import SqlStore

PRINCIPLES = (
    (
        N_("Ouvertes par défaut"),
        N_(
            "Les données de la ville sont publiques sauf raison écrite : données "
            "personnelles, sécurité, ou engagement envers celui qui les a produites."
        ),
    ),
    (
        N_("Données personnelles protégées"),
        N_(
            "Les champs sensibles sont masqués sur toutes les sorties ; une "
            "convention partage des données, jamais les données personnelles."
        ),
    ),
    (
        N_("Un gestionnaire responsable"),
        N_(
            "Chaque jeu a une organisation qui en répond : elle le tient à jour, "
            "décide de son niveau d'accès et répond aux demandes d'accès."
        ),
    ),
    (
        N_("Une licence claire"),
        N_(
            "Chaque jeu dit sous quelle licence on peut le réutiliser ; sans "
            "licence précisée, demandez au gestionnaire avant de le republier."
        ),
    ),
    (
        N_("Rien n'est perdu"),
        N_(
            "Chaque import ou modification crée une version ; les anciennes "
            "restent consultables, téléchargeables et restaurables."
        ),
    ),
)

POLICIES = {
    "public": N_("Ouvert à tous"),
    "partners": N_("Membres des organisations partenaires"),
    "restricted": N_("Restreint : sur convention"),
    "confidential": N_("Confidentiel : gestionnaires seulement"),
}

HOW_TO_ASK = N_(
    "Un membre d'une organisation partenaire, connecté, demande l'accès à un jeu "
    "proposé sur demande en disant pourquoi et pour quelle période. Le "
    "gestionnaire du jeu accepte ou refuse en donnant sa raison ; s'il accepte, "
    "une convention de partage ouvre l'accès pour la période convenue."
)


def build(
    store: SqlStore, who: Principal, lang: str, today: dt.date | None = None
) -> dict[str, Any]:
    """The charter as ``who`` may see it, in ``lang``."""
    t = Translator(lang)
    day = today or dt.date.today()
    orgs = {o.slug: o.name for o in store.list_organisations()}
    visible = access.readable(who, store.list_datasets())
    visible.sort(key=lambda d: t.pick(d.title, d.title_en).casefold())
    return {
        "principles": [
            {"title": t.gettext(a), "text": t.gettext(b)} for a, b in PRINCIPLES
        ],
        "datasets": [
            {
                "dataset": d.slug,
                "title": t.pick(d.title, d.title_en),
                "steward": d.steward or d.producer or None,
                "steward_name": orgs.get(d.steward or d.producer or "", None),
                "producer": d.producer,
                "licence": d.licence or None,
                "access": d.access.value,
                "access_policy": t.gettext(POLICIES[d.access.value]),
                "sensitive_fields": bool(d.sensitive_fields),
                "update_frequency": d.update_frequency or None,
            }
            for d in visible
        ],
        "agreements": [
            ecosystem.shown(a, {d.slug for d in visible}, day)
            for a in agreements.listed(store, who)
            if in_force(a, day)
        ],
        "on_request": [
            {
                **x,
                "title": t.pick(x["title"], x["title_en"]),
                "holder_name": orgs.get(x["holder"], x["holder"]),
            }
            for x in capacities.on_request_for(store, who)
        ],  # fmt: skip
        "how_to_request": t.gettext(HOW_TO_ASK),
        "request_url": "/demandes-acces/nouvelle",
    }
