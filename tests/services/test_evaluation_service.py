"""Evaluation and calls for contributions on the 4-quartier town of the
diagnostic's tests, computed by hand, on both stores."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from test_diagnostic_service import geojson, point, square, town  # noqa: F401

from quartier.access import ANONYMOUS, LOCAL, Principal
from quartier.domain import ActorKind, Organisation
from quartier.domain.accounts import Role
from quartier.domain.campaigns import Action, Campaign, CampaignStatus, Grid
from quartier.domain.forms import Form, Status, Submission
from quartier.domain.reports import Report, ReportKind
from quartier.services import accounts
from quartier.services.calls import calls, to_json
from quartier.services.diagnostic import diagnose, save
from quartier.services.evaluation import evaluate, series
from quartier.services.evaluation import to_json as evaluation_json
from quartier.services.importer import ImportOptions, import_path
from quartier.storage.base import SqlStore

T0 = dt.datetime(2026, 11, 20, 10, 0, tzinfo=dt.UTC)
ALICE = Principal("alice", roles={"ong": Role.CONTRIBUTOR}, via="token")


def _box(i: int) -> str:
    (ring,) = square(i)
    return "POLYGON ((" + ", ".join(f"{x} {y}" for x, y in ring) + "))"


def _sub(n: int, form: str, who: str, where: list | None, status: Status):  # type: ignore[no-untyped-def]
    body = f"<lieu>{where[1]} {where[0]} 0 0</lieu>" if where else "<note>x</note>"
    return Submission(
        f"uuid:{n}",
        form,
        "1",
        f"<data>{body}</data>",
        who,
        status=status,
        received=f"2026-11-2{n}T10:00:00+00:00",
        updated=f"2026-11-2{n}T10:00:00+00:00",
    )


@pytest.fixture
def programme(town: SqlStore, tmp_path) -> SqlStore:  # noqa: F811
    """The town with contributions: forms, submissions, reports, a campaign,
    and a restricted flood layer only the town's staff may read."""
    s = town
    s.add_organisation(Organisation("ong", "ONG Quartiers", ActorKind.NGO))
    s.add_organisation(Organisation("uni", "Université", ActorKind.UNIVERSITY))
    for name, org, role in (
        ("alice", "ong", "contributor"),
        ("vera", "ong", "moderator"),
        ("carla", "uni", "contributor"),
        ("bob", None, None),
    ):
        accounts.create_user(s, name, password="un-mot-de-passe", actor=LOCAL)
        if org:
            accounts.grant_role(s, name, org, role, actor=LOCAL)
    path = tmp_path / "inondation.geojson"
    geojson(path, [({"alea": "fort"}, {"type": "Polygon", "coordinates": square(2)})])
    import_path(
        s,
        path,
        ImportOptions(
            dataset="zones_crue_secretes",
            title="Zones de crue secrètes",
            access="restricted",
            producer="ville",
            steward="ville",
            licence="ODbL-1.0",
        ),
    )
    mapping = {"/data/lieu": "geometry"}
    for form_id, org, target in (
        ("releve", "ong", "batiments"),
        ("voirie", "ville", "routes"),
    ):
        s.add_form(
            Form(
                form_id,
                "1",
                f"Formulaire {form_id}",
                "<h:html/>",
                "0" * 32,
                org,
                dataset=target,
                mapping=mapping,
                created="2026-11-01T00:00:00+00:00",
            )
        )
    for sub in (
        _sub(1, "releve", "alice", point(0), Status.APPROVED),  # Ada
        _sub(2, "releve", "alice", point(1), Status.PENDING),  # Bel
        _sub(3, "releve", "bob", None, Status.PENDING),  # no location
        _sub(4, "voirie", "carla", point(2), Status.PENDING),  # Cap, restricted
        _sub(5, "releve", "alice", point(3), Status.REJECTED),  # not counted
    ):
        s.add_submission(sub)
    for n, i in ((1, 1), (2, 3)):
        x, y = point(i)
        s.add_report(
            Report(
                f"r{n}",
                ReportKind.REPORT,
                "voirie",
                "",
                x,
                y,
                "un trou",
                "2026-11-21T10:00:00+00:00",
                name="Awa",
                contact="awa@example.org",
            )  # fmt: skip
        )
    s.add_campaign(
        Campaign(
            "cartes",
            "Cartographier Cap et Dor",
            "ong",
            "POLYGON ((15.302 -4.4, 15.304 -4.4, 15.304 -4.399, 15.302 -4.399, "
            "15.302 -4.4))",
            Grid.SQUARE,
            100.0,
            status=CampaignStatus.ACTIVE,
            forms=("releve",),
            starts="2026-11-01",
            ends="2026-12-31",
            created="2026-11-01T00:00:00+00:00",
        ),
        [_box(2), _box(3)],
    )
    for action, user, validator in (
        ("lock", "alice", False),
        ("mapped", "alice", False),
        ("lock", "vera", True),
        ("validate", "vera", True),
    ):
        s.transition_cell(
            "cartes", 1, Action(action), user=user, now=T0,
            may_validate=validator, comment="", names=True,
        )  # fmt: skip
    return s


def test_contributions_by_actor_kind_and_by_quartier(programme: SqlStore):
    e = evaluation_json(evaluate(programme, LOCAL))
    kinds = e["contributions"]["by_kind"]
    assert kinds["ngo"] == {
        "submissions_approved": 1,
        "submissions_pending": 1,
        "reports": 0,
        "cells_mapped": 1,
        "cells_validated": 1,
        "features_edited": 0,
    }
    assert kinds["residents"]["submissions_pending"] == 1  # bob: no organisation
    assert kinds["residents"]["reports"] == 2
    assert kinds["university"]["submissions_pending"] == 1
    # imports from the command line count for the producer: 4 quartiers,
    # 3 buildings, 2 roads, 2 census rows, 1 flood zone
    assert kinds["local_authority"]["features_edited"] == 12
    units = {u["name"]: u for u in e["contributions"]["by_unit"]}
    assert [u["name"] for u in e["contributions"]["by_unit"]] == [
        "Ada", "Bel", "Cap", "Dor"
    ]  # fmt: skip
    assert units["Ada"]["submissions_approved"] == 1
    assert units["Bel"]["submissions_pending"] == 1 and units["Bel"]["reports"] == 1
    assert units["Cap"]["submissions_pending"] == 1
    assert units["Cap"]["cells_mapped"] == 1 and units["Cap"]["cells_validated"] == 1
    assert units["Dor"]["reports"] == 1 and units["Dor"]["cells_mapped"] == 0
    assert e["contributions"]["unlocated"]["submissions_pending"] == 1
    # campaign progress: 2 cells, one mapped and validated
    (c,) = e["campaigns"]
    assert (c["cells"], c["mapped"], c["validated"]) == (2, 1, 1)
    assert (c["mapped_pct"], c["validated_pct"]) == (50.0, 50.0)
    assert c["last_activity"].startswith("2026-11-20")
    # counts only: no name, contact or account anywhere
    text = json.dumps(e)
    for personal in ("alice", "vera", "carla", "bob", "Awa", "awa@example.org"):
        assert personal not in text


def test_a_visitor_counts_nothing_of_restricted_datasets(programme: SqlStore):
    e = evaluation_json(evaluate(programme, ANONYMOUS))
    kinds = e["contributions"]["by_kind"]
    # the submission to the restricted roads, the roads' 2 features and the
    # flood zone are not counted for a visitor
    assert kinds["university"]["submissions_pending"] == 0
    assert kinds["local_authority"]["features_edited"] == 9
    units = {u["name"]: u for u in e["contributions"]["by_unit"]}
    assert units["Cap"]["submissions_pending"] == 0
    assert kinds["ngo"]["submissions_approved"] == 1  # public buildings: counted


def test_time_series_from_saved_diagnostics(programme: SqlStore, tmp_path):
    assert series(programme, LOCAL) == []
    save(programme, diagnose(programme, grid_m=50), author="test")  # v1
    # v2: buildings in every quartier, "levels" filled 3 of 5 → level 3
    path = tmp_path / "batiments.geojson"
    features = [({"building": "house", "building:levels": 2}, _tiny_square(0, 0.2))]
    features += [({"building": "yes"}, _tiny_square(0, 0.6))]
    features += [({"building": "school"}, _tiny_square(3, 0.5))]
    features += [
        ({"building": "house", "building:levels": 1}, _tiny_square(i, 0.4))
        for i in (1, 2)
    ]
    geojson(path, features)
    import_path(programme, path, ImportOptions(dataset="batiments", author="alice"))
    save(programme, diagnose(programme, grid_m=50), author="test")
    # v3: the roads get a licence → documented, covering 75 % → level 2
    programme.update_dataset("routes", licence="ODbL-1.0")
    save(programme, diagnose(programme, grid_m=50), author="test")
    points = series(programme, LOCAL)
    assert [p.version for p in points] == [1, 2, 3]
    # the score of each version is the mean of its saved levels
    levels = [{k: v["level"] for k, v in p.entries.items()} for p in points]
    assert [lv["batiments"] for lv in levels] == [2, 3, 3]
    assert [lv["routes"] for lv in levels] == [1, 1, 2]
    assert [p.entries["batiments"]["coverage"] for p in points] == [50.0, 100.0, 100.0]
    base = sum(levels[0].values())
    assert [p.score for p in points] == [
        round(100 * (base + d) / 100, 1) for d in (0, 1, 2)
    ]
    e = evaluation_json(evaluate(programme, LOCAL))
    assert [p["score"] for p in e["series"]["points"]] == [p.score for p in points]
    routes = next(x for x in e["series"]["entries"] if x["key"] == "routes")
    assert [v["level"] for v in routes["values"]] == [1, 1, 2]
    assert routes["title"] == "Routes et voirie"
    # the levels read restricted data (roads): a visitor sees no series
    assert series(programme, ANONYMOUS) == []
    # alice's import is an edit by the NGO (2 added buildings at least)
    assert e["contributions"]["by_kind"]["ngo"]["features_edited"] >= 2


def _tiny_square(i: int, dx: float) -> dict:
    x, y = point(i, dx)
    e = 0.001 / 20
    ring = [[x, y], [x + e, y], [x + e, y + e], [x, y + e], [x, y]]
    return {"type": "Polygon", "coordinates": [ring]}


def test_calls_pick_the_right_form_and_campaign(programme: SqlStore):
    d = diagnose(programme, LOCAL, grid_m=50)
    found = {c.key: c for c in calls(programme, LOCAL, d)}
    b = found["batiments"]
    # buildings in Ada and Dor only; the NGO's form feeds them, its campaign
    # covers Cap (and Dor)
    assert b.units == ["Bel", "Cap"] and b.level == 2
    assert [f["id"] for f in b.forms] == ["releve"]
    assert [c["slug"] for c in b.campaigns] == ["cartes"]
    assert b.campaigns[0]["units"] == ["Cap"]
    assert b.cells_missing > 0 and b.kind == "buildings"
    # the roads' form is the town's; the flood layer has no form: its steward
    r = found["routes"]
    assert [f["id"] for f in r.forms] == ["voirie"] and r.reportable
    assert found["alea_inondation"].contacts == ["Ville"]
    assert found["alea_inondation"].forms == []
    # a complete entry (admin units, level 4 everywhere) has no call
    assert "limites_administratives" not in found
    # most urgent first: level 0 crisis entries lead
    ordered = calls(programme, LOCAL, d)
    assert ordered[0].level == 0 and ordered[0].category == "crisis"
    assert [c.priority for c in ordered] == sorted(
        (c.priority for c in ordered), reverse=True
    )


def test_calls_of_a_visitor_name_no_hidden_dataset_and_no_form(programme: SqlStore):
    d = diagnose(programme, ANONYMOUS, grid_m=50)
    found = {c.key: c for c in calls(programme, ANONYMOUS, d)}
    b = found["batiments"]
    assert b.forms == [] and b.forms_need_sign_in  # sign in to contribute
    assert [c["slug"] for c in b.campaigns] == ["cartes"]
    flood = found["alea_inondation"]
    assert flood.level == 0 and flood.contacts == []  # → the platform admins
    text = json.dumps(to_json(list(found.values()), d))
    for hidden in ("zones_crue_secretes", "secrètes", "Formulaire voirie", "releve"):
        assert hidden not in text
    # a contributor of the NGO is offered its form
    mine = {c.key: c for c in calls(programme, ALICE, diagnose(programme, ALICE))}
    assert [f["id"] for f in mine["batiments"].forms] == ["releve"]
    assert mine["routes"].forms == [] and mine["routes"].forms_need_membership == [
        "Ville"
    ]
