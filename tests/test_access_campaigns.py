"""Who may see, map, validate and manage a campaign (access.py), as a table."""

from __future__ import annotations

import pytest

from quartier.access import (
    ANONYMOUS,
    Principal,
    can_manage_campaign,
    can_map_campaign,
    can_see_campaign,
    can_see_contributors,
    can_validate_campaign,
)
from quartier.domain.accounts import Role
from quartier.domain.campaigns import Campaign, CampaignStatus, Grid

ADMIN = Principal("root", is_admin=True)
STEWARD = Principal("gardienne", roles={"ong": Role.STEWARD})
MODERATOR = Principal("moderatrice", roles={"ong": Role.MODERATOR})
CONTRIBUTOR = Principal("membre", roles={"ong": Role.CONTRIBUTOR})
VIEWER = Principal("lectrice", roles={"ong": Role.VIEWER})
OTHER = Principal("passant")  # signed in, no role
ELSEWHERE = Principal("agent", roles={"ville": Role.STEWARD})


def campaign(status: str = "active", public: bool = True) -> Campaign:
    return Campaign(
        "c",
        "C",
        "ong",
        "POINT (0 0)",
        Grid.SQUARE,
        100.0,
        status=CampaignStatus(status),
        public=public,
    )


# (who, status, public) → (see, map, validate, manage, names)
TABLE = [
    (ANONYMOUS, "active", True, (True, False, False, False, False)),
    (OTHER, "active", True, (True, True, False, False, False)),
    (OTHER, "closed", True, (True, False, False, False, False)),
    (OTHER, "draft", True, (False, False, False, False, False)),
    (OTHER, "active", False, (False, False, False, False, False)),
    (ELSEWHERE, "active", True, (True, True, False, False, False)),
    (VIEWER, "active", False, (True, False, False, False, False)),
    (CONTRIBUTOR, "active", False, (True, True, False, False, False)),
    (MODERATOR, "active", False, (True, True, True, False, True)),
    (MODERATOR, "draft", True, (False, False, False, False, True)),
    (STEWARD, "draft", False, (True, False, False, True, True)),
    (STEWARD, "active", True, (True, True, True, True, True)),
    (ADMIN, "active", False, (True, True, True, True, True)),
]


@pytest.mark.parametrize(("who", "status", "public", "expected"), TABLE)
def test_campaign_rights(who, status, public, expected) -> None:
    c = campaign(status, public)
    got = (
        can_see_campaign(who, c),
        can_map_campaign(who, c),
        can_validate_campaign(who, c),
        can_manage_campaign(who, c.organisation),
        can_see_contributors(who, c),
    )
    assert got == expected
