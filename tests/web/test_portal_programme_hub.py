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
