"""Programme use-cases before the workspace exists: nothing can be computed
yet, but objectives and the roadmap still work."""

from __future__ import annotations

from quartier.access import ANONYMOUS, LOCAL
from quartier.domain import ActorKind, Organisation
from quartier.domain.programme import Indicator, Objective, RoadmapItem
from quartier.services import objectives, roadmap


def test_without_a_workspace_nothing_is_computed_and_nothing_fails(store):
    store.ensure_schema()
    store.add_organisation(Organisation("ville", "Ville", ActorKind.LOCAL_AUTHORITY))
    o = objectives.create(
        store,
        LOCAL,
        Objective("o1", "T", "ville", indicators=(Indicator("S", "score", 50.0),)),
    )
    item = roadmap.create(
        store, LOCAL, RoadmapItem("r1", "Adresses", "ville", reference="adresses")
    )
    fig = objectives.figures(store, ANONYMOUS)
    assert fig.score is None and fig.entries == {}
    shown = objectives.as_json(store, ANONYMOUS, o, fig)
    assert shown["indicators"][0]["current"] is None
    assert shown["indicators"][0]["progress"] is None
    row = roadmap.as_json(store, ANONYMOUS, item, fig)
    assert (row["suggested_priority"], row["priority"], row["level"]) == (
        None,
        "medium",
        None,
    )
    assert roadmap.suggestions(store, fig) == []
