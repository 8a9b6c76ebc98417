"""The six kinds of actors the founding text names, and their organisations."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from quartier.errors import InvalidInput


class ActorKind(StrEnum):
    LOCAL_AUTHORITY = "local_authority"
    BUSINESS = "business"
    STARTUP = "startup"
    UNIVERSITY = "university"
    NGO = "ngo"
    RESIDENTS = "residents"

    @classmethod
    def parse(cls, value: str) -> ActorKind:
        try:
            return cls(value.strip().lower().replace("-", "_"))
        except ValueError:
            allowed = ", ".join(k.value for k in cls)
            raise InvalidInput(
                f"unknown actor kind {value!r}; expected one of: {allowed}"
            ) from None


#: French labels, the default language of the interface.
ACTOR_LABELS_FR = {
    ActorKind.LOCAL_AUTHORITY: "Autorité locale",
    ActorKind.BUSINESS: "Entreprise",
    ActorKind.STARTUP: "Start-up",
    ActorKind.UNIVERSITY: "Université",
    ActorKind.NGO: "ONG",
    ActorKind.RESIDENTS: "Groupe d'habitant·es",
}


@dataclass(frozen=True)
class Organisation:
    slug: str
    name: str
    kind: ActorKind
    description: str = ""
    website: str = ""
