"""The reference list of essential datasets a city keeps in its workspace.

Until a city changes it, the list shipped with Quartier is used. Changing one
entry copies the shipped list into the workspace first, so the city's list
is always whole. Every change is validated on the whole new list (unique
keys, known geometries…), written atomically, and recorded in the audit log.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from quartier import access
from quartier.access import Principal
from quartier.domain.diagnostic import (
    Entry,
    load_reference,
    parse_entries,
    shipped_documents,
)
from quartier.errors import InvalidInput, NotFound, PermissionDenied, StaleVersion
from quartier.storage.audit import now
from quartier.storage.base import SqlStore

SOURCE = "reference list"
Documents = list[dict[str, Any]]


def documents(store: SqlStore) -> tuple[bool, Documents]:
    """Is the city's own list in use, and its entries as documents."""
    _, docs = store.reference_documents()
    return (True, docs) if docs else (False, shipped_documents())


def entries(store: SqlStore, path: Path | None = None) -> list[Entry]:
    """The entries the diagnostic uses: ``path`` if given, else the city's."""
    if path is not None:
        return load_reference(path)
    return parse_entries(documents(store)[1], SOURCE)


def revision(store: SqlStore) -> int:
    """Changes each time the list changes (a cache key)."""
    return store.reference_documents()[0]


def export(store: SqlStore, reader: Principal | None = None) -> dict[str, Any]:
    """The list as a file would hold it; datasets assigned by hand that the
    reader may not see are left out."""
    custom, docs = documents(store)
    if reader is not None:
        seen = {d.slug for d in access.readable(reader, store.list_datasets())}
        docs = [
            d | {"datasets": [s for s in d.get("datasets", []) if s in seen]}
            if d.get("datasets")
            else d
            for d in docs
        ]
    return {"version": 1, "custom": custom, "entries": docs}


# ------------------------------------------------------------------ changes
def save_entry(
    store: SqlStore, who: Principal, doc: Mapping[str, Any], *, key: str | None = None
) -> Entry:
    """Add an entry, or replace entry ``key`` (its key may change)."""
    new = dict(doc)

    def change(docs: Documents) -> Documents:
        if key is None:
            if any(d["key"] == new.get("key") for d in docs):
                raise InvalidInput(f"key: an entry {new.get('key')!r} exists")
            return [*docs, new]
        if not any(d["key"] == key for d in docs):
            raise NotFound(f"no reference entry {key!r}")
        return [new if d["key"] == key else d for d in docs]

    written = _change(store, who, change, "reference.save", key or new.get("key"))
    return next(e for e in written if e.key == new["key"])


def remove_entry(store: SqlStore, who: Principal, key: str) -> None:
    def change(docs: Documents) -> Documents:
        kept = [d for d in docs if d["key"] != key]
        if len(kept) == len(docs):
            raise NotFound(f"no reference entry {key!r}")
        if not kept:
            raise InvalidInput("the reference list needs at least one entry")
        return kept

    _change(store, who, change, "reference.remove", key)


def replace_all(store: SqlStore, who: Principal, data: Any, source: str) -> int:
    """Put the list of a file (``{"entries": [...]}``) in place of the city's."""
    raw = data.get("entries") if isinstance(data, dict) else None
    parse_entries(raw, source)
    return len(
        _change(store, who, lambda _: list(raw or []), "reference.import", source)
    )


def reset(store: SqlStore, who: Principal) -> None:
    """Back to the list shipped with Quartier."""
    _require(who)
    for attempt in range(3):
        rev, _ = store.reference_documents()
        try:
            store.replace_reference_documents(
                [], expect=rev, at=now(), author=who.label
            )
            break
        except StaleVersion:
            if attempt == 2:
                raise
    store.audit(actor=who.label, action="reference.reset", target="reference")


def read_file(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise InvalidInput(f"{path}: not a readable JSON file ({e})") from None


# ------------------------------------------------------------------ helpers
def _require(who: Principal) -> None:
    if not access.can_edit_reference(who):
        raise PermissionDenied(
            f"{who.label} may not change the reference list: administrators only"
        )


def _change(
    store: SqlStore,
    who: Principal,
    change: Callable[[Documents], Documents],
    action: str,
    target: Any,
) -> list[Entry]:
    """Apply ``change`` to the current list and write it; a change made by
    someone else meanwhile is re-read and ``change`` applied again."""
    _require(who)
    for attempt in range(3):
        rev, docs = store.reference_documents()
        new = change(docs or shipped_documents())
        parsed = parse_entries(new, SOURCE)
        try:
            store.replace_reference_documents(
                new, expect=rev, at=now(), author=who.label
            )
        except StaleVersion:
            if attempt == 2:
                raise
            continue
        store.audit(
            actor=who.label,
            action=action,
            target="reference",
            detail={"entry": str(target)},
        )
        return parsed
    raise AssertionError("unreachable")
