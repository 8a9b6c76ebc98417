"""Nothing lost, nothing twice: 50 concurrent clients × 20 submissions each
against a live server on each store, some retried after their answer was
lost (a client timeout mid-flight, then the same submission again), plus
deliberate rejections. Exactly 1,000 submissions are stored, each once, every
photo readable and intact; the only errors are the deliberate ones."""

from __future__ import annotations

import hashlib
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
from formutil import OR, instance, xlsform
from webutil import live_server

from quartier.access import LOCAL
from quartier.domain import ActorKind, Organisation
from quartier.services import accounts
from quartier.services.forms import add_form
from quartier.storage.base import SqlStore

CLIENTS, EACH = 50, 20


def photo(client: int, i: int) -> bytes:
    return hashlib.sha256(f"{client}-{i}".encode()).digest() * 64  # 2 KB


def test_fifty_clients_twenty_submissions_each(store: SqlStore, tmp_path: Path):
    store.ensure_schema()
    store.add_organisation(Organisation("ong", "ONG", ActorKind.NGO))
    accounts.create_user(store, "enqueteur", password="un-mot-de-passe", actor=LOCAL)
    accounts.grant_role(store, "enqueteur", "ong", "contributor", actor=LOCAL)
    token = accounts.issue_token(
        store, "enqueteur", scope="collect", actor=LOCAL
    ).secret
    add_form(store, xlsform(tmp_path / "enquete.xlsx"), organisation="ong", actor=LOCAL)

    with live_server(store) as url:
        endpoint = f"{url}/openrosa/key/{token}/submission"

        def one_client(client: int) -> Counter[str]:
            seen: Counter[str] = Counter()
            with httpx.Client(timeout=60, headers=OR) as http:
                for i in range(EACH):
                    files = {
                        "xml_submission_file": (
                            "s.xml",
                            instance(f"uuid:{client}-{i}", nom=f"lieu {client}-{i}"),
                            "text/xml",
                        ),
                        "photo.jpg": ("photo.jpg", photo(client, i), "image/jpeg"),
                    }
                    if i % 5 == 0:  # the answer is lost: the client gives up early
                        try:
                            http.post(endpoint, files=files, timeout=0.005)
                            seen["lost-but-answered"] += 1
                        except httpx.TimeoutException:
                            seen["timed-out"] += 1
                    r = http.post(endpoint, files=files)
                    seen[str(r.status_code)] += 1
                    if i % 10 == 3:  # a deliberate rejection: an unknown form
                        bad = instance(f"uuid:bad-{client}-{i}").replace(
                            b'id="enquete"', b'id="inconnu"'
                        )
                        r = http.post(
                            endpoint,
                            files={"xml_submission_file": ("s.xml", bad, "text/xml")},
                        )
                        seen[f"rejected-{r.status_code}"] += 1
            return seen

        with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
            totals = sum(pool.map(one_client, range(CLIENTS)), Counter())

    # every normal send was accepted (201: new, or already received)
    assert totals["201"] == CLIENTS * EACH, totals
    assert totals["rejected-404"] == CLIENTS * 2, totals
    assert not [k for k in totals if k[:1] == "5" or k == "rejected-500"], totals
    assert store.count_submissions("enquete") == CLIENTS * EACH
    stored = store.list_submissions(form_id="enquete", limit=None)
    assert len({s.instance_id for s in stored}) == CLIENTS * EACH
    for s in stored:
        client, i = (int(x) for x in s.instance_id.removeprefix("uuid:").split("-"))
        assert [a.name for a in s.attachments] == ["photo.jpg"]
        assert s.attachments[0].sha256 == hashlib.sha256(photo(client, i)).hexdigest()
    # and the bytes themselves read back (a sample of 50)
    for s in stored[:: CLIENTS * EACH // 50]:
        client, i = (int(x) for x in s.instance_id.removeprefix("uuid:").split("-"))
        assert store.get_attachment(s.instance_id, "photo.jpg")[1] == photo(client, i)
