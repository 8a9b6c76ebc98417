"""What OpenRosa tests share: a small XLSForm, submissions, credentials."""

from __future__ import annotations

import base64
from pathlib import Path

import openpyxl

OR = {"X-OpenRosa-Version": "1.0"}
LIST_NS = "{http://openrosa.org/xforms/xformsList}"
RESPONSE_NS = "{http://openrosa.org/http/response}"
PASSWORD = "un-mot-de-passe"


def xlsform(path: Path) -> Path:
    book = openpyxl.Workbook()
    survey = book.active
    survey.title = "survey"
    for row in (
        ("type", "name", "label", "required"),
        ("text", "nom", "Nom du lieu", "yes"),
        ("geopoint", "lieu", "Position", ""),
        ("image", "photo", "Photo", ""),
    ):
        survey.append(row)
    settings = book.create_sheet("settings")
    settings.append(("form_id", "form_title", "version"))
    settings.append(("enquete", "Enquête de quartier", "1"))
    book.save(path)
    return path


def instance(instance_id: str, version: str = "1", nom: str = "Marché") -> bytes:
    return (
        f'<data id="enquete" version="{version}"><nom>{nom}</nom>'
        "<lieu>-4.41 15.34 300 5</lieu><photo>photo.jpg</photo>"
        f"<meta><instanceID>{instance_id}</instanceID></meta></data>"
    ).encode()


def basic(user: str, password: str = PASSWORD) -> dict[str, str]:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {**OR, "Authorization": f"Basic {token}"}


def multipart(xml: bytes, photo: bytes = b"\xff\xd8\xff JPEG") -> list:
    return [
        ("xml_submission_file", ("submission.xml", xml, "text/xml")),
        ("photo.jpg", ("photo.jpg", photo, "image/jpeg")),
    ]
