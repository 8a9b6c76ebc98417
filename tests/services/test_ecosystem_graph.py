"""The ecosystem graph's layout: deterministic, hand-checked on a tiny city."""

from __future__ import annotations

from quartier.domain.catalogue import AccessLevel, Dataset
from quartier.services.ecosystem import DS_X, ORG_X, ROW, TOP, graph_json, layout

ORGS = [
    {"slug": "ville", "name": "Ville", "kind": "local_authority",
     "holds": [{"dataset": "zones"}, {"dataset": "routes"}]},
    {"slug": "unikin", "name": "UNIKIN", "kind": "university", "holds": []},
]  # fmt: skip
READABLE = [
    Dataset("zones", "Zones", access=AccessLevel.RESTRICTED),
    Dataset("routes", "Routes", "Roads"),
]


def test_organisations_left_datasets_right_holds_and_shares():
    g = layout(ORGS, [("c1", "zones", "unikin"), ("c1", "zones", "nulle")], READABLE)
    at = {n.id: (n.x, n.y) for n in g.nodes}
    # two rows each side: centred alike
    assert at == {
        "org:ville": (ORG_X, TOP + ROW / 2),
        "org:unikin": (ORG_X, TOP + ROW * 1.5),
        "ds:zones": (DS_X, TOP + ROW / 2),
        "ds:routes": (DS_X, TOP + ROW * 1.5),
    }
    assert [(e.source, e.target, e.kind) for e in g.edges] == [
        ("org:ville", "ds:zones", "holds"),
        ("org:ville", "ds:routes", "holds"),
        ("org:unikin", "ds:zones", "shares"),  # an unknown partner is dropped
    ]
    assert g.height == TOP + 2 * ROW + 20
    assert graph_json(g) == graph_json(
        layout(ORGS, [("c1", "zones", "unikin")], READABLE)
    )
    assert next(n for n in g.nodes if n.id == "ds:routes").label_en == "Roads"
