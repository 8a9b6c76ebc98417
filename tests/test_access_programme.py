"""The programme's rights in ``access.py``: who edits objectives and roadmap
items, and which linked datasets a reader is told about."""

from __future__ import annotations

import pytest

from quartier import access
from quartier.access import ANONYMOUS, LOCAL, Principal
from quartier.domain import AccessLevel, Dataset
from quartier.domain.accounts import Role
from quartier.errors import PermissionDenied


def _p(**roles: Role) -> Principal:
    return Principal(username="u", roles=roles)


@pytest.mark.parametrize(
    ("who", "allowed"),
    [
        (LOCAL, True),
        (Principal(username="root", is_admin=True), True),
        (_p(ville=Role.ADMIN), True),
        (_p(ville=Role.STEWARD), True),
        (_p(ville=Role.MODERATOR), False),
        (_p(ville=Role.CONTRIBUTOR), False),
        (_p(ville=Role.VIEWER), False),
        (_p(ong=Role.ADMIN), False),
        (ANONYMOUS, False),
    ],
)
def test_who_edits_the_programme_of_an_organisation(who, allowed):
    assert access.can_edit_programme(who, "ville") is allowed
    if allowed:
        access.require_edit_programme(who, "ville", "x")
    else:
        with pytest.raises(PermissionDenied, match="admin or steward"):
            access.require_edit_programme(who, "ville", "x")


def test_linked_datasets_are_named_only_to_their_readers():
    cat = {
        "ouvert": Dataset(slug="ouvert", title="O"),
        "reserve": Dataset(
            slug="reserve", title="R", access=AccessLevel.RESTRICTED, producer="ong"
        ),
    }
    slugs = ["reserve", "ouvert", "supprime"]
    assert access.programme_datasets(ANONYMOUS, slugs, cat) == ["ouvert"]
    assert access.programme_datasets(_p(ville=Role.ADMIN), slugs, cat) == ["ouvert"]
    assert access.programme_datasets(_p(ong=Role.VIEWER), slugs, cat) == [
        "reserve",
        "ouvert",
    ]
    granted = Principal(
        username="u", roles={"x": Role.VIEWER}, grants=frozenset({"reserve"})
    )
    assert access.programme_datasets(granted, slugs, cat) == ["reserve", "ouvert"]
