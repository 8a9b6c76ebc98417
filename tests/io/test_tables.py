"""Tests for quartier.io.tables: reading statistics tables, joining to units."""

from __future__ import annotations

import doctest
import importlib
import importlib.util
import math
import sys
import types
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parents[2]
GDAL = (
    Path(__file__).resolve().parents[3] / "shared" / "data" / "corpus" / "gdal_autotest"
)


def _load_tables() -> types.ModuleType:
    """Import the module; if ``quartier/__init__`` is broken, load it by path."""
    try:
        return importlib.import_module("quartier.io.tables")
    except Exception:  # any half-written module elsewhere in the package
        saved = {k: v for k, v in sys.modules.items() if k.startswith("quartier")}
        for name in saved:
            del sys.modules[name]
        stub = types.ModuleType("quartier")
        stub.__path__ = [str(ROOT / "src" / "quartier")]
        sys.modules["quartier"] = stub
        try:
            return importlib.import_module("quartier.io.tables")
        finally:
            for name in [k for k in sys.modules if k.startswith("quartier")]:
                del sys.modules[name]
            sys.modules.update(saved)


tables = _load_tables()
InvalidInput = tables.InvalidInput
JoinResult = tables.JoinResult
UnmatchedRow = tables.UnmatchedRow
join_to_units = tables.join_to_units
normalise_name = tables.normalise_name
read_table = tables.read_table

UNITS = pd.DataFrame(
    {
        "code": ["0101", "0102", "0103", "0104"],
        "name": ["Kabila", "Saint-Étienne", "17 Mai", "Cité de l'Île"],
    }
)


def _write(path: Path, text: str, encoding: str = "cp1252") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


# ---------------------------------------------------------------- normalise_name
def test_normalise_name_examples() -> None:
    key = normalise_name("quartier saint etienne")
    assert normalise_name("  Quartier  Saint-Étienne ") == key
    assert normalise_name("QUARTIER_SAINT.ETIENNE") == key
    assert normalise_name("17 Mai") == normalise_name("17 MAI") == "17 mai"
    assert normalise_name("Cité de l’Île") == normalise_name("cite de l ile")
    assert normalise_name("") == ""


def test_doctests_pass() -> None:
    assert doctest.testmod(tables, verbose=False).failed == 0


FRENCH = st.text(
    alphabet=st.sampled_from(
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
        "àâäçéèêëîïôöùûüÿœæÀÂÄÇÉÈÊËÎÏÔÖÙÛÜŸŒÆß -'’._\t"
    )
)


@given(st.text())
def test_normalise_name_is_idempotent(text: str) -> None:
    once = normalise_name(text)
    assert normalise_name(once) == once


@given(FRENCH)
def test_normalise_name_ignores_case(text: str) -> None:
    assert normalise_name(text.upper()) == normalise_name(text.lower())
    assert normalise_name(text.swapcase()) == normalise_name(text)


@given(FRENCH, st.integers(min_value=1, max_value=4))
def test_normalise_name_ignores_added_spaces(text: str, extra: int) -> None:
    padded = " " * extra + text.replace(" ", " " * (extra + 1)) + "\t" * extra
    assert normalise_name(padded) == normalise_name(text)


# ---------------------------------------------------------------- read_table
def test_read_cp1252_semicolon_comma_decimals(tmp_path: Path) -> None:
    text = (
        "Code ; Quartier ;Surface;Population;Part\r\n"
        "0101;Kabila;3766,069;1200;0,5\r\n"
        "0102;Saint-Étienne;12,5;;1\r\n"
        "0103;Cité de l'Île;7;300;\r\n"
    )
    df = read_table(_write(tmp_path / "stats.csv", text))
    assert list(df.columns) == ["Code", "Quartier", "Surface", "Population", "Part"]
    assert df["Code"].tolist() == ["0101", "0102", "0103"]  # leading zeros kept
    assert df["Quartier"].tolist() == ["Kabila", "Saint-Étienne", "Cité de l'Île"]
    assert df["Surface"].dtype == float
    assert df["Surface"].tolist() == [3766.069, 12.5, 7.0]
    assert df["Part"].iloc[0] == 0.5 and math.isnan(df["Part"].iloc[2])
    assert df["Population"].iloc[0] == 1200 and pd.isna(df["Population"].iloc[1])


def test_read_comma_decimals_with_thousands_spaces(tmp_path: Path) -> None:
    text = "code;pop\n1;1 234,5\n2;12\n3;1\u00a0000 000\n"
    df = read_table(_write(tmp_path / "s.csv", text, "utf-8"))
    assert df["pop"].tolist() == [1234.5, 12.0, 1_000_000.0]


def test_read_utf8_bom_comma_and_quotes(tmp_path: Path) -> None:
    text = 'code,"nom, complet",valeur\n7,"Saint-Jean, haut",1.5\n8,Bas,2\n'
    df = read_table(_write(tmp_path / "s.csv", text, "utf-8-sig"))
    assert list(df.columns) == ["code", "nom, complet", "valeur"]
    assert df["nom, complet"].tolist() == ["Saint-Jean, haut", "Bas"]
    assert df["valeur"].tolist() == [1.5, 2.0]
    assert df["code"].tolist() == [7, 8]


@pytest.mark.parametrize("sep,suffix", [("\t", ".tsv"), ("|", ".txt")])
def test_read_other_delimiters(tmp_path: Path, sep: str, suffix: str) -> None:
    text = f"code{sep}nom\n01{sep}Kabila\n02{sep}Gombe\n"
    df = read_table(_write(tmp_path / f"s{suffix}", text, "utf-8"))
    assert df.to_dict("list") == {"code": ["01", "02"], "nom": ["Kabila", "Gombe"]}


def test_trailing_delimiters_are_ignored(tmp_path: Path) -> None:
    df = read_table(_write(tmp_path / "s.csv", "a;b;\n1;x;\n2;y;\n"))
    assert list(df.columns) == ["a", "b"]


def test_empty_header_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path / "stats.csv", "a;b; ;d\n1;2;3;4\n")
    with pytest.raises(InvalidInput, match="stats.csv: column 3 has no name"):
        read_table(path)


def test_duplicate_header_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path / "stats.csv", "code;pop; pop \n1;2;3\n")
    with pytest.raises(InvalidInput, match=r"stats.csv: column 3 'pop'"):
        read_table(path)


def test_too_many_values_names_the_line(tmp_path: Path) -> None:
    path = _write(tmp_path / "stats.csv", "a;b\n1;2\n3;4;5\n")
    with pytest.raises(InvalidInput, match="stats.csv: line 3"):
        read_table(path)


@pytest.mark.parametrize("content", [b"", b"  \r\n\n"])
def test_empty_file_is_refused(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "vide.csv"
    path.write_bytes(content)
    with pytest.raises(InvalidInput, match="vide.csv.*empty"):
        read_table(path)


def test_unclosed_quote_in_tmp_file(tmp_path: Path) -> None:
    path = _write(tmp_path / "q.csv", 'a;b\n1;x\n2;"oops\n3;z\n')
    with pytest.raises(InvalidInput, match="q.csv: line 3: unclosed double quote"):
        read_table(path)


def test_xls_and_unknown_formats_are_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match=r"old.xls.*\.xlsx"):
        read_table(tmp_path / "old.xls")
    with pytest.raises(InvalidInput, match="unsupported"):
        read_table(_write(tmp_path / "data.json", "{}"))


def test_read_xlsx_first_and_named_sheet(tmp_path: Path) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    first = book.active
    first.title = "Population"
    for row in [[" code ", "nom", "pop"], ["0101", "Kabila", 12], [None] * 3]:
        first.append(row)
    first.append(["0102", "Gombe", 7])
    other = book.create_sheet("Surface")
    other.append(["code", "surface"])
    other.append(["0101", "3766,069"])
    path = tmp_path / "stats.xlsx"
    book.save(path)

    df = read_table(path)
    assert df.to_dict("list") == {
        "code": ["0101", "0102"],
        "nom": ["Kabila", "Gombe"],
        "pop": [12, 7],
    }
    assert read_table(path, sheet="Surface")["surface"].tolist() == [3766.069]
    with pytest.raises(InvalidInput, match="Population, Surface"):
        read_table(path, sheet="Nope")


def test_broken_xlsx_is_invalid_input(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="bad.xlsx"):
        read_table(_write(tmp_path / "bad.xlsx", "not a zip"))


def _gdal(name: str) -> Path:
    path = GDAL / name
    if not path.exists():
        pytest.skip(f"{path} not available")
    return path


def test_unbalanced_double_quotes_names_file_and_line() -> None:
    path = _gdal("unbalanced_double_quotes.csv")
    with pytest.raises(InvalidInput) as caught:
        read_table(path)
    message = str(caught.value)
    assert "unbalanced_double_quotes.csv" in message
    assert "line 2" in message and "double quote" in message


def test_gdal_type_autodetect_reads() -> None:
    df = read_table(_gdal("testtypeautodetect.csv"))
    assert df.shape == (9, 20)
    assert df["empty"].isna().all()
    assert df["str1"].iloc[0] == "a"


def test_gdal_inf_nan_reads() -> None:
    df = read_table(_gdal("inf_nan.csv"))
    assert df["id"].tolist() == [1, 2, 3, 4]
    values = df["v"].tolist()
    assert values[:3] == [10.0, math.inf, -math.inf] and math.isnan(values[3])


# ---------------------------------------------------------------- join_to_units
def test_join_by_code_keeps_leading_zeros_and_float_codes() -> None:
    units = pd.DataFrame({"code": ["0101", "101", "7"], "name": ["A", "B", "C"]})
    table = pd.DataFrame({"code": [" 0101", "101", 7.0, 101.0], "v": [1, 2, 3, 4]})
    result = join_to_units(table, units, by="code")
    assert isinstance(result, JoinResult)
    assert result.table["unit_code"].tolist() == ["0101", "101", "7", "101"]
    assert (result.by, result.column, result.matched) == ("code", "code", 4)
    assert result.unmatched == [] and result.duplicates == []


def test_join_result_table_shape() -> None:
    table = pd.DataFrame({"nom": ["Kabila", "Inconnu"], "pop": [1, 2]}, index=[5, 9])
    result = join_to_units(table, UNITS, by="name")
    assert list(result.table.columns) == ["unit_code", "nom", "pop"]
    assert result.table["unit_code"].tolist() == ["0101", None]
    assert list(result.table.index) == [5, 9]
    assert list(table.columns) == ["nom", "pop"]  # input untouched


def test_join_by_name_ignores_accents_case_and_spaces() -> None:
    table = pd.DataFrame(
        {"quartier": ["  KABILA ", "saint etienne", "17 MAI", "cite de l’ile"]}
    )
    result = join_to_units(table, UNITS, by="name")
    assert result.table["unit_code"].tolist() == ["0101", "0102", "0103", "0104"]
    assert result.matched == 4 and result.unmatched == []


def test_unmatched_rows_have_spreadsheet_numbers_and_suggestions() -> None:
    table = pd.DataFrame(
        {"nom": ["Gombe", "Kabilla", "Saint-Etiene", None, "Kabila"], "v": range(5)}
    )
    result = join_to_units(table, UNITS, by="name")
    assert result.matched == 1
    assert result.unmatched == [
        UnmatchedRow(row=2, value="Gombe", suggestion=None),
        UnmatchedRow(row=3, value="Kabilla", suggestion="Kabila"),
        UnmatchedRow(row=4, value="Saint-Etiene", suggestion="Saint-Étienne"),
        UnmatchedRow(row=5, value="", suggestion=None),
    ]


def test_unmatched_codes_get_no_suggestion() -> None:
    table = pd.DataFrame({"code": ["0101", "101"]})
    result = join_to_units(table, UNITS, by="code")
    assert result.unmatched == [UnmatchedRow(3, "101", None)]


def test_ambiguous_unit_names_are_reported() -> None:
    units = pd.DataFrame(
        {"code": ["1", "2", "3"], "name": ["Saint-Jean", "SAINT JEAN", "Gare"]}
    )
    table = pd.DataFrame({"nom": ["Gare", "saint jean", "Saint-Jean"]})
    result = join_to_units(table, units, by="name")
    assert result.table["unit_code"].tolist() == ["3", None, None]
    assert result.unmatched == [
        UnmatchedRow(3, "saint jean", None),
        UnmatchedRow(4, "Saint-Jean", None),
    ]
    assert result.duplicates == ["Saint-Jean"]


def test_repeated_table_rows_are_all_matched() -> None:
    table = pd.DataFrame({"nom": ["Kabila", "kabila"], "annee": [2020, 2021]})
    result = join_to_units(table, UNITS)
    assert result.table["unit_code"].tolist() == ["0101", "0101"]
    assert result.matched == 2 and result.unmatched == [] and result.duplicates == []


def test_auto_detects_code_column() -> None:
    table = pd.DataFrame(
        {
            "annee": [2020, 2020, 2020],
            "nom": ["Kabila", "17 mai", "Gombe"],
            "id": ["0101", "0103", "0104"],
        }
    )
    result = join_to_units(table, UNITS)
    assert (result.by, result.column, result.matched) == ("code", "id", 3)


def test_auto_falls_back_to_name_column() -> None:
    table = pd.DataFrame(
        {
            "id": ["0101", "9", "8"],  # only one of three codes matches
            "nom": ["Kabila", "17 mai", "Kabilla"],
        }
    )
    result = join_to_units(table, UNITS)
    assert (result.by, result.column, result.matched) == ("name", "nom", 2)
    assert result.unmatched == [UnmatchedRow(4, "Kabilla", "Kabila")]


def test_auto_detection_failure_lists_columns() -> None:
    table = pd.DataFrame({"x": ["a", "b"], "y": [1, 2]})
    with pytest.raises(InvalidInput, match="tried x, y"):
        join_to_units(table, UNITS)


def test_forced_column() -> None:
    table = pd.DataFrame({"a": ["Kabila", "Gombe"], "b": ["0101", "0102"]})
    assert join_to_units(table, UNITS, table_column="a").by == "name"
    forced = join_to_units(table, UNITS, table_column="b")
    assert (forced.by, forced.column, forced.matched) == ("code", "b", 2)
    by_code = join_to_units(table, UNITS, by="code", table_column="a")
    assert by_code.matched == 0 and len(by_code.unmatched) == 2


def test_bad_arguments_are_invalid_input() -> None:
    table = pd.DataFrame({"nom": ["Kabila"]})
    with pytest.raises(InvalidInput, match="no column 'zz'"):
        join_to_units(table, UNITS, table_column="zz")
    with pytest.raises(InvalidInput, match="by must be"):
        join_to_units(table, UNITS, by="id")
    with pytest.raises(InvalidInput, match="units: missing column"):
        join_to_units(table, UNITS[["code"]])
    with pytest.raises(InvalidInput, match="no column matches any unit code"):
        join_to_units(table, UNITS, by="code")


def test_read_then_join_cp1252_file(tmp_path: Path) -> None:
    text = "Quartier;Surface (ha)\nKABILA;3766,069\nSaint Etienne;12,5\nKabilla;1\n"
    table = read_table(_write(tmp_path / "stats.csv", text))
    result = join_to_units(table, UNITS)
    assert (result.by, result.column, result.matched) == ("name", "Quartier", 2)
    assert result.unmatched == [UnmatchedRow(4, "Kabilla", "Kabila")]
    assert result.table["Surface (ha)"].sum() == pytest.approx(3779.569)
