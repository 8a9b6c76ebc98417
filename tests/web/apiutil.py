"""A small city for platform-API tests: organisations, datasets, users, tokens."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pyarrow as pa
import shapely

from quartier.access import LOCAL
from quartier.domain import (
    AccessLevel,
    ActorKind,
    Dataset,
    Field,
    FieldType,
    Organisation,
)
from quartier.services import accounts

X0, Y0 = 15.34, -4.41
SECRET_PHONE = "TEL-0812-SECRET"
PASSWORD = "un-mot-de-passe"
#: user → (organisation, role); "admin" is a platform administrator
USERS = {
    "admin": None,
    "gardienne": ("ong", "steward"),
    "cheffe": ("ong", "admin"),
    "lecteur": ("unikin", "viewer"),
    "agent": ("ville", "steward"),
    "benevole": ("ville", "contributor"),
}


def points(n: int, marker: str, *, dx: float = 1e-4) -> pa.RecordBatch:
    geoms = [shapely.Point(X0 + i * dx, Y0 + i * dx) for i in range(n)]
    return pa.record_batch(
        {
            "geometry": pa.array([g.wkb for g in geoms], pa.binary()),
            "nom": pa.array([f"{marker}-{i}" for i in range(n)]),
            "telephone": pa.array([SECRET_PHONE] * n),
            "rang": pa.array(list(range(n)), pa.int64()),
        }
    )


FIELDS = [
    Field("nom", FieldType.TEXT),
    Field("telephone", FieldType.TEXT),
    Field("rang", FieldType.INTEGER),
]


def add_dataset(
    store, slug: str, level: str, *, producer: str = "ong", n: int = 5, **extra
) -> None:
    store.create_dataset(
        Dataset(
            slug=slug,
            title=extra.pop("title", f"Titre {slug}"),
            access=AccessLevel(level),
            producer=producer,
            steward=extra.pop("steward", "ville"),
            sensitive_fields=["telephone"],
            **extra,
        )
    )
    write(store, slug, n, slug.upper())


def write(store, slug: str, n: int, marker: str) -> None:
    store.write_version(slug, [points(n, marker)], fields=FIELDS, geometry_type="POINT")


def city(store) -> dict[str, dict[str, str]]:
    """Organisations, two datasets, five users; returns auth headers by user."""
    store.ensure_schema()
    for slug, kind in (
        ("ville", "local_authority"),
        ("ong", "ngo"),
        ("unikin", "university"),
    ):
        store.add_organisation(Organisation(slug, slug.upper(), ActorKind(kind)))
    add_dataset(
        store,
        "marches",
        "public",
        title="Marchés de Kisenso",
        theme="économie",
        licence="ODbL-1.0",
        temporal_start="2018-01-01",
        temporal_end="2018-12-31",
        title_en="Markets",
    )
    add_dataset(store, "dossiers", "restricted", theme="santé", title="Dossiers")
    headers = {}
    for name, membership in USERS.items():
        accounts.create_user(
            store, name, password=PASSWORD, is_admin=membership is None, actor=LOCAL
        )
        if membership:
            accounts.grant_role(store, name, *membership, actor=LOCAL)
        secret = accounts.issue_token(store, name, actor=LOCAL).secret
        headers[name] = {"Authorization": f"Bearer {secret}"}
    headers["anonymous"] = {}
    return headers


def geojson_file(path: Path, n: int, marker: str = "x") -> Path:
    features = [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [X0 + i * 1e-4, Y0]},
            "properties": {"nom": f"{marker}-{i}", "rang": i},
        }
        for i in range(n)
    ]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return path


def wait_job(client, url: str, headers: dict[str, str]) -> dict:
    """Poll a job until it has finished (generous deadline; not a timing test)."""
    deadline = time.monotonic() + 60
    while True:
        job = client.get(url, headers=headers).json()
        if job["status"] in ("done", "failed") or time.monotonic() > deadline:
            return job
        time.sleep(0.05)


def sign_in_form(client, username: str, password: str, suite: str = "/console"):
    """Sign in through the portal's form (with its own CSRF token), as a browser."""
    form = client.get("/connexion").text
    token = form.split('name="login_token" value="')[1].split('"')[0]
    return client.post(
        "/connexion",
        data={
            "username": username,
            "password": password,
            "suite": suite,
            "login_token": token,
        },
        follow_redirects=False,
    )
