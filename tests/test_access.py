"""The authorisation rules, as a table: level × caller → may read / see sensitive."""

from __future__ import annotations

import pytest

from quartier import access
from quartier.access import ANONYMOUS, LOCAL, Principal
from quartier.domain import AccessLevel, Dataset
from quartier.domain.accounts import Role
from quartier.errors import NotFound, PermissionDenied, Unauthenticated


def ds(level: str) -> Dataset:
    return Dataset(
        slug="d",
        title="D",
        access=AccessLevel(level),
        producer="ville",
        steward="ong",
        sensitive_fields=["phone"],
    )


def user(**roles: str) -> Principal:
    return Principal("u", roles={o: Role(r) for o, r in roles.items()}, via="token")


PARTNER = user(unikin="viewer")  # a member of some other organisation
ONG_VIEWER = user(ong="viewer")
ONG_MODERATOR = user(ong="moderator")
VILLE_STEWARD = user(ville="steward")
LONER = Principal("solo", via="session")  # signed in, no organisation
ADMIN = Principal("root", is_admin=True)

READ = {
    #               anon   loner  partner ong-view ong-mod ville-stew admin
    "public": (True, True, True, True, True, True, True),
    "partners": (False, False, True, True, True, True, True),
    "restricted": (False, False, False, True, True, True, True),
    "confidential": (False, False, False, False, True, True, True),
}
CALLERS = (ANONYMOUS, LONER, PARTNER, ONG_VIEWER, ONG_MODERATOR, VILLE_STEWARD, ADMIN)


@pytest.mark.parametrize("level", list(READ))
def test_read_rules(level):
    got = tuple(access.can_read(p, ds(level)) for p in CALLERS)
    assert got == READ[level]


def test_unreadable_datasets_look_unknown():
    with pytest.raises(NotFound, match="no dataset 'd'"):
        access.require_read(ANONYMOUS, ds("restricted"))
    assert access.readable(PARTNER, [ds("public"), ds("restricted")]) == [ds("public")]


def test_sensitive_fields_are_hidden_except_from_custodians():
    for p in (ANONYMOUS, PARTNER, ONG_VIEWER):
        assert access.hidden_fields(p, ds("public")) == {"phone"}
        assert access.visible_columns(p, ds("public"), ["name", "phone"]) == ["name"]
    for p in (ONG_MODERATOR, VILLE_STEWARD, ADMIN, LOCAL):
        assert access.hidden_fields(p, ds("public")) == frozenset()


def test_write_rules():
    assert access.can_write(VILLE_STEWARD, ds("restricted"))
    assert not access.can_write(ONG_MODERATOR, ds("public"))
    with pytest.raises(PermissionDenied, match="may not change dataset 'd'"):
        access.require_write(ONG_VIEWER, ds("public"))
    with pytest.raises(NotFound):
        access.require_write(PARTNER, ds("restricted"))
    assert access.can_create(VILLE_STEWARD, "ville")
    assert not access.can_create(VILLE_STEWARD, "ong")
    assert not access.can_create(ANONYMOUS, None)


def test_manage_and_sign_in():
    assert access.can_manage(ADMIN)
    assert access.can_manage(user(ong="admin"), "ong")
    assert not access.can_manage(user(ong="admin"))
    with pytest.raises(Unauthenticated):
        access.require_signed_in(ANONYMOUS)


def test_audit_applies_to_protected_levels_only():
    assert [access.must_audit_read(ds(level)) for level in READ] == [
        False,
        False,
        True,
        True,
    ]


def test_collect_moderate_and_review_rules():
    # contributors and above fill the forms; moderators, stewards and admins review
    contributor = user(ong="contributor")
    assert [access.can_collect(p, "ong") for p in CALLERS] == [
        False,
        False,
        False,
        False,
        True,
        False,
        True,
    ]
    assert access.can_collect(contributor, "ong")
    assert [access.can_moderate(p, "ong") for p in CALLERS] == [
        False,
        False,
        False,
        False,
        True,
        False,
        True,
    ]
    # four eyes: nobody reviews what they sent, except an administrator
    assert access.can_review(ONG_MODERATOR, "ong", submitter="awa")
    assert not access.can_review(ONG_MODERATOR, "ong", submitter=ONG_MODERATOR.label)
    assert not access.can_review(contributor, "ong", submitter="awa")
    assert access.can_review(ADMIN, "ong", submitter=ADMIN.label)


def test_an_agreement_in_force_opens_its_datasets_but_not_their_personal_data():
    granted = Principal(
        "u", roles={"unikin": Role.VIEWER}, via="token", grants=frozenset({"d"})
    )
    for level in ("partners", "restricted", "confidential"):
        assert access.can_read(granted, ds(level))
        assert not access.can_read(PARTNER, ds(level)) or level == "partners"
        assert access.hidden_fields(granted, ds(level)) == {"phone"}
    assert not access.can_write(granted, ds("restricted"))
    # a grant needs someone signed in: an anonymous caller has none
    assert not access.can_read(Principal(grants=frozenset({"d"})), ds("restricted"))
    # only the holder's admins and stewards share, and only what it holds
    assert access.can_share(VILLE_STEWARD, "ville", ds("restricted"))
    assert not access.can_share(ONG_MODERATOR, "ong", ds("restricted"))
    assert not access.can_share(user(unikin="steward"), "unikin", ds("restricted"))
    assert access.can_see_agreement(PARTNER, "ville", ["unikin"])
    assert not access.can_see_agreement(ONG_VIEWER, "ville", ["unikin"])
