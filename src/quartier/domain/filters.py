"""Feature filters: a small expression tree, its CQL2-text parser, time values.

The tree compares a *property* with *literals* (``=``, ``<>``, ``<``, ``<=``,
``>``, ``>=``, ``LIKE``, ``IS NULL``, ``IN``, ``BETWEEN``) and combines
predicates with ``AND``, ``OR`` and ``NOT``: CQL2's basic and advanced
comparison classes. Stores compile it to SQL; :func:`bind` first checks it
against a dataset's fields (unknown property → :class:`InvalidInput`) and
gives every literal the type of its column.

>>> parse_cql2("name LIKE 'É%' AND NOT (level IN ('a', 'b') OR pop > 5)")
And(args=(Like(prop='name', pattern='É%'), Not(arg=Or(args=(In(prop='level', \
values=('a', 'b')), Compare(prop='pop', op='>', value=5))))))
>>> parse_cql2("pop >")
Traceback (most recent call last):
...
quartier.errors.InvalidInput: filter: expected a value at position 6 (end of text)
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Union

from quartier.domain.catalogue import FieldType
from quartier.errors import InvalidInput

Literal = Union[str, int, float, bool, dt.date, dt.datetime]  # noqa: UP007


@dataclass(frozen=True)
class Compare:
    prop: str
    op: str  # = <> < <= > >=
    value: Literal


@dataclass(frozen=True)
class Like:
    prop: str
    pattern: str  # % and _ wildcards, backslash escapes


@dataclass(frozen=True)
class IsNull:
    prop: str


@dataclass(frozen=True)
class In:
    prop: str
    values: tuple[Literal, ...]


@dataclass(frozen=True)
class Between:
    prop: str
    low: Literal
    high: Literal


@dataclass(frozen=True)
class Not:
    arg: Expr


@dataclass(frozen=True)
class And:
    args: tuple[Expr, ...]


@dataclass(frozen=True)
class Or:
    args: tuple[Expr, ...]


@dataclass(frozen=True)
class Const:
    value: bool


Expr = Union[Compare, Like, IsNull, In, Between, Not, And, Or, Const]  # noqa: UP007
OPS = ("=", "<>", "<", "<=", ">", ">=")
#: limits that keep a filter within what SQLite and PostgreSQL accept
MAX_DEPTH, MAX_VALUES, MAX_PREDICATES = 64, 1000, 200
_FLIP = {"=": "=", "<>": "<>", "<": ">", "<=": ">=", ">": "<", ">=": "<="}


def conjunction(exprs: list[Expr]) -> Expr | None:
    """``AND`` of the given predicates (None when there are none)."""
    if not exprs:
        return None
    return exprs[0] if len(exprs) == 1 else And(tuple(exprs))


# ------------------------------------------------------------------ lexing
_TOKEN = re.compile(
    r"""\s*(?:
    (?P<num>[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
  | (?P<str>'(?:[^'\\]|''|\\.)*')
  | (?P<qid>"(?:[^"]|"")+")
  | (?P<id>[^\W\d][\w:.]*|:[\w:.]*)
  | (?P<op><>|<=|>=|!=|[=<>(),])
  )""",
    re.VERBOSE | re.UNICODE,
)
_KEYWORDS = {"AND", "OR", "NOT", "LIKE", "BETWEEN", "IN", "IS", "NULL", "TRUE", "FALSE"}


@dataclass(frozen=True)
class _Tok:
    kind: str  # num str id kw op end
    text: str
    value: object
    pos: int  # 1-based character position


def _lex(text: str) -> list[_Tok]:
    toks, i = [], 0
    while True:
        while i < len(text) and text[i].isspace():
            i += 1
        if i >= len(text):
            toks.append(_Tok("end", "", None, len(text) + 1))
            return toks
        m = _TOKEN.match(text, i)
        if m is None or m.end() == i:
            quote = text[i] in "'\""
            what = "unterminated text" if quote else f"unexpected {text[i]!r}"
            raise InvalidInput(f"filter: {what} at position {i + 1}")
        kind = m.lastgroup or ""
        raw = m.group(kind)
        pos = m.start(kind) + 1
        value: object = raw
        if kind == "num":
            value = float(raw) if re.search(r"[.eE]", raw) else int(raw)
        elif kind == "str":
            value = raw[1:-1].replace("''", "'").replace("\\'", "'")
        elif kind == "qid":
            kind, value = "id", raw[1:-1].replace('""', '"')
        elif kind == "id" and raw.upper() in _KEYWORDS:
            kind, value = "kw", raw.upper()
        toks.append(_Tok(kind, raw, value, pos))
        i = m.end()


# ----------------------------------------------------------------- parsing
class _Parser:
    def __init__(self, text: str) -> None:
        self.toks = _lex(text)
        self.i = 0
        self.depth = self.predicates = 0

    @property
    def tok(self) -> _Tok:
        return self.toks[self.i]

    def fail(self, expected: str) -> InvalidInput:
        t = self.tok
        found = "end of text" if t.kind == "end" else repr(t.text)
        return InvalidInput(
            f"filter: expected {expected} at position {t.pos} ({found})"
        )

    def take(self, kind: str, value: object = None) -> _Tok | None:
        t = self.tok
        if t.kind == kind and (value is None or t.value == value):
            self.i += 1
            return t
        return None

    def expect(self, kind: str, value: object, what: str) -> None:
        if self.take(kind, value) is None:
            raise self.fail(what)

    def expression(self) -> Expr:
        args = [self.term()]
        while self.take("kw", "OR"):
            args.append(self.term())
        return args[0] if len(args) == 1 else Or(tuple(args))

    def term(self) -> Expr:
        args = [self.factor()]
        while self.take("kw", "AND"):
            args.append(self.factor())
        return args[0] if len(args) == 1 else And(tuple(args))

    def factor(self) -> Expr:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise InvalidInput(f"filter: nested too deeply at position {self.tok.pos}")
        try:
            if self.take("kw", "NOT"):
                return Not(self.factor())
            if self.take("op", "("):
                inner = self.expression()
                self.expect("op", ")", "')'")
                return inner
            return self._simple()
        finally:
            self.depth -= 1

    def _simple(self) -> Expr:
        self.predicates += 1
        if self.predicates > MAX_PREDICATES:
            raise InvalidInput(
                f"filter: more than {MAX_PREDICATES} conditions "
                f"(at position {self.tok.pos})"
            )
        if self.tok.kind == "kw" and self.tok.value in ("TRUE", "FALSE"):
            after = self.toks[self.i + 1]
            if after.kind == "end" or after.value in (")", "AND", "OR"):
                return Const(self.take("kw").value == "TRUE")  # type: ignore[union-attr]
        return self.predicate()

    def predicate(self) -> Expr:
        start = self.tok
        left, left_is_prop = self.operand()
        t = self.tok
        if self.take("kw", "IS"):
            negate = bool(self.take("kw", "NOT"))
            self.expect("kw", "NULL", "NULL")
            null = IsNull(self._prop(left, left_is_prop, start))
            return Not(null) if negate else null
        negate = bool(self.take("kw", "NOT"))
        pred: Expr
        if self.take("kw", "LIKE"):
            pattern = self.literal()
            if not isinstance(pattern, str):
                raise InvalidInput(f"filter: LIKE needs a text pattern near {t.pos}")
            pred = Like(self._prop(left, left_is_prop, start), pattern)
        elif self.take("kw", "BETWEEN"):
            low = self.literal()
            self.expect("kw", "AND", "AND")
            pred = Between(self._prop(left, left_is_prop, start), low, self.literal())
        elif self.take("kw", "IN"):
            self.expect("op", "(", "'(' after IN")
            values = [self.literal()]
            while self.take("op", ","):
                values.append(self.literal())
            self.expect("op", ")", "')' or ','")
            pred = In(self._prop(left, left_is_prop, start), tuple(values))
        elif not negate and t.kind == "op" and t.value in OPS + ("!=",):
            self.i += 1
            op = "<>" if t.value == "!=" else str(t.value)
            pred = self._compare(left, left_is_prop, op, start)
        else:
            raise self.fail("a comparison (=, <>, <, <=, >, >=, LIKE, IN, BETWEEN, IS)")
        return Not(pred) if negate else pred

    def _compare(self, left: object, left_is_prop: bool, op: str, at: _Tok) -> Expr:
        right_tok = self.tok
        right, right_is_prop = self.operand()
        if left_is_prop and not right_is_prop:
            return Compare(str(left), op, right)  # type: ignore[arg-type]
        if right_is_prop and not left_is_prop:
            return Compare(str(right), _FLIP[op], left)  # type: ignore[arg-type]
        where = at if not left_is_prop else right_tok
        raise InvalidInput(
            f"filter: compare a property with a value, at position {where.pos}"
        )

    @staticmethod
    def _prop(value: object, is_prop: bool, at: _Tok) -> str:
        if not is_prop:
            raise InvalidInput(f"filter: expected a property name at position {at.pos}")
        return str(value)

    def operand(self) -> tuple[object, bool]:
        t = self.tok
        if t.kind == "id" and self.toks[self.i + 1].value == "(":
            name = str(t.value).upper()
            if name in ("DATE", "TIMESTAMP"):
                return self.literal(), False
            raise InvalidInput(
                f"filter: function {t.value}() at position {t.pos} is not "
                "supported (basic CQL2 comparisons only)"
            )
        if self.take("id"):
            return t.value, True
        return self.literal(), False

    def literal(self) -> Literal:
        t = self.tok
        if t.kind in ("num", "str"):
            self.i += 1
            return t.value  # type: ignore[return-value]
        if t.kind == "kw" and t.value in ("TRUE", "FALSE"):
            self.i += 1
            return t.value == "TRUE"
        if t.kind == "id" and str(t.value).upper() in ("DATE", "TIMESTAMP"):
            self.i += 1
            self.expect("op", "(", "'('")
            s = self.tok
            if not self.take("str"):
                raise self.fail("a quoted date")
            self.expect("op", ")", "')'")
            text = str(s.value)
            if str(t.value).upper() == "DATE":
                return parse_date(text, where=f"filter at position {s.pos}")
            return parse_timestamp(text, where=f"filter at position {s.pos}")
        raise self.fail("a value")


def parse_cql2(text: str) -> Expr:
    """Parse a CQL2-text filter (basic and advanced comparison operators)."""
    if not text.strip():
        raise InvalidInput("filter: empty expression")
    p = _Parser(text)
    expr = p.expression()
    if p.tok.kind != "end":
        raise p.fail("AND, OR or the end of the filter")
    return expr


# -------------------------------------------------------------------- time
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_STAMP = re.compile(
    r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})"
)


def parse_date(text: str, *, where: str = "datetime") -> dt.date:
    """An RFC 3339 full-date.

    >>> parse_date("2018-07-01")
    datetime.date(2018, 7, 1)
    """
    try:
        if _DATE.fullmatch(text):
            return dt.date.fromisoformat(text)
    except ValueError:
        pass
    raise InvalidInput(f"{where}: {text!r} is not a date (YYYY-MM-DD)")


def parse_timestamp(text: str, *, where: str = "datetime") -> dt.datetime:
    """An RFC 3339 date-time with its offset, in UTC.

    >>> parse_timestamp("2018-07-01T12:00:00+01:00")
    datetime.datetime(2018, 7, 1, 11, 0, tzinfo=datetime.timezone.utc)
    """
    try:
        if _STAMP.fullmatch(text):
            value = dt.datetime.fromisoformat(text.upper().replace(" ", "T"))
            return value.astimezone(dt.UTC)
    except ValueError:
        pass
    raise InvalidInput(
        f"{where}: {text!r} is not an RFC 3339 date-time (e.g. 2018-02-12T23:20:50Z)"
    )


Interval = tuple[dt.datetime | None, dt.datetime | None]
_DAY = dt.timedelta(days=1) - dt.timedelta(milliseconds=1)


def _bounds(text: str) -> tuple[dt.datetime, dt.datetime]:
    if _DATE.fullmatch(text):
        day = parse_date(text)
        start = dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)
        return start, start + _DAY  # a date is the whole day
    stamp = parse_timestamp(text)
    return stamp, stamp


def parse_interval(text: str) -> Interval:
    """The ``datetime`` parameter: an instant, or ``start/end`` with ``..``
    (or nothing) for an open end. Dates stand for whole days (UTC).

    >>> parse_interval("2018-01-01/..")
    (datetime.datetime(2018, 1, 1, 0, 0, tzinfo=datetime.timezone.utc), None)
    >>> parse_interval("2018-03-01T10:00:00Z")[1].isoformat()
    '2018-03-01T10:00:00+00:00'
    """
    text = text.strip()
    if "/" not in text:
        return _bounds(text)
    first, _, second = text.partition("/")
    start = None if first in ("", "..") else _bounds(first)[0]
    end = None if second in ("", "..") else _bounds(second)[1]
    if start is not None and end is not None and start > end:
        raise InvalidInput(f"datetime: {text!r} ends before it starts")
    return start, end


# ----------------------------------------------------------------- binding
_ORDERED = frozenset(
    (FieldType.INTEGER, FieldType.REAL, FieldType.TEXT, FieldType.DATE)
) | {FieldType.DATETIME}


def coerce_text(text: str, ftype: FieldType, *, prop: str) -> Literal:
    """A query-string value (``?name=value``) as a literal of the field's type."""
    try:
        if ftype is FieldType.INTEGER:
            return int(text)
        if ftype is FieldType.REAL:
            return float(text)
        if ftype is FieldType.BOOLEAN:
            return {"true": True, "false": False, "1": True, "0": False}[text.lower()]
    except (ValueError, KeyError):
        raise InvalidInput(
            f"{prop}: {text!r} is not a valid {ftype.value} value"
        ) from None
    return _typed(text, ftype, prop)


def _typed(value: Literal, ftype: FieldType, prop: str) -> Literal:
    """``value`` converted for a comparison with a column of type ``ftype``."""
    where = f"filter on {prop!r}"
    if isinstance(value, bool):
        if ftype is FieldType.BOOLEAN:
            return value
    elif isinstance(value, int | float):
        if ftype in (FieldType.INTEGER, FieldType.REAL):
            if isinstance(value, int) and abs(value) >= 2**63:
                return float(value)  # beyond int64: compare as a number
            if isinstance(value, float) and not math.isfinite(value):
                raise InvalidInput(f"{where}: {value} is not a finite number")
            return value
    elif isinstance(value, dt.datetime):
        if ftype is FieldType.DATETIME:
            return value
    elif isinstance(value, dt.date):
        if ftype is FieldType.DATE:
            return value
        if ftype is FieldType.DATETIME:
            return dt.datetime(value.year, value.month, value.day, tzinfo=dt.UTC)
    elif isinstance(value, str):
        if ftype is FieldType.TEXT:
            return value
        if ftype is FieldType.DATE:
            return parse_date(value, where=where)
        if ftype is FieldType.DATETIME:  # GDAL sends timestamps as strings
            if _DATE.fullmatch(value):
                return _typed(parse_date(value, where=where), ftype, prop)
            return parse_timestamp(value, where=where)
    raise InvalidInput(
        f"{where}: expected a value of type {ftype.value}, not {value!r}"
    )


def bind(expr: Expr, fields: Mapping[str, FieldType]) -> Expr:
    """Check ``expr`` against ``fields`` and type its literals.

    >>> bind(parse_cql2("n = '3'"), {"n": FieldType.INTEGER})
    Traceback (most recent call last):
    ...
    quartier.errors.InvalidInput: filter on 'n': expected ... integer, not '3'
    >>> bind(parse_cql2("d > '2018-01-01'"), {"d": FieldType.DATE})
    Compare(prop='d', op='>', value=datetime.date(2018, 1, 1))
    """

    def ftype(prop: str, *, ordered: bool = False) -> FieldType:
        if prop not in fields:
            raise InvalidInput(f"filter: unknown property {prop!r}")
        t = fields[prop]
        if t in (FieldType.JSON, FieldType.BLOB) or (
            ordered and t not in _ORDERED and t is not FieldType.BOOLEAN
        ):
            raise InvalidInput(f"filter: {prop!r} ({t.value}) can only be IS NULL")
        return t

    if isinstance(expr, Compare):
        t = ftype(expr.prop, ordered=True)
        if t is FieldType.BOOLEAN and expr.op not in ("=", "<>"):
            raise InvalidInput(f"filter: {expr.prop!r} is a boolean: use = or <>")
        return Compare(expr.prop, expr.op, _typed(expr.value, t, expr.prop))
    if isinstance(expr, Like):
        if ftype(expr.prop) is not FieldType.TEXT:
            raise InvalidInput(f"filter: LIKE needs a text property, not {expr.prop!r}")
        if re.search(r"(?<!\\)(\\\\)*\\$", expr.pattern):
            raise InvalidInput("filter: a LIKE pattern cannot end with '\\'")
        return expr
    if isinstance(expr, IsNull):
        if expr.prop not in fields:
            raise InvalidInput(f"filter: unknown property {expr.prop!r}")
        return expr
    if isinstance(expr, In):
        if len(expr.values) > MAX_VALUES:
            raise InvalidInput(f"filter: IN takes at most {MAX_VALUES} values")
        t = ftype(expr.prop)
        return In(expr.prop, tuple(_typed(v, t, expr.prop) for v in expr.values))
    if isinstance(expr, Between):
        t = ftype(expr.prop, ordered=True)
        low, high = (_typed(v, t, expr.prop) for v in (expr.low, expr.high))
        return Between(expr.prop, low, high)
    if isinstance(expr, Not):
        return Not(bind(expr.arg, fields))
    if isinstance(expr, And | Or):
        return type(expr)(tuple(bind(a, fields) for a in expr.args))
    return expr


def properties_of(expr: Expr | None) -> set[str]:
    """The property names an expression reads."""
    if expr is None or isinstance(expr, Const):
        return set()
    if isinstance(expr, Not):
        return properties_of(expr.arg)
    if isinstance(expr, And | Or):
        return set().union(*(properties_of(a) for a in expr.args))
    return {expr.prop}
