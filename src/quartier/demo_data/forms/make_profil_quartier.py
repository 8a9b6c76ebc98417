"""Build ``profil_quartier.xlsx``, Quartier's example settlement-profiling form.

Run from the repository root to regenerate the file next to this script:

    .venv/bin/python src/quartier/demo_data/forms/make_profil_quartier.py

The quartier names come from ``../kinshasa/kisenso_quartiers_osm.geojson``
(OpenStreetMap, ODbL). Everything else is original to Quartier (Apache-2.0).
"""

from __future__ import annotations

import datetime as dt
import json
import re
import sys
import unicodedata
from pathlib import Path

import openpyxl

HERE = Path(__file__).resolve().parent
QUARTIERS = HERE.parent / "kinshasa" / "kisenso_quartiers_osm.geojson"
FR, EN = "French (fr)", "English (en)"

SURVEY_HEADER = [
    "type",
    "name",
    f"label::{FR}",
    f"label::{EN}",
    f"hint::{FR}",
    f"hint::{EN}",
    "required",
    "relevant",
    "constraint",
    f"constraint_message::{FR}",
    f"constraint_message::{EN}",
    "calculation",
    "appearance",
    "parameters",
]

# type, name, label fr, label en, then optional columns by name.
Row = tuple[str, str, str, str, dict[str, str]]
SURVEY: list[Row] = [
    ("start", "debut", "", "", {}),
    ("end", "fin", "", "", {}),
    ("today", "date_visite", "", "", {}),
    (
        "note",
        "intro",
        "Profil de quartier : une fiche par quartier visité, remplie avec les "
        "habitants.",
        "Settlement profile: one record per quartier visited, filled in with "
        "residents.",
        {},
    ),
    (
        "select_one quartiers",
        "quartier",
        "Quartier",
        "Quartier (neighbourhood)",
        {"required": "yes", "appearance": "minimal"},
    ),
    (
        "geopoint",
        "position",
        "Position du lieu de l'entretien",
        "Location of the interview",
        {
            "required": "yes",
            f"hint::{FR}": "Attendez une précision de 10 m ou mieux.",
            f"hint::{EN}": "Wait for an accuracy of 10 m or better.",
        },
    ),
    (
        "select_one types_habitat",
        "type_habitat",
        "Type d'habitat dominant",
        "Main settlement type",
        {"required": "yes"},
    ),
    (
        "integer",
        "nb_menages",
        "Nombre de ménages (estimation)",
        "Number of households (estimate)",
        {
            "required": "yes",
            "constraint": ". > 0 and . < 5000",
            f"constraint_message::{FR}": "Entre 1 et 4 999 ménages.",
            f"constraint_message::{EN}": "Between 1 and 4,999 households.",
        },
    ),
    (
        "integer",
        "annee_installation",
        "Année d'installation des premiers habitants",
        "Year the first residents settled",
        {
            "constraint": ". >= 1900 and . <= 2100",
            f"constraint_message::{FR}": "Une année entre 1900 et 2100.",
            f"constraint_message::{EN}": "A year between 1900 and 2100.",
        },
    ),
    (
        "select_multiple sources_eau",
        "acces_eau",
        "Où les ménages prennent-ils leur eau ?",
        "Where do households get their water?",
        {
            f"hint::{FR}": "Plusieurs réponses possibles.",
            f"hint::{EN}": "Several answers.",
        },
    ),
    (
        "decimal",
        "distance_sante",
        "Distance au centre de santé le plus proche (km)",
        "Distance to the nearest health facility (km)",
        {
            "constraint": ". >= 0 and . <= 100",
            f"constraint_message::{FR}": "Entre 0 et 100 km.",
            f"constraint_message::{EN}": "Between 0 and 100 km.",
        },
    ),
    (
        "select_one niveaux_risque",
        "risque",
        "Risque d'inondation ou d'érosion",
        "Flooding or erosion risk",
        {"required": "yes"},
    ),
    (
        "text",
        "risque_details",
        "Décrivez le risque (ravine, maisons menacées, crues…)",
        "Describe the risk (gully, threatened houses, floods…)",
        {"required": "yes", "relevant": "${risque} = 'eleve'"},
    ),
    (
        "image",
        "photo",
        "Photo du quartier (rue, ravine, point d'eau…)",
        "Photo of the quartier (street, gully, water point…)",
        {"parameters": "max-pixels=1280"},
    ),
    ("begin_repeat", "points_eau", "Points d'eau", "Water points", {}),
    (
        "geopoint",
        "point_eau_position",
        "Position du point d'eau",
        "Location of the water point",
        {"required": "yes"},
    ),
    (
        "select_one types_point_eau",
        "point_eau_type",
        "Type de point d'eau",
        "Type of water point",
        {"required": "yes"},
    ),
    ("end_repeat", "", "", "", {}),
    ("calculate", "nb_points_eau", "", "", {"calculation": "count(${points_eau})"}),
    ("text", "remarques", "Remarques", "Remarks", {"appearance": "multiline"}),
]

CHOICES: dict[str, list[tuple[str, str, str]]] = {
    "types_habitat": [
        ("loti", "Loti (planifié)", "Planned (surveyed plots)"),
        ("spontane", "Spontané (non loti)", "Informal (unplanned)"),
        ("mixte", "Mixte", "Mixed"),
        ("periurbain", "Périurbain, semi-rural", "Peri-urban, semi-rural"),
    ],
    "sources_eau": [
        ("robinet", "Robinet dans la parcelle", "Tap in the plot"),
        ("borne_fontaine", "Borne-fontaine publique", "Public standpipe"),
        ("puits", "Puits", "Well"),
        ("source", "Source aménagée", "Protected spring"),
        ("riviere", "Rivière ou source non aménagée", "River or unprotected spring"),
        ("vendeur", "Vendeur d'eau", "Water vendor"),
        ("pluie", "Eau de pluie", "Rainwater"),
    ],
    "niveaux_risque": [
        ("faible", "Faible", "Low"),
        ("moyen", "Moyen", "Medium"),
        ("eleve", "Élevé", "High"),
    ],
    "types_point_eau": [
        ("borne_fontaine", "Borne-fontaine", "Standpipe"),
        ("puits", "Puits", "Well"),
        ("forage", "Forage", "Borehole"),
        ("source", "Source", "Spring"),
        ("citerne", "Citerne ou réservoir", "Tank or reservoir"),
    ],
}

SETTINGS = {
    "form_id": "profil_quartier",
    "form_title": "Profil de quartier (Kisenso)",
    "version": "2026112601",
    "default_language": FR,
    "instance_name": "concat(${quartier}, ' ', ${date_visite})",
}


def quartier_choices(geojson: Path = QUARTIERS) -> list[tuple[str, str, str]]:
    """(name, label fr, label en) for each quartier of the file, by name."""
    features = json.loads(geojson.read_text(encoding="utf-8"))["features"]
    names = sorted({f["properties"]["name"] for f in features}, key=_slug)
    return [(_slug(n), n, n) for n in names]


def build(target: Path) -> Path:
    """Write the form to ``target`` and return it."""
    book = openpyxl.Workbook()
    survey = book.active
    assert survey is not None
    survey.title = "survey"
    survey.append(SURVEY_HEADER)
    for kind, name, label_fr, label_en, extra in SURVEY:
        cells = {"type": kind, "name": name, f"label::{FR}": label_fr}
        cells |= {f"label::{EN}": label_en, **extra}
        survey.append([cells.get(column, "") or None for column in SURVEY_HEADER])
    choices = book.create_sheet("choices")
    choices.append(["list_name", "name", f"label::{FR}", f"label::{EN}"])
    for list_name, items in {"quartiers": quartier_choices(), **CHOICES}.items():
        for item in items:
            choices.append([list_name, *item])
    settings = book.create_sheet("settings")
    settings.append(list(SETTINGS))
    settings.append(list(SETTINGS.values()))
    # Fixed document dates, so that rebuilding changes no metadata.
    book.properties.created = book.properties.modified = dt.datetime(2026, 11, 26)
    book.save(target)
    return target


def _slug(name: str) -> str:
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "_", ascii_name.lower()).strip("_")


if __name__ == "__main__":
    print(
        build(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE / "profil_quartier.xlsx")
    )
