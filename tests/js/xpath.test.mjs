// Unit tests of the web forms' XPath evaluator (src/…/static/js/xpath.js),
// run with `node --test` (tests/web/test_xpath_js.py runs them under pytest).
import assert from "node:assert/strict";
import { test } from "node:test";

import { evaluate, parse, toStr, tree } from "../../src/quartier/web/static/js/xpath.js";

// /data: a=3, b="" , s="x y", t="Bonjour", d=2024-03-01, rep[1]/v=2, rep[2]/v=5
const doc = tree({
  name: "#doc",
  children: [{
    name: "data",
    children: [
      { name: "a", value: "3" }, { name: "b", value: "" }, { name: "s", value: "x y" },
      { name: "t", value: "Bonjour" }, { name: "d", value: "2024-03-01" },
      { name: "rep", template: true, children: [{ name: "v", value: "0" }] },
      { name: "rep", children: [{ name: "v", value: "2" }, { name: "w", value: "a" }] },
      { name: "rep", children: [{ name: "v", value: "5" }, { name: "w", value: "b" }] },
    ],
  }],
});
const data = doc.children[0];
const a = data.children[0];
const rep2 = data.children[7];
const v2 = rep2.children[0];
const ev = (expr, node = a, current) => toStr(evaluate(expr, node, { doc, current }));

const cases = {
  // paths
  "/data/a": "3", ".": "3", "../t": "Bonjour", "current()": "3", "/data/rep[2]/v": "5",
  "../rep[w = 'b']/v": "5", "count(/data/rep)": "2", "../rep/v": "2",
  // arithmetic
  ". + 2": "5", ". - 5": "-2", ". * 2": "6", "7 div 2": "3.5", "7 mod 3": "1", "-.": "-3",
  "0.1 + 0.2": "0.3", "1 div 0": "Infinity", "/data/b + 1": "NaN",
  // comparisons
  ". = 3": "true", ". = '3'": "true", ". != 3": "false", ". < 4": "true", ". <= 3": "true",
  ". > 3": "false", ". >= 3": "true", "/data/b = ''": "true", "/data/b < 1": "false",
  "/data/d < '2024-03-02'": "true", "/data/d > today()": "false",
  // logic
  "true() and false()": "false", "true() or false()": "true", "not(. = 3)": "false",
  "/data/b and true()": "false", "/data/a and true()": "true", "boolean('x')": "true",
  "boolean(/data/rep)": "true", "boolean(/data/nothing)": "false",
  // strings
  "\"it's\"": "it's", "concat(/data/t, ' ', 1, '!')": "Bonjour 1!", "string-length(/data/t)": "7",
  "string-length(/data/b)": "0", "contains(/data/t, 'jour')": "true", "starts-with(/data/t, 'Bon')": "true",
  "substr(/data/t, 0, 3)": "Bon", "normalize-space('  a   b ')": "a b", "regex(/data/t, '^B')": "true",
  "string(12)": "12",
  // selects
  "selected(/data/s, 'y')": "true", "selected(/data/s, 'z')": "false", "count-selected(/data/s)": "2",
  "selected-at(/data/s, 1)": "y",
  // numbers
  "number('4.5')": "4.5", "number('abc')": "NaN", "int(7.9)": "7", "int(-7.9)": "-7",
  "round(2.5)": "3", "round(3.14159, 2)": "3.14", "floor(2.7)": "2", "ceiling(2.1)": "3",
  "abs(-2)": "2", "pow(2, 10)": "1024", "max(/data/rep/v)": "5", "min(1, 4)": "1",
  // conditionals
  "if(. > 2, 'grand', 'petit')": "grand", "if(/data/b, 'x', 'vide')": "vide",
  "coalesce(/data/b, /data/t)": "Bonjour", "coalesce(/data/a, /data/t)": "3",
  // repeats
  "sum(/data/rep/v)": "7", "count(/data/rep/v)": "2",
};

for (const [expr, expected] of Object.entries(cases)) {
  test(`${expr} → ${expected}`, () => assert.equal(ev(expr), expected));
}

test("an absolute path in a repeat means the same repeat instance", () => {
  assert.equal(ev("/data/rep/w", v2), "b");
  assert.equal(ev("sum(/data/rep/v)", a), "7");
  assert.equal(ev("../w", v2), "b");
});

test("position() of a repeat instance and inside a predicate", () => {
  assert.equal(ev("position(..)", v2), "2");
  assert.equal(ev("position(/data/rep[1])"), "1");
  assert.equal(ev("/data/rep[position() = 2]/v"), "5");
});

test("current() in a choice filter is the question, . the choice", () => {
  const item = tree({ name: "item", children: [{ name: "name", value: "x" }, { name: "commune", value: "3" }] });
  assert.equal(ev("commune = current()/../a", item, a), "true");
  assert.equal(ev("commune = /data/a", item, a), "true");
  assert.equal(ev("name = 'y'", item, a), "false");
});

test("today() and now() are local ISO dates", () => {
  assert.match(ev("today()"), /^\d{4}-\d{2}-\d{2}$/);
  assert.match(ev("now()"), /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}[+-]\d{2}:\d{2}$/);
});

test("operator names and names that look like them", () => {
  const t = tree({ name: "#doc", children: [{ name: "data", children: [{ name: "div", value: "8" }, { name: "and", value: "2" }] }] });
  assert.equal(toStr(evaluate("/data/div div /data/and", t.children[0])), "4");
});

test("errors: bad syntax and unknown functions are thrown, not guessed", () => {
  assert.throws(() => parse(". = "), SyntaxError);
  assert.throws(() => parse("'open"), SyntaxError);
  assert.throws(() => parse("(1 + 2"), SyntaxError);
  assert.throws(() => evaluate("nope(1)", a), /unsupported function/);
});

test("instance('id') reads a choice list", () => {
  const lists = { villes: tree({ name: "#doc", children: [{ name: "root", children: [
    { name: "item", children: [{ name: "name", value: "kin" }, { name: "label", value: "Kinshasa" }] },
    { name: "item", children: [{ name: "name", value: "lub" }, { name: "label", value: "Lubumbashi" }] },
  ] }] }) };
  const env = { doc, instance: (id) => lists[id] };
  assert.equal(toStr(evaluate("instance('villes')/root/item[name = 'lub']/label", a, env)), "Lubumbashi");
  assert.equal(toStr(evaluate("count(instance('villes')/root/item)", a, env)), "2");
  assert.equal(toStr(evaluate("count(instance('autre')/root/item)", a, env)), "0");
});
