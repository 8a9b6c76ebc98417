"""Data-sharing agreements in the store, on both stores."""

from __future__ import annotations

import pytest

from quartier.domain import ActorKind, Organisation
from quartier.domain.agreements import Agreement, AgreementStatus
from quartier.errors import Conflict, NotFound


def test_agreements_are_kept_listed_and_change_status(store):
    store.ensure_schema()
    for slug in ("ville", "unikin", "ong"):
        store.add_organisation(Organisation(slug, slug, ActorKind.NGO))
    a = Agreement(
        "c1",
        "Convention",
        "ville",
        ("unikin", "ong"),
        ("zones", "routes"),
        "Recherche",
        "2026-01-01",
        "2026-12-31",
        created="2026-01-01T00:00:00Z",
    )
    store.add_agreement(a)
    got = store.get_agreement("c1")
    assert (got.partners, got.datasets, got.status) == (
        ("unikin", "ong"),
        ("zones", "routes"),
        AgreementStatus.DRAFT,
    )
    with pytest.raises(Conflict):
        store.add_agreement(a)
    done = store.set_agreement_status("c1", AgreementStatus.ACTIVE, at="2026-02-01")
    assert done.status is AgreementStatus.ACTIVE and done.updated == "2026-02-01"
    assert [x.id for x in store.list_agreements(status=AgreementStatus.ACTIVE)] == [
        "c1"
    ]
    assert store.list_agreements(status=AgreementStatus.ENDED) == []
    assert [x.id for x in store.list_agreements()] == ["c1"]
    with pytest.raises(NotFound):
        store.get_agreement("c2")
    with pytest.raises(NotFound):
        store.set_agreement_status("c2", AgreementStatus.ENDED, at="x")
