"""Analysis pages without a browser, on both stores: map, chart and table of
the latest readable results, their lineage, and nothing the visitor may not
read."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from webutil import make_client

from quartier.access import LOCAL
from quartier.domain import AccessLevel
from quartier.services import accounts
from quartier.services.demo import build_demo
from quartier.services.densification import DensificationParams, run_densification
from quartier.services.expansion import ExpansionParams, run_expansion
from quartier.storage.base import SqlStore


@pytest.fixture
def town(store: SqlStore) -> Iterator[tuple[TestClient, SqlStore, dict[str, str]]]:
    build_demo(store)
    run_densification(store, DensificationParams(cell_m=250))
    run_expansion(store, ExpansionParams())
    accounts.create_user(
        store, "admin", password="un-mot-de-passe", is_admin=True, actor=LOCAL
    )
    token = accounts.issue_token(store, "admin", actor=LOCAL).secret
    with make_client(store) as client:
        yield client, store, {"Authorization": f"Bearer {token}"}


def test_index_and_pages(town):
    client, _, _ = town
    index = client.get("/analyses")
    assert index.status_code == 200
    for name in (
        "exposure",
        "accessibility",
        "vulnerability",
        "expansion",
        "densification",
        "suitability",
    ):
        assert f'href="/analyses/{name}"' in index.text
    page = client.get("/analyses/densification")
    assert page.status_code == 200
    assert 'data-slug="densification"' in page.text  # the map
    assert "<svg" in page.text and "<rect" in page.text  # the chart
    assert page.text.count("<tr>") == 51  # header + 50 best plots
    assert 'href="/catalogue/batiments"' in page.text  # lineage, with versions
    assert "max_far" in page.text
    assert "Relancer" not in page.text  # visitors get the command instead
    assert "quartier analyze densification" in page.text
    growth = client.get("/analyses/expansion?lang=en")
    assert "New built-up area by period" in growth.text.replace("&#39;", "")
    assert 'data-slug="expansion_batiments"' in growth.text
    waiting = client.get("/analyses/suitability?lang=fr")
    assert "pas encore de résultat" in waiting.text
    assert client.get("/analyses/nope").status_code == 404


def test_results_follow_their_access_level(town):
    client, store, admin = town
    store.update_dataset("densification", access=AccessLevel.RESTRICTED)
    hidden = client.get("/analyses/densification")
    assert "pas encore de résultat" in hidden.text
    assert 'data-slug="densification"' not in hidden.text
    shown = client.get("/analyses/densification", headers=admin)
    assert 'data-slug="densification"' in shown.text


def test_expansion_map_is_coloured_by_period(town):
    client, _, _ = town
    layers = {la["slug"]: la for la in client.get("/carte/config").json()["layers"]}
    classes = layers["expansion_batiments"]["classes"]
    assert classes["field"] == "period"
    # in time order (by year), not alphabetical ("<1990" would sort last)
    assert classes["values"] == ["<1990", "1990–1999", "2000–2009", "2010–2019"]
    assert len(classes["colours"]) == 4
    assert layers["batiments"]["classes"] is None
    legend = client.get("/carte").text
    assert 'aria-label="Classes de' in legend and "1990–1999" in legend


def test_class_legend_never_shows_a_field_hidden_from_the_reader(town):
    client, store, admin = town
    store.update_dataset("expansion_batiments", sensitive_fields=["period"])
    layers = {la["slug"]: la for la in client.get("/carte/config").json()["layers"]}
    assert layers["expansion_batiments"]["classes"] is None
    assert "1990–1999" not in client.get("/carte").text
    staff = client.get("/carte/config", headers=admin).json()["layers"]
    by_slug = {la["slug"]: la for la in staff}
    assert by_slug["expansion_batiments"]["classes"]["field"] == "period"
