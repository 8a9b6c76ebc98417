"""``/programme``: the six steps with where each stands, from what the
visitor may see (both stores)."""

from __future__ import annotations

from apiutil import city
from webutil import make_client

from quartier.domain import Workspace


def test_the_six_steps_with_their_figures_and_links(store):
    headers = city(store)
    store.set_workspace(Workspace("Ville", 32733))
    with make_client(store) as client:
        page = client.get("/programme").text
        assert page.count('<li id="step-') == 6
        for href in (
            "/objectifs",
            "/diagnostic",
            "/ecosysteme",
            "/campagnes",
            "/feuille-de-route",
            "/charte",
            "/evaluation",
            "/contribuer",
        ):
            assert f'href="{href}"' in page, href
        assert "Score : " in page and "/ 100" in page
        assert 'aria-current="page">Programme' in page
        english = client.get("/programme?lang=en").text
        assert "2. Self-diagnose the data" in english
        # a hidden dataset counts for those who see it only: the score may
        # differ between a visitor and an administrator, never the page's
        # shape
        admin = client.get("/programme", headers=headers["admin"]).text
        assert admin.count('<li id="step-') == 6


def test_a_platform_without_a_workspace_shows_the_steps_without_a_score(store):
    city(store)
    with make_client(store) as client:
        r = client.get("/programme")
        assert r.status_code == 200 and r.text.count('<li id="step-') == 6
        assert "Score : " not in r.text


def test_the_steps_count_objectives_roadmap_items_and_the_overdue(store):
    from quartier.access import LOCAL
    from quartier.domain.programme import (
        Objective,
        ObjectiveStatus,
        RoadmapItem,
        RoadmapStatus,
    )
    from quartier.services import objectives, roadmap

    city(store)
    store.set_workspace(Workspace("Ville", 32733))
    org = store.list_organisations()[0].slug
    objectives.create(store, LOCAL, Objective("o1", "Cartographier", org))
    objectives.create(
        store, LOCAL, Objective("o2", "Ouvrir", org, status=ObjectiveStatus.ACTIVE)
    )
    roadmap.create(
        store, LOCAL, RoadmapItem("r1", "Bâti", org, target_date="2020-01-01")
    )
    roadmap.create(
        store,
        LOCAL,
        RoadmapItem("r2", "Routes", org, status=RoadmapStatus.DONE),
    )
    with make_client(store) as client:
        page = client.get("/programme").text
    import re

    page = re.sub(r"\s+", " ", page)
    assert "1 objectif actif · 0 atteint" in page and "· 1 proposé<" in page
    assert "Feuille de route : 1 prévus, 0 en cours, 1 faits" in page
    assert "1 en retard" in page
