"""Shelter capacity against exposed people, hand-computed.

Four buildings: three exposed (30, 20 and 5 people), one not (9 people).
The first two have shelter 0 nearest (capacity 40), the third shelter 1
(capacity 10); the fourth reaches no shelter.

shelter 0: demand 30 + 20 = 50 > 40 → shortfall 10, occupancy 1.25
shelter 1: demand 5 ≤ 10 → shortfall 0, occupancy 0.5
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import Point, box

from quartier.analysis.shelters import (
    capacity_of,
    exposed_buildings,
    shelter_load,
    unserved,
)

CRS = 32733
NEAREST = np.array([0, 0, 1, -1])
PEOPLE = np.array([30.0, 20.0, 5.0, 9.0])
EXPOSED = np.array([True, True, True, False])


def test_hand_computed_load():
    load = shelter_load(NEAREST, PEOPLE, EXPOSED, np.array([40.0, 10.0]))
    assert load["demand"].tolist() == [50.0, 5.0]
    assert load["shortfall"].tolist() == [10.0, 0.0]
    assert load["occupancy"].tolist() == [1.25, 0.5]
    # the fourth building is not exposed; were it, nobody could shelter it
    assert unserved(NEAREST, PEOPLE, EXPOSED) == 0
    assert unserved(NEAREST, PEOPLE, np.ones(4, dtype=bool)) == 9.0


def test_exposed_buildings_touch_the_hazard_or_its_margin():
    homes = gpd.GeoDataFrame(
        geometry=[box(0, 0, 10, 10), box(20, 0, 30, 10), box(50, 0, 60, 10)], crs=CRS
    )
    gully = gpd.GeoDataFrame(geometry=[box(5, -5, 15, 15)], crs=CRS)
    assert exposed_buildings(homes, gully).tolist() == [True, False, False]
    assert exposed_buildings(homes, gully, buffer_m=6).tolist() == [True, True, False]


def test_capacity_field_found_or_named():
    shelters = gpd.GeoDataFrame(
        {"capacite": ["120", None], "autre": [1, 2]},
        geometry=[Point(0, 0), Point(1, 1)],
        crs=CRS,
    )
    assert capacity_of(shelters)[0] == 120 and np.isnan(capacity_of(shelters)[1])
    assert capacity_of(shelters, "autre").tolist() == [1.0, 2.0]
    with pytest.raises(ValueError, match="no capacity field 'places'"):
        capacity_of(shelters, "places")
    with pytest.raises(ValueError, match="no capacity field"):
        capacity_of(shelters.drop(columns=["capacite"]))


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(-1, 2), st.floats(0, 1000), st.booleans()),
        max_size=30,
    ),
    st.lists(st.floats(0, 500), min_size=3, max_size=3),
)
def test_demand_adds_up_to_the_exposed(buildings, capacity):
    nearest = np.array([b[0] for b in buildings], dtype=np.int64)
    people = np.array([b[1] for b in buildings], dtype=float)
    exposed = np.array([b[2] for b in buildings], dtype=bool)
    load = shelter_load(nearest, people, exposed, np.array(capacity))
    total = people[exposed].sum() if len(people) else 0.0
    served = load["demand"].sum() + unserved(nearest, people, exposed)
    assert served == pytest.approx(total, abs=0.1 * (len(buildings) + 1))
    assert (load["shortfall"] >= 0).all()
    assert (load["shortfall"] <= load["demand"] + 1e-9).all()
