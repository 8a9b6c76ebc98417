"""Read what a client needs out of an ODK XForm (the XML pyxform writes).

The XForm is the stable contract (ODK XForms spec), so the form's identity,
its fields, languages and media are read from it rather than from pyxform's
internal structures. XML is parsed with defusedxml.

>>> xml = '''<h:html xmlns="http://www.w3.org/2002/xforms"
...   xmlns:h="http://www.w3.org/1999/xhtml"><h:head><h:title>Essai</h:title>
...   <model><instance><data id="essai" version="3"><nom/><meta><instanceID/>
...   </meta></data></instance>
...   <bind nodeset="/data/nom" type="string"/></model></h:head>
...   <h:body><input ref="/data/nom"><label>Nom ?</label></input></h:body>
... </h:html>'''
>>> info = read_xform(xml)
>>> info.form_id, info.title, info.version
('essai', 'Essai', '3')
>>> [(f.path, f.type, f.label) for f in info.fields]
[('/data/nom', 'string', 'Nom ?'), ('/data/meta/instanceID', 'string', None)]
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from xml.etree.ElementTree import Element

import defusedxml.ElementTree as SafeET

XF = "{http://www.w3.org/2002/xforms}"
H = "{http://www.w3.org/1999/xhtml}"
ODK = "{http://www.opendatakit.org/xforms}"
#: Body controls whose tag, not the bind type, says what the field is.
_SELECTS = {
    f"{XF}select1": "select1",
    f"{XF}select": "select",
    f"{ODK}rank": "odk:rank",
}
_ITEXT_REF = re.compile(r"jr:itext\('([^']+)'\)")
#: ``jr://images/a.png``, ``jr://file-csv/list.csv``… (not ``jr://instance/…``).
_MEDIA_REF = re.compile(r"jr://(?:images|audio|video|file|file-csv)/([^\"'<>\s]+)")
#: What precedes a field's name in an absolute path (``/data/group/``).
_PATH_END = re.compile(r"^/(?:[\w.-]+/)+(?=[\w.-]+$)")


@dataclass(frozen=True)
class FormField:
    """One leaf of the form's primary instance, i.e. one value of a submission.

    ``type`` is the XForm data type of its bind (``string``, ``int``,
    ``decimal``, ``date``, ``time``, ``dateTime``, ``geopoint``,
    ``geotrace``, ``geoshape``, ``binary``…), except for choice questions,
    typed by their control: ``select1`` (select_one), ``select``
    (select_multiple), ``odk:rank``. ``label`` is in the form's default
    language (``None`` for calculations and metadata).
    """

    path: str
    name: str
    type: str
    label: str | None
    in_repeat: bool


@dataclass(frozen=True)
class XFormInfo:
    form_id: str
    title: str
    version: str | None
    fields: tuple[FormField, ...]
    languages: tuple[str, ...]
    media: tuple[str, ...]


def read_xform(xml: str) -> XFormInfo:
    """Identity, fields, languages and referenced media files of an XForm."""
    html = SafeET.fromstring(xml)
    head = child_named(html, f"{H}head")
    model = child_named(head, f"{XF}model")
    body = html.find(f"{H}body")
    root = primary_instance_root(model)
    title = head.findtext(f"{H}title") or ""
    translations = _translations(model)
    languages = tuple(translations)
    texts = translations[_default_language(model)] if languages else {}
    controls = _controls(body) if body is not None else {}
    repeats = _repeat_paths(body) if body is not None else set()
    binds = {
        b.get("nodeset", ""): b.get("type", "string") for b in model.iter(f"{XF}bind")
    }
    fields = tuple(
        _field(path, binds, controls, texts, repeats) for path in _leaf_paths(root)
    )
    return XFormInfo(
        form_id=root.get("id", ""),
        title=title,
        version=root.get("version"),
        fields=fields,
        languages=languages,
        media=tuple(sorted(set(_MEDIA_REF.findall(xml)))),
    )


def child_named(element: Element, tag: str) -> Element:
    found = element.find(tag)
    if found is None:
        raise ValueError(f"not an XForm: no {tag} element")
    return found


def primary_instance_root(model: Element) -> Element:
    # The primary instance is the first one; secondary ones (choice lists,
    # external files) carry an ``id``.
    for instance in model.findall(f"{XF}instance"):
        if instance.get("id") is None and len(instance):
            return instance[0]
    raise ValueError("not an XForm: no primary instance")


def _leaf_paths(root: Element) -> list[str]:
    """Absolute paths of the instance's leaves, in document order, once each.

    A repeat appears twice in pyxform's instance (its ``jr:template`` and a
    first copy): the dict keeps its paths once.
    """
    paths: dict[str, None] = {}

    def walk(element: Element, prefix: str) -> None:
        path = f"{prefix}/{_local(element.tag)}"
        if len(element) == 0:
            paths[path] = None
        for child in element:
            walk(child, path)

    for child in root:
        walk(child, f"/{_local(root.tag)}")
    return list(paths)


def _translations(model: Element) -> dict[str, dict[str, str]]:
    """``{lang: {itext id: text}}`` with the plain (non-media) text forms."""
    result: dict[str, dict[str, str]] = {}
    for translation in model.iter(f"{XF}translation"):
        texts = result.setdefault(translation.get("lang", ""), {})
        for text in translation.iter(f"{XF}text"):
            for value in text.findall(f"{XF}value"):
                if value.get("form") is None:
                    texts[text.get("id", "")] = _text(value)
    return result


def _default_language(model: Element) -> str:
    translations = list(model.iter(f"{XF}translation"))
    for translation in translations:
        if translation.get("default") is not None:
            return translation.get("lang", "")
    return translations[0].get("lang", "")


def _controls(body: Element) -> dict[str, Element]:
    """Body controls (input, select1, upload…) by the path they fill."""
    return {
        ref: element
        for element in body.iter()
        if (ref := element.get("ref")) and element.tag != f"{XF}group"
    }


def _repeat_paths(body: Element) -> set[str]:
    return {r.get("nodeset", "") for r in body.iter(f"{XF}repeat")}


def _field(
    path: str,
    binds: dict[str, str],
    controls: dict[str, Element],
    texts: dict[str, str],
    repeats: set[str],
) -> FormField:
    control = controls.get(path)
    kind = binds.get(path, "string").removeprefix("xsd:")
    if control is not None and control.tag in _SELECTS:
        kind = _SELECTS[control.tag]
    return FormField(
        path=path,
        name=path.rsplit("/", 1)[1],
        type=kind,
        label=_label(control, texts) if control is not None else None,
        in_repeat=any(path.startswith(r + "/") for r in repeats),
    )


def _label(control: Element, texts: dict[str, str]) -> str | None:
    label = control.find(f"{XF}label")
    if label is None:
        return None
    match = _ITEXT_REF.fullmatch(label.get("ref", ""))
    if match:
        return texts.get(match.group(1))
    return _text(label) or None


def _text(element: Element) -> str:
    """The element's text, ``<output value="/data/x"/>`` written ``${x}``."""
    parts = [element.text or ""]
    for child in element:
        if child.tag == f"{XF}output":
            value = child.get("value", "").strip()
            parts.append("${" + (_PATH_END.sub("", value) or value) + "}")
        else:
            parts.append(_text(child))
        parts.append(child.tail or "")
    return " ".join("".join(parts).split())


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]
