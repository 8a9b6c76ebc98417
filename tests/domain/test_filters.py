"""The filter tree, its CQL2-text parser, time values and binding (pure)."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from quartier.domain.catalogue import FieldType
from quartier.domain.filters import (
    And,
    Between,
    Compare,
    Const,
    In,
    IsNull,
    Like,
    Not,
    Or,
    bind,
    coerce_text,
    conjunction,
    parse_cql2,
    parse_interval,
    parse_timestamp,
    properties_of,
)
from quartier.errors import InvalidInput

UTC = dt.UTC
FIELDS = {
    "nom": FieldType.TEXT,
    "pop": FieldType.INTEGER,
    "surface": FieldType.REAL,
    "ouvert": FieldType.BOOLEAN,
    "jour": FieldType.DATE,
    "vu": FieldType.DATETIME,
    "extra": FieldType.JSON,
    "isced:level": FieldType.TEXT,
    "@user": FieldType.TEXT,
}


@pytest.mark.parametrize(
    ("text", "tree"),
    [
        ("pop = 5", Compare("pop", "=", 5)),
        ("pop<>-5", Compare("pop", "<>", -5)),
        ("pop != 5", Compare("pop", "<>", 5)),
        ("surface >= 1.5e3", Compare("surface", ">=", 1500.0)),
        ("5 < pop", Compare("pop", ">", 5)),
        ("nom = 'l''école'", Compare("nom", "=", "l'école")),
        ("nom = 'Élé'", Compare("nom", "=", "Élé")),
        ("isced:level = '1'", Compare("isced:level", "=", "1")),
        ('"@user" IS NULL', IsNull("@user")),
        ("nom IS NOT NULL", Not(IsNull("nom"))),
        ("nom like 'A%'", Like("nom", "A%")),
        ("nom NOT LIKE 'A\\%'", Not(Like("nom", "A\\%"))),
        ("pop BETWEEN 1 AND 9", Between("pop", 1, 9)),
        ("pop NOT BETWEEN 1 AND 9", Not(Between("pop", 1, 9))),
        ("nom IN ('a', 'b')", In("nom", ("a", "b"))),
        ("nom NOT IN ('a')", Not(In("nom", ("a",)))),
        ("ouvert = TRUE", Compare("ouvert", "=", True)),
        ("TRUE", Const(True)),
        ("jour > DATE('2018-01-02')", Compare("jour", ">", dt.date(2018, 1, 2))),
        (
            "vu < TIMESTAMP('2018-01-02T03:04:05+01:00')",
            Compare("vu", "<", dt.datetime(2018, 1, 2, 2, 4, 5, tzinfo=UTC)),
        ),
        (
            "pop = 1 OR pop = 2 AND NOT (nom = 'x')",
            Or(
                (
                    Compare("pop", "=", 1),
                    And((Compare("pop", "=", 2), Not(Compare("nom", "=", "x")))),
                )
            ),
        ),
        ("((pop = 1))", Compare("pop", "=", 1)),
    ],
)
def test_cql2_text_parses_to_the_tree(text, tree):
    assert parse_cql2(text) == tree


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty expression"),
        ("pop >", "expected a value at position 6 (end of text)"),
        ("pop == 1", "expected a value at position 6 ('=')"),
        ("nom = 'abc", "unterminated text at position 7"),
        ("pop = 1 pop", "expected AND, OR or the end of the filter at position 9"),
        ("(pop = 1", "expected ')' at position 9"),
        ("pop = nom", "compare a property with a value, at position 7"),
        ("1 = 2", "compare a property with a value, at position 1"),
        ("S_INTERSECTS(geom, x)", "function S_INTERSECTS() at position 1"),
        ("pop # 1", "unexpected '#' at position 5"),
        ("jour = DATE('2018-13-01')", "is not a date"),
        ("nom LIKE 5", "LIKE needs a text pattern"),
        ("nom IN ()", "expected a value at position 9"),
        ("pop", "expected a comparison"),
    ],
)
def test_malformed_filters_name_the_position(text, message):
    with pytest.raises(InvalidInput, match="filter") as err:
        parse_cql2(text)
    assert message in str(err.value)


def test_bind_checks_properties_and_types_literals():
    bound = bind(
        parse_cql2(
            "jour >= '2018-01-01' AND vu < DATE('2018-02-01') AND vu > '2018-01-01T10:00:00Z'"
            ' AND pop IN (1, 2.5) AND ouvert <> FALSE AND "@user" IS NULL'
        ),
        FIELDS,
    )
    assert bound == And(
        (
            Compare("jour", ">=", dt.date(2018, 1, 1)),
            Compare("vu", "<", dt.datetime(2018, 2, 1, tzinfo=UTC)),
            Compare("vu", ">", dt.datetime(2018, 1, 1, 10, tzinfo=UTC)),
            In("pop", (1, 2.5)),
            Compare("ouvert", "<>", False),
            IsNull("@user"),
        )
    )
    assert bind(parse_cql2("pop = 99999999999999999999"), FIELDS) == Compare(
        "pop", "=", 1e20
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("inconnu = 1", "unknown property 'inconnu'"),
        ("inconnu IS NULL", "unknown property 'inconnu'"),
        ("pop = '3'", "expected a value of type integer, not '3'"),
        ("nom = 3", "expected a value of type text, not 3"),
        ("ouvert > TRUE", "boolean: use = or <>"),
        ("pop LIKE 'a%'", "LIKE needs a text property"),
        ("extra = 'x'", "can only be IS NULL"),
        ("jour = TIMESTAMP('2018-01-01T00:00:00Z')", "expected a value of type date"),
        ("vu = 'hier'", "is not an RFC 3339 date-time"),
        ("surface = 1e999", "not a finite number"),
    ],
)
def test_bind_refuses_what_would_fail_in_sql(text, message):
    with pytest.raises(InvalidInput) as err:
        bind(parse_cql2(text), FIELDS)
    assert message in str(err.value)


def test_like_patterns_cannot_end_with_the_escape_character():
    with pytest.raises(InvalidInput, match="cannot end with"):
        bind(Like("nom", "abc\\"), FIELDS)
    assert bind(Like("nom", "abc\\\\"), FIELDS) == Like("nom", "abc\\\\")


def test_query_string_values_take_the_field_type():
    assert coerce_text("12", FieldType.INTEGER, prop="pop") == 12
    assert coerce_text("1.5", FieldType.REAL, prop="s") == 1.5
    assert coerce_text("TRUE", FieldType.BOOLEAN, prop="o") is True
    assert coerce_text("0", FieldType.BOOLEAN, prop="o") is False
    assert coerce_text("2018-01-01", FieldType.DATE, prop="j") == dt.date(2018, 1, 1)
    assert coerce_text("12", FieldType.TEXT, prop="t") == "12"
    with pytest.raises(InvalidInput, match="pop: 'douze' is not a valid integer"):
        coerce_text("douze", FieldType.INTEGER, prop="pop")


def test_datetime_intervals():
    day = dt.datetime(2018, 2, 12, tzinfo=UTC)
    last_ms = day + dt.timedelta(days=1) - dt.timedelta(milliseconds=1)
    assert parse_interval("2018-02-12") == (day, last_ms)
    stamp = dt.datetime(2018, 2, 12, 23, 20, 52, tzinfo=UTC)
    assert parse_interval("2018-02-12T23:20:52Z") == (stamp, stamp)
    assert parse_interval("2018-02-12T23:20:52Z/..") == (stamp, None)
    assert parse_interval("../2018-02-12") == (None, last_ms)
    assert parse_interval("/2018-02-12") == (None, last_ms)
    assert parse_interval("../..") == (None, None)
    assert parse_timestamp("2018-02-12t23:20:52.5z").microsecond == 500000
    for bad in (
        "2018-02-30",
        "2018-02-12T23:20:52",
        "hier",
        "2018/02/12",
        "2019-01-01/2018-01-01",
    ):
        with pytest.raises(InvalidInput, match="datetime"):
            parse_interval(bad)


def test_helpers():
    assert conjunction([]) is None
    one = Compare("pop", "=", 1)
    assert conjunction([one]) == one
    assert conjunction([one, one]) == And((one, one))
    assert properties_of(parse_cql2("a = 1 OR NOT (b IS NULL AND c IN (1))")) == {
        "a",
        "b",
        "c",
    }
    assert properties_of(None) == set()


@given(st.text(max_size=40))
def test_any_text_parses_or_fails_cleanly(text):
    try:
        expr = parse_cql2(text)
    except InvalidInput:
        return
    try:
        bind(expr, FIELDS)
    except InvalidInput:
        pass


def test_sizes_are_bounded_before_they_reach_sql():
    with pytest.raises(InvalidInput, match="nested too deeply"):
        parse_cql2("(" * 100 + "pop = 1" + ")" * 100)
    with pytest.raises(InvalidInput, match="nested too deeply"):
        parse_cql2("NOT " * 100 + "pop = 1")
    with pytest.raises(InvalidInput, match="more than 200 conditions"):
        parse_cql2(" OR ".join(["pop = 1"] * 201))
    many = parse_cql2("pop IN (" + ", ".join(["1"] * 1001) + ")")
    with pytest.raises(InvalidInput, match="at most 1000 values"):
        bind(many, FIELDS)
