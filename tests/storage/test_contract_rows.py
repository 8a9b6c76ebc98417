"""Raw platform rows travel between stores (migration), on both stores."""

from __future__ import annotations

from quartier.storage import open_store


def test_rows_dump_and_load_keep_order_and_renumber(store, gpkg_url):
    store.ensure_schema()
    events = [
        {
            "campaign": "c",
            "cell": n,
            "at": f"2026-11-2{n}",
            "actor": "awa",
            "action": "lock",
            "from_state": "ready",
            "to_state": "locked",
            "comment": "",
        }
        for n in (3, 1, 2)
    ]
    store.load_rows({"campaign_events": events})
    dump = store.dump_rows(["campaign_events"])
    rows = dump["campaign_events"]
    assert [r["cell"] for r in rows] == [3, 1, 2]  # in their order of arrival
    assert all("id" not in r for r in rows)  # auto-numbered anew in the target
    with open_store(gpkg_url.replace("ville", "autre")) as other:
        other.ensure_schema()
        other.load_rows({"campaign_events": [dict(rows[0], cell=9)]})
        other.load_rows(dump)
        again = other.dump_rows(["campaign_events"])["campaign_events"]
        assert [r["cell"] for r in again] == [9, 3, 1, 2]
    assert store.dump_rows([]) == {}
