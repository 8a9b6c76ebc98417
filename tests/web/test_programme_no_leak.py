"""Objectives and roadmap items are public programme information, but the
datasets they name are shown only to those who may read them: on every
programme output (API, pages in both languages, console), for every caller,
both stores. The NGO's steward sees them, so an output that forgets them
fails too."""

from __future__ import annotations

import pytest
from programmeutil import SECRET, build_city
from webutil import make_client

from quartier.access import LOCAL
from quartier.domain.programme import Indicator, Objective, RoadmapItem
from quartier.services import objectives, roadmap

OUTPUTS = (
    "/api/objectives",
    "/api/objectives/zones-connues",
    "/api/roadmap",
    "/api/roadmap/zones-a-jour",
    "/api/roadmap/suggestions",
    "/objectifs",
    "/objectifs?lang=en",
    "/feuille-de-route",
    "/feuille-de-route?par=trimestre&lang=en",
    "/console/programme",
)


@pytest.fixture
def city(store):  # type: ignore[no-untyped-def]
    headers = build_city(store)
    objectives.create(
        store,
        LOCAL,
        Objective(
            "zones-connues",
            "Connaître les zones à risque",
            "ong",
            indicators=(Indicator("Couverture", "coverage:habitat_informel", 90),),
            datasets=("zones_secretes", "batiments"),
        ),
    )
    roadmap.create(
        store,
        LOCAL,
        RoadmapItem(
            "zones-a-jour",
            "Tenir les zones à jour",
            "ong",
            steward="gardien",
            dataset="zones_secretes",
            objective="zones-connues",
        ),
    )
    with make_client(store) as client:
        yield client, headers


def _everything(client, headers) -> str:  # type: ignore[no-untyped-def]
    seen = []
    for url in OUTPUTS:
        r = client.get(url, headers=headers, follow_redirects=False)
        assert r.status_code in (200, 303, 403), (url, r.status_code)
        seen.append(r.text)
    return "\n".join(seen)


@pytest.mark.parametrize("who", ["anonyme", "partenaire", "cheffe", "lecteur"])
def test_hidden_datasets_are_named_nowhere(city, who):
    client, h = city
    text = _everything(client, h[who])
    assert "zones_secretes" not in text and SECRET not in text, who
    assert "Tenir les zones à jour" in text and "/catalogue/batiments" in text


def test_those_who_may_read_them_see_them_everywhere(city):
    client, h = city
    for url in OUTPUTS:
        if "suggestions" in url:
            continue
        r = client.get(url, headers=h["gardien"])
        assert "zones_secretes" in r.text and SECRET in r.text, url
