"""The moderators' console page for reports, on both stores: the reports and
the contests are paged on the server, and their counts come from the store
(all the reports the caller handles), never from the page shown."""

from __future__ import annotations

import re

from apiutil import city
from reportutil import CATEGORIES
from webutil import make_client

from quartier.domain.reports import Report, ReportKind

PAGE = 50


def _report(i: int, **kw) -> Report:
    values = {
        "id": f"6f1c2a4e-0000-4000-8000-{i:012d}",
        "kind": ReportKind.REPORT,
        "category": "dechets",
        "organisation": "ville",
        "lon": 15.34,
        "lat": -4.41,
        "description": f"report-{i:03d}",
        "created": f"2026-11-26T10:{i // 60:02d}:{i % 60:02d}Z",
    }
    return Report(**(values | kw))


def _contest(i: int, verdict: str) -> Report:
    return _report(
        500 + i,
        kind=ReportKind.CONTEST,
        category="",
        dataset="marches",
        feature_id="1",
        dataset_version=1,
        verdict=verdict,
        description=f"contest-{i:03d}",
    )


def test_console_pages_reports_and_contests_with_store_counts(store):
    headers = city(store)
    for i in range(PAGE + 12):
        store.add_report(_report(i))
    store.add_report(_report(400, organisation="ong"))  # not the city's
    for i in range(PAGE + 10):
        store.add_report(_contest(i, "wrong" if i % 3 else "correct"))
    agent = headers["agent"]  # steward of the city
    with make_client(store, report_categories=CATEGORIES) as client:
        first = client.get("/console/signalements", headers=agent)
        assert first.status_code == 200, first.text
        shown = re.findall(r'<tr data-report="', first.text)
        assert len(shown) == PAGE
        assert "Signalements correspondants : 62" in first.text
        assert "reçu (62)" in first.text
        assert "report-061" in first.text and "report-011" not in first.text
        assert 'href="/console/signalements?page=2" rel="next"' in first.text
        # 60 contests: 50 on this page, but counts of all of them
        assert len(re.findall(r'<tr data-contest="', first.text)) == PAGE
        assert "« C&#39;est juste » : 20 · « C&#39;est faux ici » : 40" in first.text
        assert 'href="/console/signalements?avis=2#h-contests"' in first.text
        second = client.get("/console/signalements?page=2&avis=2", headers=agent)
        assert len(re.findall(r'<tr data-report="', second.text)) == 12
        assert "report-000" in second.text and "report-400" not in second.text
        assert len(re.findall(r'<tr data-contest="', second.text)) == 10
        assert "« C&#39;est juste » : 20 · « C&#39;est faux ici » : 40" in second.text
        assert 'rel="next"' not in second.text
        filtered = client.get("/console/signalements?statut=resolved", headers=agent)
        assert "Signalements correspondants : 0" in filtered.text
