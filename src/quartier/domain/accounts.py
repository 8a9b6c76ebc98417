"""Users, roles in organisations, API tokens: dataclasses and pure rules."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum

from quartier.errors import InvalidInput


class Role(StrEnum):
    """A user's role in one organisation, from most to least powerful."""

    ADMIN = "admin"
    STEWARD = "steward"
    MODERATOR = "moderator"
    CONTRIBUTOR = "contributor"
    VIEWER = "viewer"

    @classmethod
    def parse(cls, value: str) -> Role:
        try:
            return cls(value.strip().lower())
        except ValueError:
            allowed = ", ".join(r.value for r in cls)
            raise InvalidInput(
                f"unknown role {value!r}; expected one of: {allowed}"
            ) from None


@dataclass(frozen=True)
class User:
    username: str
    display_name: str = ""
    email: str = ""
    is_admin: bool = False
    active: bool = True
    created: str = ""
    #: organisation slug → role
    roles: dict[str, Role] = field(default_factory=dict)


@dataclass(frozen=True)
class Token:
    """An API token; the secret itself is never stored, only its hash."""

    id: str
    username: str
    name: str = ""
    created: str = ""
    expires: str | None = None
    last_used: str | None = None
    revoked: str | None = None
    #: where it works: ``api`` (Bearer header) or ``collect`` (ODK server URL)
    scope: str = "api"


#: a token's uses: a collect token sits in a URL typed on shared phones, so
#: it opens only the OpenRosa endpoints, and an API token never works there
TOKEN_SCOPES = ("api", "collect")


_USERNAME = re.compile(r"[a-z0-9][a-z0-9._-]{1,62}")


def validate_username(name: str) -> str:
    """Lower-case letters, digits, ``.``, ``_`` and ``-``; 2 to 63 characters.

    >>> validate_username("Awa.Diop")
    'awa.diop'
    """
    value = name.strip().lower()
    if not _USERNAME.fullmatch(value):
        raise InvalidInput(
            f"invalid user name {name!r}: use 2–63 lower-case letters, digits, "
            "'.', '_' or '-', starting with a letter or digit"
        )
    return value


MIN_PASSWORD = 10


def check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise InvalidInput(f"password too short: at least {MIN_PASSWORD} characters")
    return password
