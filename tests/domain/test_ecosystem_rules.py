"""The ecosystem's pure rules: declarations, requests, decisions, and who
may do what (access.py)."""

from __future__ import annotations

import pytest

from quartier import access
from quartier.access import Principal
from quartier.domain.accounts import Role
from quartier.domain.catalogue import AccessLevel, Dataset
from quartier.domain.ecosystem import (
    AccessRequest,
    Capacity,
    CapacityKind,
    RequestStatus,
    agreement_id,
    check_capacity,
    check_decision,
    check_request,
)
from quartier.errors import Conflict, InvalidInput

KEYS = frozenset({"batiments", "routes"})


@pytest.mark.parametrize(
    ("kind", "ref", "label", "field"),
    [
        (CapacityKind.CAPACITY, "", " ", "label"),
        (CapacityKind.CAPACITY, "routes", "Drone", "ref"),
        (CapacityKind.PRODUCES, "", "", "ref"),
        (CapacityKind.COULD_PRODUCE, "inconnu", "", "ref"),
        (CapacityKind.ON_REQUEST, "", "x", "ref"),
    ],
)
def test_declarations_that_say_nothing_are_refused(kind, ref, label, field):
    with pytest.raises(InvalidInput, match=field):
        check_capacity(Capacity(0, "org", kind, ref, label), KEYS)


@pytest.mark.parametrize(
    ("kind", "ref", "label"),
    [
        (CapacityKind.CAPACITY, "", "Levés par drone"),
        (CapacityKind.PRODUCES, "routes", ""),
        (CapacityKind.COULD_PRODUCE, "", "Points d'eau du marché"),
        (CapacityKind.ON_REQUEST, "zones", ""),
    ],
)
def test_declarations_that_mean_something_pass(kind, ref, label):
    c = Capacity(0, "org", kind, ref, label)
    assert check_capacity(c, KEYS) is c


def test_kinds_parse_leniently():
    assert CapacityKind.parse(" Could-Produce ") is CapacityKind.COULD_PRODUCE
    with pytest.raises(InvalidInput, match="kind"):
        CapacityKind.parse("sells")


def _r(**change) -> AccessRequest:  # type: ignore[no-untyped-def]
    base = dict(id=1, dataset="zones", requester="u", organisation="o",
                purpose="Thèse", starts="2026-01-01", ends="2026-12-31")  # fmt: skip
    return AccessRequest(**{**base, **change})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"purpose": "  "}, "purpose"),
        ({"purpose": "x" * 2001}, "purpose"),
        ({"starts": "2026-13-01"}, "starts"),
        ({"ends": "2025-12-31"}, "ends"),
    ],
)
def test_requests_state_a_purpose_and_a_real_period(change, field):
    with pytest.raises(InvalidInput, match=field):
        check_request(_r(**change))
    assert check_request(_r()) == _r()


def test_a_request_is_decided_once_and_a_refusal_says_why():
    pending = _r()
    check_decision(pending, RequestStatus.APPROVED, "")
    check_decision(pending, RequestStatus.WITHDRAWN, "")
    with pytest.raises(InvalidInput, match="reason"):
        check_decision(pending, RequestStatus.REFUSED, " ")
    with pytest.raises(InvalidInput, match="status"):
        check_decision(pending, RequestStatus.PENDING, "")
    for done in (
        RequestStatus.APPROVED,
        RequestStatus.REFUSED,
        RequestStatus.WITHDRAWN,
    ):
        with pytest.raises(Conflict, match=f"already {done.value}"):
            check_decision(_r(status=done), RequestStatus.APPROVED, "")
    assert agreement_id(7) == "demande-7"


ZONES = Dataset("zones", "Zones", producer="ville", steward="ong",
                access=AccessLevel.RESTRICTED)  # fmt: skip


def _p(name: str, **roles: Role) -> Principal:
    return Principal(username=name, roles=roles, via="token")


def test_who_declares_sees_and_decides():
    steward = _p("s", ong=Role.STEWARD)
    producer_admin = _p("a", ville=Role.ADMIN)
    moderator = _p("m", ong=Role.MODERATOR)
    partner = _p("p", unikin=Role.VIEWER)
    admin = Principal(username="root", is_admin=True)
    assert access.can_declare_capacities(steward, "ong")
    assert not access.can_declare_capacities(moderator, "ong")
    assert not access.can_declare_capacities(steward, "ville")
    assert access.sharing_holders(steward, ZONES) == ["ong"]
    assert access.sharing_holders(producer_admin, ZONES) == ["ville"]
    assert access.sharing_holders(admin, ZONES) == ["ong", "ville"]
    assert access.sharing_holders(moderator, ZONES) == []
    assert access.can_offer_on_request(steward, "ong", ZONES)
    assert not access.can_offer_on_request(steward, "unikin", ZONES)
    assert access.can_ask_access(partner, "unikin")
    assert not access.can_ask_access(partner, "ong")
    for who, sees, decides in (
        (partner, True, False),  # the author: never their own
        (steward, True, True),
        (producer_admin, True, True),
        (moderator, False, False),
        (admin, True, True),
        (_p("x", autre=Role.STEWARD), False, False),
    ):
        assert access.can_see_access_request(who, ZONES, "p") is sees, who
        assert access.can_decide_access_request(who, ZONES, "p") is decides, who
    assert not access.can_decide_access_request(
        Principal(username="p", is_admin=True), ZONES, "p"
    )
