"""The ecosystem leaks nothing: a restricted dataset offered on request shows
its title and holder only, never its data; an access request is seen by its
author, the dataset's stewards and admins only; once approved, the partner
reads the dataset on every output (it is an agreement). Both stores."""

from __future__ import annotations

from test_no_leak import LEVELS, SENSITIVE, _everything, _expect, city  # noqa: F401
from webutil import make_client

from quartier.access import LOCAL
from quartier.domain.ecosystem import Capacity, CapacityKind
from quartier.services import accounts, capacities

PURPOSE = "QZ-FINALITE-PRIVEE"


def test_offers_and_requests_reveal_nothing_more(city, tmp_path):  # noqa: F811
    store, tokens = city
    accounts.create_user(store, "cheffe", password="un-mot-de-passe", actor=LOCAL)
    accounts.grant_role(store, "cheffe", "ong", "steward", actor=LOCAL)
    steward = {
        "Authorization": "Bearer "
        + accounts.issue_token(store, "cheffe", actor=LOCAL).secret
    }
    capacities.declare(
        store, LOCAL, Capacity(0, "ong", CapacityKind.ON_REQUEST, ref="jeu_restricted")
    )
    slugs = [f"jeu_{level}" for level in LEVELS]
    partner = {"Authorization": f"Bearer {tokens['partenaire']}"}
    with make_client(store) as client:
        asked = client.post(
            "/api/access-requests",
            json={"dataset": "jeu_restricted", "purpose": PURPOSE},
            headers=partner,
        )
        assert asked.status_code == 201, asked.text
        # the confidential one is not offered: asking is like asking for nothing
        hidden = client.post(
            "/api/access-requests",
            json={"dataset": "jeu_confidential", "purpose": "x"},
            headers=partner,
        )
        unknown = client.post(
            "/api/access-requests",
            json={"dataset": "jeu_inexistant", "purpose": "x"},
            headers=partner,
        )
        assert hidden.status_code == unknown.status_code == 404
        rid = asked.json()["id"]
        extra = [f"/api/access-requests/{rid}"]
        for who in ({}, partner):
            text = _everything(client, who, slugs, tmp_path)
            text += "".join(client.get(u, headers=who).text for u in extra)
            # the offer names the dataset (title, holder) — never its data
            assert "Titre QZ-RESERVE" in text
            assert "QZ-RESERVE-" not in text and "Description QZ-RESERVE" not in text
            assert "QZ-SECRET" not in text and "jeu_confidential" not in text
            assert SENSITIVE not in text
            assert (PURPOSE in text) == (who is partner)
        # a moderator of the holder is no steward: the request is not theirs
        gardien = {"Authorization": f"Bearer {tokens['gardien']}"}
        assert PURPOSE not in client.get(extra[0], headers=gardien).text
        assert PURPOSE in client.get(extra[0], headers=steward).text
        done = client.post(
            f"/api/access-requests/{rid}/decision",
            json={"decision": "approve"},
            headers=steward,
        )
        assert done.status_code == 200, done.text
        seen = _everything(client, partner, slugs, tmp_path)
        _expect(seen, {"public", "partners", "restricted"})
        assert SENSITIVE not in seen
