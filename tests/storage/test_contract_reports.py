"""The store contract for residents' reports, photos and history (both stores)."""

from __future__ import annotations

import threading

import pyarrow as pa
import pytest
import shapely

from quartier.domain import Dataset, Field, FieldType
from quartier.domain.reports import (
    Report,
    ReportEvent,
    ReportKind,
    ReportStatus,
)
from quartier.errors import Conflict, NotFound

A = "6f1c2a4e-0000-4000-8000-000000000001"
B = "6f1c2a4e-0000-4000-8000-000000000002"
C = "6f1c2a4e-0000-4000-8000-000000000003"


def report(rid: str = A, **kw) -> Report:
    values = {
        "id": rid,
        "kind": ReportKind.REPORT,
        "category": "dechets",
        "organisation": "ville",
        "lon": 15.34,
        "lat": -4.41,
        "description": "Dépôt d'ordures",
        "created": f"2026-11-26T10:00:0{rid[-1]}Z",
        "name": "Awa",
        "contact": "+243 000",
    }
    values.update(kw)
    return Report(**values)


@pytest.fixture
def reports(store):
    store.ensure_schema()
    return store


def test_add_get_and_retry(reports):
    stored, new = reports.add_report(report(), [("image/png", b"png-bytes")])
    assert new
    assert stored.status is ReportStatus.RECEIVED and not stored.hidden
    assert stored.name == "Awa" and stored.contact == "+243 000"
    assert [(p.n, p.content_type, p.size) for p in stored.photos] == [
        (1, "image/png", 9)
    ]
    again, new = reports.add_report(report(), [("image/png", b"png-bytes")])
    assert not new and again == stored
    for photos in ([("image/png", b"other")], [], [("image/png", b"png-bytes")] * 2):
        with pytest.raises(Conflict):  # a retry never changes the photos
            reports.add_report(report(), photos)
    assert reports.get_report_photo(A, 1) == ("image/png", b"png-bytes")
    with pytest.raises(Conflict):
        reports.add_report(report(description="autre chose"))
    with pytest.raises(NotFound):
        reports.get_report(B)
    with pytest.raises(NotFound):
        reports.get_report_photo(A, 2)


def test_concurrent_duplicates_make_one_report(reports):
    results = []

    def send() -> None:
        results.append(reports.add_report(report())[1])

    threads = [threading.Thread(target=send) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [False, False, False, True]
    assert len(reports.list_report_events(A)) == 1


def test_events_append_and_mirror_status(reports):
    reports.add_report(report())
    done = reports.add_report_event(
        A,
        ReportEvent(
            at="2026-11-26T11:00:00Z",
            action="status",
            status=ReportStatus.IN_PROGRESS,
            note="équipe envoyée",
            actor="moussa",
            organisation="ville",
        ),
    )
    assert done.status is ReportStatus.IN_PROGRESS
    assert done.updated == "2026-11-26T11:00:00Z"
    hidden = reports.add_report_event(
        A,
        ReportEvent(
            at="2026-11-26T12:00:00Z",
            action="hidden",
            status=ReportStatus.IN_PROGRESS,
            actor="moussa",
        ),
    )
    assert hidden.hidden
    events = reports.list_report_events(A)
    assert [(e.seq, e.action, e.status) for e in events] == [
        (1, "created", ReportStatus.RECEIVED),
        (2, "status", ReportStatus.IN_PROGRESS),
        (3, "hidden", ReportStatus.IN_PROGRESS),
    ]
    assert events[1].note == "équipe envoyée" and events[1].organisation == "ville"
    with pytest.raises(NotFound):
        reports.add_report_event(B, events[1])


def test_list_and_count_filter_in_sql(reports):
    reports.add_report(report(A))
    reports.add_report(report(B, category="eau", organisation="regie", lon=20.0))
    reports.add_report(
        report(
            C,
            kind=ReportKind.CONTEST,
            category="",
            dataset="batiments",
            feature_id="7",
            dataset_version=2,
            verdict="wrong",
        )
    )
    reports.add_report_event(
        B,
        ReportEvent(
            at="2026-11-26T13:00:00Z", action="hidden", status=ReportStatus.RECEIVED
        ),
    )
    ids = lambda rs: [r.id for r in rs]  # noqa: E731
    assert ids(reports.list_reports(kind=ReportKind.REPORT)) == [A]
    assert ids(reports.list_reports(kind=ReportKind.REPORT, hidden=None)) == [B, A]
    assert ids(reports.list_reports(hidden=None, organisations=["regie"])) == [B]
    assert ids(reports.list_reports(hidden=None, category="eau")) == [B]
    assert ids(reports.list_reports(bbox=(15, -5, 16, -4), hidden=None)) == [C, A]
    assert ids(reports.list_reports(status=ReportStatus.RESOLVED)) == []
    assert ids(reports.list_reports(hidden=None, limit=1, offset=1)) == [B]
    assert ids(reports.list_reports(reporter="nobody")) == []
    contest = reports.list_reports(dataset="batiments")[0]
    assert (contest.feature_id, contest.dataset_version, contest.verdict) == (
        "7",
        2,
        "wrong",
    )
    assert reports.count_reports(kind=ReportKind.CONTEST, dataset="batiments") == {
        "wrong": 1
    }
    assert reports.count_reports(kind=ReportKind.REPORT, hidden=None) == {"received": 2}
    assert reports.count_reports(hidden=None, organisations=["regie"]) == {
        "received": 1
    }
    assert reports.count_reports(organisations=[]) == {}


def test_event_is_written_only_if_the_report_is_still_as_read(reports):
    """Two moderators read "received" at once: one records "resolved", the
    other's "rejected" (checked against the stale read) is refused and
    nothing of it is written. Hide/show the same."""
    reports.add_report(report())

    def status(to: ReportStatus, at: str) -> ReportEvent:
        return ReportEvent(at=at, action="status", status=to, actor="m")

    first = reports.add_report_event(
        A,
        status(ReportStatus.RESOLVED, "2026-11-26T11:00:00Z"),
        expect_status=ReportStatus.RECEIVED,
    )
    assert first.status is ReportStatus.RESOLVED
    with pytest.raises(Conflict):
        reports.add_report_event(
            A,
            status(ReportStatus.REJECTED, "2026-11-26T11:00:01Z"),
            expect_status=ReportStatus.RECEIVED,
        )
    hide = ReportEvent(
        at="2026-11-26T12:00:00Z", action="hidden", status=ReportStatus.RESOLVED
    )
    assert reports.add_report_event(A, hide, expect_hidden=False).hidden
    with pytest.raises(Conflict):
        reports.add_report_event(
            A, hide, expect_status=ReportStatus.RESOLVED, expect_hidden=False
        )
    with pytest.raises(NotFound):
        reports.add_report_event(B, hide, expect_hidden=False)
    stored = reports.get_report(A)
    assert stored.status is ReportStatus.RESOLVED and stored.hidden
    assert [e.action for e in reports.list_report_events(A)] == [
        "created",
        "status",
        "hidden",
    ]


def _points(store, slug: str, names: list[str]) -> None:
    geoms = [shapely.Point(15.3 + i / 100, -4.4).wkb for i in range(len(names))]
    batch = pa.record_batch(
        {"geometry": pa.array(geoms, pa.binary()), "nom": pa.array(names)}
    )
    store.write_version(slug, [batch], fields=[Field("nom", FieldType.TEXT)])


def test_feature_exists_in_a_given_version(reports):
    """A contest names the version a resident saw: the feature must have been
    part of that version, even if it is gone since."""
    reports.create_dataset(Dataset(slug="marches", title="Marchés"))
    _points(reports, "marches", ["a", "b", "c"])
    first = [r["fid"] for b in reports.read_batches("marches") for r in b.to_pylist()]
    _points(reports, "marches", ["a", "b"])  # version 2: "c" is gone
    now = {r["fid"] for b in reports.read_batches("marches") for r in b.to_pylist()}
    (gone,) = set(first) - now
    assert reports.feature_exists("marches", gone, version=1)
    assert not reports.feature_exists("marches", gone, version=2)
    assert not reports.feature_exists("marches", gone)  # the current one
    kept = sorted(now)[0]
    assert all(reports.feature_exists("marches", kept, version=v) for v in (1, 2))
    for fid, version in ((999, 1), (kept, 3), (kept, 0), (10**20, 1), (-(2**64), 2)):
        assert not reports.feature_exists("marches", fid, version=version)
