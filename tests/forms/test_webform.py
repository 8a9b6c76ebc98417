"""The XForm → web form description (forms/webform.py): what the browser
renderer reads, for the example form, in both languages, and for every form of
the corpus that pyxform converts."""

from __future__ import annotations

from pathlib import Path

import pytest

from quartier.forms import EXAMPLE_FORM, XLSFormError, convert
from quartier.forms.webform import describe

CORPUS = Path(__file__).resolve().parents[2] / "../shared/data/demo/forms"


@pytest.fixture(scope="module")
def example() -> str:
    return convert(EXAMPLE_FORM).xml


def test_example_in_french_and_english(example: str) -> None:
    fr, en = describe(example, "fr"), describe(example, "en")
    assert (fr["form_id"], fr["version"], fr["root"]) == (
        "profil_quartier",
        "2026112601",
        "data",
    )
    labels = {c.get("ref"): c["label"] for c in fr["body"]}
    assert labels["/data/nb_menages"] == "Nombre de ménages (estimation)"
    assert {c.get("ref"): c["label"] for c in en["body"]}["/data/nb_menages"] == (
        "Number of households (estimate)"
    )
    assert fr["lists"]["types_habitat"][1]["label"] == "Spontané (non loti)"
    assert en["lists"]["types_habitat"][1]["label"] == "Informal (unplanned)"
    binds = fr["binds"]
    assert binds["/data/nb_menages"] == {
        "type": "int",
        "required": "true()",
        "constraint": ". > 0 and . < 5000",
        "constraintMsg": "Entre 1 et 4 999 ménages.",
    }
    assert (
        binds["/data/risque_details"]["relevant"].strip() == "/data/risque  = 'eleve'"
    )
    assert binds["/data/photo"]["maxPixels"] == "1280"
    assert binds["/data/meta/instanceID"]["preload"] == "uid"
    # an unknown language falls back to the form's default one
    assert describe(example, "sw")["lists"] == fr["lists"]


def test_repeat_select_and_instance(example: str) -> None:
    d = describe(example, "fr")
    (repeat,) = [c for c in d["body"] if c["kind"] == "repeat"]
    assert repeat["ref"] == "/data/points_eau"
    assert [c["ref"] for c in repeat["children"]] == [
        "/data/points_eau/point_eau_position",
        "/data/points_eau/point_eau_type",
    ]
    quartier = next(c for c in d["body"] if c.get("ref") == "/data/quartier")
    assert (quartier["kind"], quartier["list"], quartier["filter"]) == (
        "select1",
        "quartiers",
        "",
    )
    assert quartier["appearance"] == "minimal"
    photo = next(c for c in d["body"] if c.get("ref") == "/data/photo")
    assert (photo["kind"], photo["mediatype"]) == ("upload", "image/*")
    children = [c["name"] for c in d["instance"]["children"]]
    assert children.count("points_eau") == 2  # the template and one item
    assert d["instance"]["children"][children.index("points_eau")]["template"]


def test_choice_filter() -> None:
    xml = convert(CORPUS / "pyxform" / "choice_filter_test.xlsx").xml
    d = describe(xml, "fr")
    filtered = [c for c in _controls(d["body"]) if c.get("filter")]
    assert filtered and all(c["list"] in d["lists"] for c in filtered)


@pytest.mark.parametrize(
    "path",
    sorted(p for p in CORPUS.rglob("*.xls*")),
    ids=lambda p: p.name,
)
def test_every_corpus_form_is_described(path: Path) -> None:
    try:
        xml = convert(path).xml
    except XLSFormError:
        return  # refused by pyxform: nothing to render (tested in test_xlsform)
    d = describe(xml, "fr")
    refs = {c["ref"] for c in _controls(d["body"]) if c.get("ref")}
    assert refs <= set(d["binds"]) | _paths(d["instance"], "")


def _controls(items: list[dict]) -> list[dict]:
    out = []
    for item in items:
        out.append(item)
        out.extend(_controls(item.get("children", [])))
    return out


def _paths(node: dict, prefix: str) -> set[str]:
    path = f"{prefix}/{node['name']}"
    out = {path}
    for child in node.get("children", []):
        out |= _paths(child, path)
    return out
