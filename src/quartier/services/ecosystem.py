"""The city's data ecosystem as one reader sees it: organisations by actor
kind, what each declares, the datasets each holds (that the reader may
read), the agreements the reader may see, and a graph of who holds and
shares what. Built through the one authorisation layer only."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from quartier import access
from quartier.access import Principal
from quartier.domain.actors import ActorKind
from quartier.domain.agreements import in_force
from quartier.domain.ecosystem import CapacityKind
from quartier.services import agreements, capacities
from quartier.storage.base import SqlStore

#: the graph's geometry (SVG user units)
WIDTH = 760
ROW = 30
TOP = 70
ORG_X = 250
DS_X = 510


@dataclass
class Node:
    id: str
    kind: str  # "organisation" or "dataset"
    label: str
    label_en: str
    group: str  # actor kind, or the dataset's access level
    x: float = 0.0
    y: float = 0.0


@dataclass
class Edge:
    source: str  # organisation node id
    target: str  # dataset node id
    kind: str  # "holds" or "shares"
    agreement: str = ""


@dataclass
class Graph:
    nodes: list[Node] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)
    height: int = 0

    def at(self, node_id: str) -> Node:
        return next(n for n in self.nodes if n.id == node_id)


def build(store: SqlStore, who: Principal, today: dt.date | None = None) -> dict:
    """Everything the page and ``/api/ecosystem`` show to ``who``."""
    day = today or dt.date.today()
    orgs = store.list_organisations()
    readable = access.readable(who, store.list_datasets())
    titles = capacities.reference_titles(store)
    declared = capacities.listed(store, who)
    offered = capacities.offered(store)
    seen = agreements.listed(store, who)
    readable_slugs = {d.slug for d in readable}
    out = []
    for org in sorted(orgs, key=lambda o: (list(ActorKind).index(o.kind), o.name)):
        mine = [c for c in declared if c.organisation == org.slug]
        held = [d for d in readable if org.slug in (d.producer, d.steward)]

        def of(kind: CapacityKind, mine: Any = mine) -> list[dict]:
            return [capacities.as_json(c, titles) for c in mine if c.kind is kind]

        out.append(
            {
                "slug": org.slug,
                "name": org.name,
                "kind": org.kind.value,
                "description": org.description,
                "website": org.website,
                "capacities": of(CapacityKind.CAPACITY),
                "produces": of(CapacityKind.PRODUCES),
                "could_produce": of(CapacityKind.COULD_PRODUCE),
                "holds": [
                    {
                        "dataset": d.slug,
                        "title": d.title,
                        "title_en": d.title_en or d.title,
                        "access": d.access.value,
                    }
                    for d in held
                ],  # fmt: skip
                "on_request": [
                    {
                        "dataset": ds.slug,
                        "title": ds.title,
                        "title_en": ds.title_en or ds.title,
                    }
                    for ds, holder in offered.values()
                    if holder == org.slug and ds.slug not in readable_slugs
                ],  # fmt: skip
                "agreements": [
                    shown(a, readable_slugs, day)
                    for a in seen
                    if org.slug == a.holder or org.slug in a.partners
                ],
            }
        )
    graph = layout(out, seen_in_force(seen, day, readable_slugs), readable)
    return {"organisations": out, "graph": graph_json(graph)}


def shown(a: Any, readable: set[str], day: dt.date) -> dict[str, Any]:
    """An agreement the reader may see, naming only the datasets they may
    read (an expired agreement must not name what it no longer opens)."""
    out = agreements.as_json(a)
    out["datasets"] = [d for d in a.datasets if d in readable]
    out["in_force"] = in_force(a, day)
    return out


def seen_in_force(
    seen: list[Any], day: dt.date, readable: set[str]
) -> list[tuple[str, str, str]]:
    """(agreement, dataset, partner) of the agreements in force the reader
    sees, for the datasets the reader may read."""
    return [
        (a.id, slug, partner)
        for a in seen
        if in_force(a, day)
        for slug in a.datasets
        if slug in readable
        for partner in a.partners
    ]


def layout(
    orgs: list[dict], shares: list[tuple[str, str, str]], readable: list[Any]
) -> Graph:
    """Organisations in a column, grouped by actor kind; the datasets they
    hold or share in a second column, in the order of their first holder;
    edges "holds" and "shares with". Deterministic: same data, same figure."""
    g = Graph()
    titles = {d.slug: d for d in readable}
    order: list[str] = []
    for o in orgs:
        for h in o["holds"]:
            if h["dataset"] not in order:
                order.append(h["dataset"])
            g.edges.append(Edge("org:" + o["slug"], "ds:" + h["dataset"], "holds"))
    known = {o["slug"] for o in orgs}
    for agreement, slug, partner in shares:
        if partner not in known:
            continue
        if slug not in order:
            order.append(slug)
        g.edges.append(Edge("org:" + partner, "ds:" + slug, "shares", agreement))
    rows = max(len(orgs), len(order), 1)
    g.height = TOP + rows * ROW + 20
    org_top = TOP + (rows - len(orgs)) * ROW / 2
    for i, o in enumerate(orgs):
        g.nodes.append(
            Node("org:" + o["slug"], "organisation", o["name"], o["name"],
                 o["kind"], ORG_X, org_top + i * ROW + ROW / 2)
        )  # fmt: skip
    ds_top = TOP + (rows - len(order)) * ROW / 2
    for i, slug in enumerate(order):
        d = titles[slug]
        g.nodes.append(
            Node("ds:" + slug, "dataset", d.title, d.title_en or d.title,
                 d.access.value, DS_X, ds_top + i * ROW + ROW / 2)
        )  # fmt: skip
    return g


def graph_json(g: Graph) -> dict[str, Any]:
    return {
        "width": WIDTH,
        "height": g.height,
        "nodes": [n.__dict__ for n in g.nodes],
        "edges": [e.__dict__ for e in g.edges],
    }
