"""Background jobs: status, progress, errors, ownership — and import jobs on
both stores (a failed import changes nothing; a retry adds no version)."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest

from quartier.access import ANONYMOUS, LOCAL, Principal
from quartier.errors import InvalidInput, NotFound
from quartier.services import uploads
from quartier.services.importer import ImportOptions
from quartier.services.jobs import JobRunner

AWA = Principal(username="awa")
IBRA = Principal(username="ibra")
ADMIN = Principal(username="root", is_admin=True)


def _wait(job) -> None:
    deadline = time.monotonic() + 60
    while job.active and time.monotonic() < deadline:
        time.sleep(0.01)


@pytest.fixture
def runner():
    r = JobRunner(workers=2)
    yield r
    r.shutdown()


def test_a_job_goes_from_queued_to_done_with_progress_and_result(runner):
    gate = threading.Event()
    cleaned = []

    def work(job):
        gate.wait(30)
        job.advance("rows", 3)
        job.advance("rows", 4)
        return {"answer": 42}

    job = runner.submit(
        work, kind="test", owner="awa", target="x", cleanup=lambda: cleaned.append(1)
    )
    assert job.status in ("queued", "running") and job.result is None
    gate.set()
    _wait(job)
    d = job.to_dict()
    assert (d["status"], d["result"], d["progress"]) == (
        "done",
        {"answer": 42},
        {"rows": 7},
    )
    assert d["started"] and d["finished"] and d["error"] == ""
    assert cleaned == [1]


def test_failures_say_why_and_bugs_do_not_leak_internals(runner):
    def refused(job):
        raise InvalidInput("ville.geojson: line 3: bad coordinates")

    def buggy(job):
        raise KeyError("/secret/path")

    a = runner.submit(refused, kind="test", owner="awa")
    b = runner.submit(buggy, kind="test", owner="awa")
    _wait(a)
    _wait(b)
    assert (a.status, a.error) == ("failed", "ville.geojson: line 3: bad coordinates")
    assert b.status == "failed" and b.error == "internal error (KeyError)"
    assert "/secret/path" not in json.dumps(b.to_dict())


def test_only_the_owner_or_an_administrator_sees_a_job(runner):
    job = runner.submit(lambda j: None, kind="test", owner="awa")
    _wait(job)
    assert runner.get(job.id, AWA) is job
    assert runner.get(job.id, ADMIN) is job
    for other in (IBRA, ANONYMOUS):
        with pytest.raises(NotFound):
            runner.get(job.id, other)
    with pytest.raises(NotFound):
        runner.get("0" * 16, AWA)
    assert runner.list(AWA) == [job] and runner.list(IBRA) == []
    assert runner.list(ADMIN) == [job]


def test_the_same_work_while_active_is_found_not_queued_again(runner):
    gate = threading.Event()
    job = runner.submit(lambda j: gate.wait(30), kind="test", owner="awa", key="k1")
    assert runner.find_active("k1") is job and runner.find_active("k2") is None
    gate.set()
    _wait(job)
    assert runner.find_active("k1") is None


def test_a_stopped_runner_refuses_work_instead_of_losing_it():
    r = JobRunner(workers=1)
    r.shutdown()
    cleaned = []
    job = r.submit(
        lambda j: 1, kind="test", owner="awa", cleanup=lambda: cleaned.append(1)
    )
    assert job.status == "failed" and "shutting down" in job.error and cleaned == [1]


# ------------------------------------------------------------ import jobs
def _geojson(path: Path, n: int) -> Path:
    features = [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [15.3 + i * 1e-3, -4.4]},
            "properties": {"nom": f"p{i}"},
        }
        for i in range(n)
    ]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return path


def _start(store, runner, source: Path, slug: str):
    folder = uploads.new_folder()
    with open(source, "rb") as fh:
        path, checksum = uploads.save(fh, folder, source.name, max_bytes=2**20)
    job = uploads.start_import(
        store,
        runner,
        LOCAL,
        folder=folder,
        path=path,
        checksum=checksum,
        options=ImportOptions(dataset=slug, author="local"),
    )
    _wait(job)
    return job, folder


def test_import_jobs_write_versions_and_retries_add_none(store, runner, tmp_path):
    store.ensure_schema()
    job, folder = _start(
        store, runner, _geojson(tmp_path / "puits.geojson", 3), "puits"
    )
    assert job.status == "done", job.error
    assert job.result["version"] == 1 and job.progress["rows"] == 3
    assert not folder.exists()  # the upload's folder is removed
    again, _ = _start(store, runner, _geojson(tmp_path / "puits.geojson", 3), "puits")
    assert again.result["unchanged"] is True and again.result["version"] == 1
    assert [v.version for v in store.list_versions("puits")] == [1]
    more, _ = _start(store, runner, _geojson(tmp_path / "puits.geojson", 5), "puits")
    assert more.result["version"] == 2 and store.get_dataset("puits").feature_count == 5


def test_a_failed_import_job_changes_nothing(store, runner, tmp_path):
    store.ensure_schema()
    bad = tmp_path / "casse.geojson"
    bad.write_text('{"type": "FeatureCollection", "features": [{"type": "Feat')
    job, folder = _start(store, runner, bad, "casse")
    assert job.status == "failed" and "casse.geojson" in job.error
    assert store.list_datasets() == [] and store.list_changes() == []
    assert not folder.exists()
