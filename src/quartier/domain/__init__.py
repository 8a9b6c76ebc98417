"""Dataclasses and pure rules. No web framework, no SQL."""

from quartier.domain.actors import ActorKind, Organisation
from quartier.domain.catalogue import (
    AccessLevel,
    Dataset,
    Field,
    FieldType,
    Version,
    make_slug,
)
from quartier.domain.workspace import AdminUnit, Workspace

__all__ = [
    "AccessLevel",
    "ActorKind",
    "AdminUnit",
    "Dataset",
    "Field",
    "FieldType",
    "Organisation",
    "Version",
    "Workspace",
    "make_slug",
]
