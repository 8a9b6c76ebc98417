"""``/objectifs``, ``/feuille-de-route`` and ``/console/programme`` on both
stores: computed indicators against targets, suggested and chosen
priority, overdue items, grouping, and no hidden dataset named."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from programmeutil import SECRET, build_city
from webutil import make_client

from quartier.access import LOCAL
from quartier.domain.programme import (
    Indicator,
    Objective,
    ObjectiveStatus,
    Priority,
    RoadmapItem,
)
from quartier.services import objectives, roadmap


@pytest.fixture
def city(store):  # type: ignore[no-untyped-def]
    headers = build_city(store)
    objectives.create(
        store,
        LOCAL,
        Objective(
            "connaitre-le-bati",
            "Connaître le bâti",
            "ong",
            indicators=(Indicator("Bâti couvert", "coverage:batiments", 80.0),),
            datasets=("batiments", "zones_secretes"),
            status=ObjectiveStatus.ACTIVE,
        ),
    )
    late = (date.today() - timedelta(days=10)).isoformat()
    for item in (
        RoadmapItem("inondations", "Zones inondables", "ville", steward="cheffe",
                    target_date=late, reference="alea_inondation",
                    priority=Priority.LOW),
        RoadmapItem("zones", "Zones à jour", "ong", dataset="zones_secretes",
                    target_date="2031-02-01", objective="connaitre-le-bati"),
    ):  # fmt: skip
        roadmap.create(store, LOCAL, item)
    with make_client(store) as client:
        yield client, store, headers


def test_the_objectives_page_shows_computed_values_against_targets(city):
    client, store, h = city
    r = client.get("/objectifs")
    assert r.status_code == 200
    html = r.text
    assert "Connaître le bâti" in html and "En cours" in html
    assert "Calculé d&#39;après le diagnostic" in html
    assert 'value="62"' in html  # 50 % covered of an 80 % target
    assert "/catalogue/batiments" in html
    assert "zones_secretes" not in html and SECRET not in html
    en = client.get("/objectifs?lang=en").text
    assert "Computed from the diagnostic" in en
    assert SECRET in client.get("/objectifs", headers=h["gardien"]).text


def test_the_roadmap_page_groups_flags_and_shows_both_priorities(city):
    client, store, h = city
    html = client.get("/feuille-de-route").text
    assert "haute quand la donnée de référence" in html
    row = html.split('data-item="inondations"')[1].split("</tr>")[0]
    assert '<tr data-item="inondations" class="overdue">' in html
    assert "En retard" in row
    assert '<tr data-item="zones">' in html  # due in 2031
    assert "Haute" in row and "Basse" in row and "choisie" in row
    assert "Awa Diop" in row and "cheffe" not in row
    assert "zones_secretes" not in html and SECRET not in html
    by_quarter = client.get("/feuille-de-route?par=trimestre").text
    assert "2031-T1" in by_quarter
    assert client.get("/feuille-de-route?par=rien").status_code in (400, 422)
    en = client.get("/feuille-de-route?lang=en").text
    assert "Suggested priority" in en and "Overdue" in en


def test_the_console_page_is_for_editors(city):
    client, store, h = city
    r = client.get("/console/programme", follow_redirects=False)
    assert r.status_code in (302, 303)
    assert client.get("/console/programme", headers=h["lecteur"]).status_code == 403
    html = client.get("/console/programme", headers=h["cheffe"]).text
    assert 'data-item="inondations"' in html and 'data-item="zones"' not in html
    assert 'id="roadmap-new"' in html and 'id="objective-new"' in html
    assert "zones_secretes" not in html
