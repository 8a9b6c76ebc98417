"""The exchange ODK Collect performs, replayed request by request, on both
stores: form list, form download (hash checked), HEAD then POST of a
submission with a photo, a retry, the token-in-URL variant, and refusals.

The order and headers follow the OpenRosa Form List and Form Submission APIs
and ODK Collect's documented behaviour: every request carries
``X-OpenRosa-Version: 1.0``; Collect first sends a request without
credentials and answers a 401 ``WWW-Authenticate`` challenge; it checks the
list's ``md5:`` hash against the downloaded form; it sends ``HEAD`` to the
submission URL before the multipart ``POST``.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterator
from pathlib import Path

import defusedxml.ElementTree as SafeXML
import pytest
from fastapi.testclient import TestClient
from formutil import (
    LIST_NS,
    OR,
    PASSWORD,
    RESPONSE_NS,
    basic,
    instance,
    multipart,
    xlsform,
)
from webutil import make_client

from quartier.access import LOCAL
from quartier.domain import ActorKind, Organisation
from quartier.domain.forms import Status
from quartier.services import accounts
from quartier.services.forms import add_form
from quartier.storage.base import SqlStore


@pytest.fixture
def server(
    store: SqlStore, tmp_path: Path
) -> Iterator[tuple[TestClient, SqlStore, str]]:
    store.ensure_schema()
    store.add_organisation(Organisation("ong", "ONG Quartiers", ActorKind.NGO))
    for name, role in (("enqueteur", "contributor"), ("lecteur", "viewer")):
        accounts.create_user(store, name, password=PASSWORD, actor=LOCAL)
        accounts.grant_role(store, name, "ong", role, actor=LOCAL)
    token = accounts.issue_token(
        store, "enqueteur", scope="collect", actor=LOCAL
    ).secret
    add_form(store, xlsform(tmp_path / "enquete.xlsx"), organisation="ong", actor=LOCAL)
    with make_client(store) as client:
        yield client, store, token


def test_the_collect_exchange(server):
    client, store, _ = server
    # 1. no credentials: a Basic challenge, with the OpenRosa header
    r = client.get("/openrosa/formList", headers=OR)
    assert r.status_code == 401
    assert r.headers["www-authenticate"].startswith("Basic")
    assert r.headers["x-openrosa-version"] == "1.0"
    # 2. the form list
    r = client.get("/openrosa/formList", headers=basic("enqueteur"))
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/xml")
    assert r.headers["x-openrosa-version"] == "1.0"
    root = SafeXML.fromstring(r.content)
    assert root.tag == f"{LIST_NS}xforms"
    (xform,) = root.findall(f"{LIST_NS}xform")
    fields = {child.tag.removeprefix(LIST_NS): child.text for child in xform}
    assert fields["formID"] == "enquete" and fields["version"] == "1"
    assert fields["name"] == "Enquête de quartier"
    assert fields["downloadUrl"].endswith("/openrosa/forms/enquete.xml")
    assert "manifestUrl" not in fields  # no media
    # 3. the form, whose MD5 is the announced hash
    form = client.get(fields["downloadUrl"], headers=basic("enqueteur"))
    assert form.status_code == 200
    assert fields["hash"] == "md5:" + hashlib.md5(form.content).hexdigest()
    # 4. HEAD before POST
    head = client.head("/openrosa/submission", headers=basic("enqueteur"))
    assert head.status_code == 204
    assert int(head.headers["x-openrosa-accept-content-length"]) >= 10 * 2**20
    # 5. the submission with its photo
    instance_id = f"uuid:{uuid.uuid4()}"
    sent = client.post(
        "/openrosa/submission",
        headers=basic("enqueteur"),
        files=multipart(instance(instance_id)),
    )
    assert sent.status_code == 201, sent.text
    assert sent.headers["x-openrosa-version"] == "1.0"
    message = SafeXML.fromstring(sent.content).find(f"{RESPONSE_NS}message")
    assert message is not None and "pending" in message.text
    stored = store.get_submission(instance_id)
    assert stored.status is Status.PENDING and stored.submitter == "enqueteur"
    assert [a.name for a in stored.attachments] == ["photo.jpg"]
    assert store.get_attachment(instance_id, "photo.jpg")[1] == b"\xff\xd8\xff JPEG"
    # 6. Collect retries after a lost answer: still one submission
    again = client.post(
        "/openrosa/submission",
        headers=basic("enqueteur"),
        files=multipart(instance(instance_id)),
    )
    assert again.status_code == 201 and "already" in again.text
    assert store.count_submissions("enquete") == 1
    # the audit log says who sent what
    assert any(
        e["action"] == "submission.received" and e["actor"] == "enqueteur"
        for e in store.list_audit(limit=None)
    )


def test_token_in_the_url_like_an_app_user(server):
    client, store, token = server
    listed = client.get(f"/openrosa/key/{token}/formList", headers=OR)
    assert listed.status_code == 200
    assert f"/openrosa/key/{token}/forms/enquete.xml" in listed.text
    sent = client.post(
        f"/openrosa/key/{token}/submission",
        headers=OR,
        files=multipart(instance("uuid:par-jeton")),
    )
    assert sent.status_code == 201
    assert client.get("/openrosa/key/qt_faux/formList", headers=OR).status_code == 401


def test_collect_and_api_tokens_do_not_mix(server):
    """A collect token lives in a URL typed on shared phones: it opens the
    forms and nothing else; an API token (full rights) is refused in a URL."""
    client, store, collect = server
    as_bearer = client.get(
        "/api/submissions/mine", headers={"Authorization": f"Bearer {collect}"}
    )
    assert as_bearer.status_code == 401
    assert "Collect" in as_bearer.text
    api = accounts.issue_token(store, "enqueteur", actor=LOCAL).secret
    in_url = client.get(f"/openrosa/key/{api}/formList", headers=OR)
    assert in_url.status_code == 401
    assert "collect token" in in_url.text
    assert (
        client.get(
            "/api/submissions/mine", headers={"Authorization": f"Bearer {api}"}
        ).status_code
        == 200
    )


def test_refusals_store_nothing(server):
    client, store, _ = server
    who = basic("enqueteur")
    cases = [
        (b"<data id='enquete'><nom>x", 400, "not well-formed"),
        (b"<data id='enquete'><nom>x</nom></data>", 400, "instanceID"),
        (instance("uuid:v9", version="9"), 400, "no version '9'"),
        (
            b"<data id='inconnu'><meta><instanceID>uuid:u</instanceID></meta></data>",
            404,
            "no form",
        ),
    ]
    for xml, status, text in cases:
        r = client.post("/openrosa/submission", headers=who, files=multipart(xml))
        assert r.status_code == status, (xml, r.text)
        assert text in r.text and r.headers["x-openrosa-version"] == "1.0"
    exe = [
        ("xml_submission_file", ("s.xml", instance("uuid:exe"), "text/xml")),
        ("virus.exe", ("virus.exe", b"MZ", "application/x-msdownload")),
    ]
    r = client.post("/openrosa/submission", headers=who, files=exe)
    assert r.status_code == 400 and "not accepted" in r.text
    big = client.post(
        "/openrosa/submission",
        headers=who,
        files=multipart(instance("uuid:gros"), photo=b"0" * (11 * 2**20)),
    )
    assert big.status_code == 413 and "limit" in big.text
    assert "<OpenRosaResponse" in big.text  # Collect shows the message
    huge_xml = client.post(
        "/openrosa/submission",
        headers=who,
        files=[("xml_submission_file", ("s.xml", b" " * (6 * 2**20), "text/xml"))],
    )
    assert huge_xml.status_code == 413 and "xml_submission_file" in huge_xml.text
    too_many = client.post(
        "/openrosa/submission",
        headers=who,
        files=[("xml_submission_file", ("s.xml", instance("uuid:tas"), "text/xml"))]
        + [
            (f"p{i}.jpg", (f"p{i}.jpg", b"0" * (9 * 2**20), "image/jpeg"))
            for i in range(6)
        ],
    )
    assert too_many.status_code == 413 and "in all" in too_many.text
    r = client.post(
        "/openrosa/submission",
        headers=who,
        data={"rien": "x"},
        files=[("a", ("a", b"", "text/plain"))],
    )
    assert r.status_code == 400 and "xml_submission_file" in r.text
    assert store.count_submissions("enquete") == 0
    # a viewer sees no form and may send nothing
    viewer = basic("lecteur")
    listed = client.get("/openrosa/formList", headers=viewer)
    assert "<xform>" not in listed.text
    r = client.post(
        "/openrosa/submission", headers=viewer, files=multipart(instance("uuid:v"))
    )
    assert r.status_code == 404
    # a wrong password is a challenge, not a crash
    r = client.get("/openrosa/formList", headers=basic("enqueteur", "faux"))
    assert r.status_code == 401 and "www-authenticate" in r.headers
