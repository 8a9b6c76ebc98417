"""The store contract for forms and submissions (both stores)."""

from __future__ import annotations

import hashlib
import threading

import pytest

from quartier.domain import ActorKind, Organisation
from quartier.domain.forms import Form, Status, Submission
from quartier.errors import Conflict, NotFound

XML = "<h:html><h:head><model><instance><data id='f'/></instance></model></h:head></h:html>"


def form(version: str = "1", xml: str = XML, **kw) -> Form:
    return Form(
        form_id="profil",
        version=version,
        title="Profil",
        xml=xml,
        md5=hashlib.md5(xml.encode()).hexdigest(),
        organisation="ong",
        created=f"2026-11-26T10:00:0{version}Z",
        **kw,
    )


def sub(
    instance: str = "uuid:a", xml: str = "<data id='f'><n>1</n></data>"
) -> Submission:
    return Submission(
        instance_id=instance,
        form_id="profil",
        form_version="1",
        xml=xml,
        submitter="awa",
        received="2026-11-26T10:00:00Z",
    )


@pytest.fixture
def forms(store):
    store.ensure_schema()
    store.add_organisation(Organisation("ong", "ONG", ActorKind.NGO))
    return store


def test_form_versions_latest_first_and_idempotent(forms):
    assert forms.add_form(form("1", dataset="batiments", mapping={"/data/n": "n"}))[1]
    again, new = forms.add_form(form("1"))
    assert not new and again.version == "1"
    with pytest.raises(Conflict, match="new version"):
        forms.add_form(form("1", xml=XML + " "))
    forms.add_form(form("2", xml=XML.replace("f'", "g'")))
    assert forms.get_form("profil").version == "2"
    assert forms.get_form("profil", "1").mapping == {"/data/n": "n"}
    assert [f.version for f in forms.list_form_versions("profil")] == ["1", "2"]
    assert [(f.form_id, f.version) for f in forms.list_forms()] == [("profil", "2")]
    with pytest.raises(NotFound, match="no form 'autre'"):
        forms.get_form("autre")


def test_form_media(forms):
    forms.add_form(form("1"))
    forms.put_form_media("profil", "1", "logo.png", "image/png", b"\x89PNG..")
    assert forms.get_form_media("profil", "1", "logo.png") == (
        "image/png",
        b"\x89PNG..",
    )
    with pytest.raises(NotFound):
        forms.get_form_media("profil", "1", "absent.png")


def test_form_and_its_media_are_one_transaction(forms):
    forms.add_form(form("1"), [("carte.png", "image/png", b"\x89PNG carte")])
    assert forms.get_form_media("profil", "1", "carte.png")[1] == b"\x89PNG carte"
    # a media file that cannot be stored: the form version is not there either
    with pytest.raises(Exception):  # noqa: B017 - the store's own error
        forms.add_form(
            form("2"),
            [("a.png", "image/png", b"1"), ("a.png", "image/png", b"2")],
        )
    assert [f.version for f in forms.list_form_versions("profil")] == ["1"]


def test_submission_with_files_is_whole_and_idempotent(forms):
    forms.add_form(form("1"))
    photo = bytes(range(256)) * 10
    stored, new = forms.add_submission(sub(), [("photo.jpg", "image/jpeg", photo)])
    assert new and stored.status is Status.PENDING
    assert [a.name for a in stored.attachments] == ["photo.jpg"]
    assert stored.attachments[0].sha256 == hashlib.sha256(photo).hexdigest()
    # the same again: no change; a second part of a split submission: added
    _, new = forms.add_submission(sub(), [("photo.jpg", "image/jpeg", photo)])
    assert not new
    stored, new = forms.add_submission(sub(), [("son.m4a", "audio/mp4", b"abc")])
    assert not new and [a.name for a in stored.attachments] == ["photo.jpg", "son.m4a"]
    assert forms.get_attachment("uuid:a", "photo.jpg")[1] == photo
    with pytest.raises(Conflict, match="different submission"):
        forms.add_submission(sub(xml="<data id='f'><n>2</n></data>"))
    assert forms.count_submissions("profil") == 1


def test_failed_submission_writes_nothing(forms):
    forms.add_form(form("1"))
    # a file that cannot be stored (no name): the submission is not kept
    # either, not even what was written before it
    with pytest.raises(Exception):  # noqa: B017 (whatever the driver raises)
        forms.add_submission(
            sub("uuid:bad"), [("a.jpg", "image/jpeg", b"1"), (None, "t", b"")]
        )
    with pytest.raises(NotFound):
        forms.get_submission("uuid:bad")


def test_moderation_and_listing(forms):
    forms.add_form(form("1"))
    for i in range(3):
        forms.add_submission(sub(f"uuid:{i}", f"<data><n>{i}</n></data>"))
    done = forms.set_submission_status(
        "uuid:1", Status.REJECTED, reviewer="modo", note="photo floue", at="2026-11-27"
    )
    assert (done.status, done.reviewer, done.note) == (
        Status.REJECTED,
        "modo",
        "photo floue",
    )
    pending = forms.list_submissions(form_id="profil", status=Status.PENDING)
    assert sorted(s.instance_id for s in pending) == ["uuid:0", "uuid:2"]
    assert len(forms.list_submissions(submitter="awa", limit=2)) == 2
    with pytest.raises(NotFound):
        forms.set_submission_status(
            "uuid:x", Status.APPROVED, reviewer="m", note="", at=""
        )
    # an approval is final: a second review (a moderator racing) is refused
    forms.set_submission_status(
        "uuid:0", Status.APPROVED, reviewer="modo", note="", at="2026-11-27"
    )
    with pytest.raises(Conflict, match="already approved"):
        forms.set_submission_status(
            "uuid:0", Status.REJECTED, reviewer="autre", note="non", at="2026-11-28"
        )
    assert forms.get_submission("uuid:0").reviewer == "modo"


def test_concurrent_repeats_store_one(forms):
    forms.add_form(form("1"))
    results: list[bool] = []
    errors: list[Exception] = []

    def send() -> None:
        try:
            results.append(forms.add_submission(sub("uuid:same"))[1])
        except Exception as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=send) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert forms.count_submissions("profil") == 1
    # exactly one of them created it; the others found it, none failed
    assert results.count(True) == 1 and not errors
