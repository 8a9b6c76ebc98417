"""An XForm as the JSON the portal's web form renderer reads (pure function).

The browser could parse the XForm itself, but the server already parses it
safely (defusedxml) and knows the portal's language: turning it into a small
JSON description here keeps the phone's script short (no XML namespaces, no
itext lookup) and sends only one language over a slow network. The
description is a faithful image of the XForm — same paths, same bind
expressions (XPath, evaluated in the browser), same primary instance — so the
browser builds exactly the instance XML ODK Collect would send.

>>> xml = '''<h:html xmlns="http://www.w3.org/2002/xforms"
...   xmlns:h="http://www.w3.org/1999/xhtml"><h:head><h:title>Essai</h:title>
...   <model><instance><data id="essai" version="3"><nom/><meta><instanceID/>
...   </meta></data></instance>
...   <bind nodeset="/data/nom" type="string" required="true()"/></model>
...   </h:head><h:body><input ref="/data/nom"><label>Nom ?</label></input>
...   </h:body></h:html>'''
>>> d = describe(xml, "fr")
>>> d["form_id"], d["version"], d["body"][0]["label"], d["binds"]["/data/nom"]
('essai', '3', 'Nom ?', {'type': 'string', 'required': 'true()'})
"""

from __future__ import annotations

import re
from typing import Any
from xml.etree.ElementTree import Element

import defusedxml.ElementTree as SafeET

from quartier.forms.xform import XF, H, child_named, primary_instance_root

JR = "{http://openrosa.org/javarosa}"
ORX = "{http://openrosa.org/xforms}"
_ITEXT = re.compile(r"jr:itext\(\s*'([^']+)'\s*\)")
_ITEMSET = re.compile(
    r"^\s*instance\(\s*'([^']+)'\s*\)/root/item(?:\[(.*)\])?\s*$", re.S
)
#: body elements that are questions, by tag → kind
_CONTROLS = {
    "input": "input",
    "select1": "select1",
    "select": "select",
    "upload": "upload",
    "trigger": "trigger",
    "range": "input",
    "rank": "select",
}
#: bind attributes passed on (XPath expressions and flags), by output name
_BIND = {
    "type": "type",
    "required": "required",
    "relevant": "relevant",
    "constraint": "constraint",
    "calculate": "calculate",
    "readonly": "readonly",
    f"{JR}constraintMsg": "constraintMsg",
    f"{JR}requiredMsg": "requiredMsg",
    f"{JR}preload": "preload",
    f"{JR}preloadParams": "preloadParams",
    f"{ORX}max-pixels": "maxPixels",
}


def describe(xml: str, lang: str) -> dict[str, Any]:
    """The web form of an XForm, labels in ``lang`` (``fr``, ``en``…) when
    the form has that translation, else in its default language."""
    html = SafeET.fromstring(xml)
    head = child_named(html, f"{H}head")
    model = child_named(head, f"{XF}model")
    root = primary_instance_root(model)
    texts = _texts(model, lang)
    binds: dict[str, dict[str, str]] = {}
    for bind in model.iter(f"{XF}bind"):
        out = {
            name: _resolve(bind.get(attr, ""), texts)
            if name.endswith("Msg")
            else bind.get(attr, "")
            for attr, name in _BIND.items()
            if bind.get(attr)
        }
        binds[bind.get("nodeset", "")] = out
    body = html.find(f"{H}body")
    return {
        "form_id": root.get("id", ""),
        "version": root.get("version", ""),
        "title": head.findtext(f"{H}title") or "",
        "root": _local(root.tag),
        "instance": _node(root),
        "binds": binds,
        "lists": _lists(model, texts),
        "body": _body(body, texts) if body is not None else [],
    }


def _texts(model: Element, lang: str) -> dict[str, str]:
    """itext id → text in the wanted language (``French (fr)`` matches fr)."""
    itext = model.find(f"{XF}itext")
    if itext is None:
        return {}
    chosen = None
    for tr in itext.findall(f"{XF}translation"):
        name = tr.get("lang", "")
        code = re.search(r"\((\w+)\)\s*$", name)
        if (code and code.group(1).lower() == lang) or name.lower() == lang:
            chosen = tr
            break
        if chosen is None or tr.get("default"):
            chosen = tr
    if chosen is None:
        return {}
    out = {}
    for text in chosen.findall(f"{XF}text"):
        values = text.findall(f"{XF}value")
        plain = [v for v in values if v.get("form") is None] or values
        if plain:
            out[text.get("id", "")] = _flat(plain[0])
    return out


def _flat(element: Element) -> str:
    """Text of a label; an ``<output value="EXPR"/>`` becomes ``{EXPR}``, which
    the browser replaces by the expression's value."""
    parts = [element.text or ""]
    for child in element:
        if _local(child.tag) == "output":
            parts.append("{" + (child.get("value") or "").strip() + "}")
        parts.append(child.tail or "")
    return "".join(parts).strip()


def _resolve(value: str, texts: dict[str, str]) -> str:
    found = _ITEXT.fullmatch(value.strip())
    return texts.get(found.group(1), "") if found else value


def _label(element: Element, tag: str, texts: dict[str, str]) -> str:
    found = element.find(f"{XF}{tag}")
    if found is None:
        return ""
    ref = found.get("ref")
    return _resolve(ref, texts) if ref else _flat(found)


def _node(element: Element) -> dict[str, Any]:
    out: dict[str, Any] = {"name": _local(element.tag)}
    if element.get(f"{JR}template") is not None:
        out["template"] = True
    if len(element):
        out["children"] = [_node(child) for child in element]
    elif (element.text or "").strip():
        out["value"] = element.text.strip()  # type: ignore[union-attr]
    return out


def _lists(model: Element, texts: dict[str, str]) -> dict[str, list[dict[str, str]]]:
    lists = {}
    for instance in model.findall(f"{XF}instance"):
        name = instance.get("id")
        if not name or not len(instance):
            continue
        items = []
        for item in instance[0]:
            fields = {_local(f.tag): (f.text or "").strip() for f in item}
            if "itextId" in fields:
                fields["label"] = texts.get(fields["itextId"], fields.get("name", ""))
            items.append(fields)
        lists[name] = items
    return lists


def _body(parent: Element, texts: dict[str, str]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for element in parent:
        tag = _local(element.tag)
        if tag == "group":
            group: dict[str, Any] = {
                "kind": "group",
                "ref": element.get("ref", ""),
                "label": _label(element, "label", texts),
                "appearance": element.get("appearance", ""),
            }
            repeat = element.find(f"{XF}repeat")
            if repeat is not None and len(element) <= 2:
                # pyxform's <group ref=X><label/><repeat nodeset=X>: one item
                group["kind"] = "repeat"
                group["ref"] = repeat.get("nodeset", "")
                group["count"] = repeat.get(f"{JR}count", "")
                group["children"] = _body(repeat, texts)
            else:
                group["children"] = _body(element, texts)
            out.append(group)
        elif tag == "repeat":
            out.append(
                {
                    "kind": "repeat",
                    "ref": element.get("nodeset", ""),
                    "label": _label(element, "label", texts),
                    "count": element.get(f"{JR}count", ""),
                    "children": _body(element, texts),
                }
            )
        elif tag in _CONTROLS:
            out.append(_control(element, _CONTROLS[tag], texts))
    return out


def _control(element: Element, kind: str, texts: dict[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "kind": kind,
        "ref": element.get("ref", ""),
        "label": _label(element, "label", texts),
        "hint": _label(element, "hint", texts),
        "appearance": element.get("appearance", ""),
    }
    if element.get("mediatype"):
        out["mediatype"] = element.get("mediatype")
    if kind in ("select1", "select"):
        itemset = element.find(f"{XF}itemset")
        if itemset is not None:
            found = _ITEMSET.match(itemset.get("nodeset", ""))
            if found:
                out["list"] = found.group(1)
                out["filter"] = (found.group(2) or "").strip()
            value = itemset.find(f"{XF}value")
            out["valueRef"] = value.get("ref", "name") if value is not None else "name"
        else:
            out["choices"] = [
                {
                    "name": item.findtext(f"{XF}value") or "",
                    "label": _label(item, "label", texts),
                }
                for item in element.findall(f"{XF}item")
            ]
    return out


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]
