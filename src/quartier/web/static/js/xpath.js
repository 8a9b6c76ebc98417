// A small XPath 1.0 evaluator for XForm expressions (relevant, constraint,
// calculate, required, choice filters), written for the portal's web forms.
// It works on a plain node tree: { name, value, children, parent }. It covers
// the subset ODK forms use: paths (/a/b, ., .., current(), predicates),
// = != < <= > >= and or + - * div mod, unary minus, string and number
// literals, instance('id') (choice lists) and the functions in FUNCTIONS.
//
//   import { evaluate } from "./xpath.js";
//   evaluate(". > 0 and . < 10", node, { doc })   // → true / false
//
// Inside a repeat, an absolute path to a node of the same repeat instance
// means that instance (as in ODK Collect): /data/rep/x read from
// /data/rep[2]/y is /data/rep[2]/x.

const NAME = /^[A-Za-z_][\w.-]*(?::[A-Za-z_][\w.-]*)?/;
const NUMBER = /^(?:\d+(?:\.\d*)?|\.\d+)/;
const OPERATOR_NAMES = new Set(["and", "or", "div", "mod"]);

export function tokenize(text) {
  const tokens = [];
  let i = 0;
  const afterOperand = () => {
    const last = tokens[tokens.length - 1];
    return last && (last.t === "num" || last.t === "str" || last.t === "name"
      || last.v === ")" || last.v === "]" || last.v === "." || last.v === "..");
  };
  while (i < text.length) {
    const rest = text.slice(i);
    const c = text[i];
    if (/\s/.test(c)) { i += 1; continue; }
    if (c === "'" || c === '"') {
      const end = text.indexOf(c, i + 1);
      if (end < 0) throw new SyntaxError(`unclosed string in ${text}`);
      tokens.push({ t: "str", v: text.slice(i + 1, end) });
      i = end + 1;
      continue;
    }
    const two = rest.slice(0, 2);
    if (["!=", "<=", ">=", "//", "..", "::"].includes(two)) {
      tokens.push({ t: "op", v: two });
      i += 2;
      continue;
    }
    const num = NUMBER.exec(rest);
    if (num && !(c === "." && !/\d/.test(rest[1] || ""))) {
      tokens.push({ t: "num", v: Number(num[0]) });
      i += num[0].length;
      continue;
    }
    if ("()[],=<>+-|/.@$".includes(c)) {
      tokens.push({ t: "op", v: c });
      i += 1;
      continue;
    }
    if (c === "*") {
      tokens.push(afterOperand() ? { t: "op", v: "*" } : { t: "name", v: "*" });
      i += 1;
      continue;
    }
    const name = NAME.exec(rest);
    if (!name) throw new SyntaxError(`unexpected "${c}" in ${text}`);
    const word = name[0];
    if (OPERATOR_NAMES.has(word) && afterOperand()) tokens.push({ t: "op", v: word });
    else tokens.push({ t: "name", v: word });
    i += word.length;
  }
  return tokens;
}

// ------------------------------------------------------------------ parser
// The tree: { k: "num"|"str"|"bin"|"neg"|"call"|"path"|"filter", ... }
export function parse(text) {
  const tokens = tokenize(text);
  let pos = 0;
  const peek = () => tokens[pos];
  const isOp = (v) => peek() && peek().t === "op" && peek().v === v;
  const expect = (v) => {
    if (!isOp(v)) throw new SyntaxError(`expected "${v}" in ${text}`);
    pos += 1;
  };
  const binary = (next, ops) => () => {
    let left = next();
    while (peek() && peek().t === "op" && ops.includes(peek().v)) {
      const op = tokens[pos++].v;
      left = { k: "bin", op, a: left, b: next() };
    }
    return left;
  };
  const unary = () => {
    if (isOp("-")) { pos += 1; return { k: "neg", a: unary() }; }
    return union();
  };
  const mul = binary(unary, ["*", "div", "mod"]);
  const add = binary(mul, ["+", "-"]);
  const rel = binary(add, ["<", "<=", ">", ">="]);
  const eq = binary(rel, ["=", "!="]);
  const and = binary(eq, ["and"]);
  const or = binary(and, ["or"]);
  function union() {
    let left = pathExpr();
    while (isOp("|")) { pos += 1; left = { k: "bin", op: "|", a: left, b: pathExpr() }; }
    return left;
  }
  function predicates() {
    const list = [];
    while (isOp("[")) { pos += 1; list.push(or()); expect("]"); }
    return list;
  }
  function step() {
    const tok = peek();
    if (!tok) throw new SyntaxError(`unexpected end of ${text}`);
    if (tok.t === "op" && tok.v === ".") { pos += 1; return { axis: "self", preds: predicates() }; }
    if (tok.t === "op" && tok.v === "..") { pos += 1; return { axis: "parent", preds: predicates() }; }
    if (tok.t === "op" && tok.v === "@") {
      pos += 1;
      return { axis: "attr", name: tokens[pos++].v, preds: predicates() };
    }
    if (tok.t === "name") {
      pos += 1;
      if (tok.v === "node" && isOp("(")) { pos += 1; expect(")"); return { axis: "child", name: "*", preds: predicates() }; }
      return { axis: "child", name: tok.v, preds: predicates() };
    }
    throw new SyntaxError(`unexpected "${tok.v}" in ${text}`);
  }
  function relative(steps) {
    steps.push(step());
    while (isOp("/") || isOp("//")) {
      if (tokens[pos++].v === "//") steps.push({ axis: "desc" });
      steps.push(step());
    }
    return steps;
  }
  const startsStep = () => {
    const tok = peek();
    return tok && (tok.t === "name" || [".", "..", "@"].includes(tok.v));
  };
  function pathExpr() {
    const tok = peek();
    if (!tok) throw new SyntaxError(`unexpected end of ${text}`);
    if (tok.t === "op" && (tok.v === "/" || tok.v === "//")) {
      pos += 1;
      const steps = tok.v === "//" ? [{ axis: "desc" }] : [];
      if (startsStep()) relative(steps);
      return { k: "path", abs: true, steps };
    }
    const isCall = tok.t === "name" && tokens[pos + 1] && tokens[pos + 1].v === "("
      && tok.v !== "node";
    if (tok.t === "name" && !isCall) return { k: "path", abs: false, steps: relative([]) };
    if (tok.t === "op" && [".", "..", "@"].includes(tok.v)) {
      return { k: "path", abs: false, steps: relative([]) };
    }
    let primary;
    if (tok.t === "num") { pos += 1; primary = { k: "num", v: tok.v }; }
    else if (tok.t === "str") { pos += 1; primary = { k: "str", v: tok.v }; }
    else if (tok.t === "op" && tok.v === "(") { pos += 1; primary = or(); expect(")"); }
    else if (isCall) {
      pos += 2;
      const args = [];
      if (!isOp(")")) {
        args.push(or());
        while (isOp(",")) { pos += 1; args.push(or()); }
      }
      expect(")");
      primary = { k: "call", name: tok.v, args };
    } else {
      throw new SyntaxError(`unexpected "${tok.v}" in ${text}`);
    }
    const preds = predicates();
    const steps = [];
    if (isOp("/") || isOp("//")) {
      if (tokens[pos++].v === "//") steps.push({ axis: "desc" });
      relative(steps);
    }
    return preds.length || steps.length ? { k: "filter", primary, preds, steps } : primary;
  }
  const tree = or();
  if (pos < tokens.length) throw new SyntaxError(`unexpected "${tokens[pos].v}" in ${text}`);
  return tree;
}

// --------------------------------------------------------------- values
const isNodes = (v) => Array.isArray(v);
export const nodeText = (node) => (node.children && node.children.length
  ? node.children.map(nodeText).join("") : String(node.value ?? ""));

export function toStr(v) {
  if (isNodes(v)) return v.length ? nodeText(v[0]) : "";
  if (typeof v === "boolean") return v ? "true" : "false";
  if (typeof v === "number") {
    if (Number.isNaN(v)) return "NaN";
    if (!Number.isFinite(v)) return v > 0 ? "Infinity" : "-Infinity";
    return String(Number.isInteger(v) ? v : Number(v.toPrecision(15)));
  }
  return String(v ?? "");
}

const DATE = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2}(?:\.\d+)?))?(Z|[+-]\d{2}:?\d{2})?)?$/;

export function toNum(v) {
  if (typeof v === "number") return v;
  if (typeof v === "boolean") return v ? 1 : 0;
  const s = toStr(v).trim();
  if (s === "") return NaN;
  if (/^[+-]?(\d+(\.\d*)?|\.\d+)$/.test(s)) return Number(s);
  const d = DATE.exec(s);
  if (d) {
    // dates compare as days since 1970-01-01 (as in ODK)
    const ms = d[4] ? Date.parse(s) : Date.UTC(+d[1], +d[2] - 1, +d[3]);
    return ms / 86400000;
  }
  return NaN;
}

export function toBool(v) {
  // one node counts by its value, as in ODK Collect (JavaRosa): a relevant
  // of "${done}" is false while done is empty
  if (isNodes(v)) return v.length === 1 ? nodeText(v[0]).length > 0 : v.length > 0;
  if (typeof v === "number") return v !== 0 && !Number.isNaN(v);
  if (typeof v === "string") return v.length > 0;
  return Boolean(v);
}

function compare(op, a, b) {
  if (isNodes(a) || isNodes(b)) {
    const left = isNodes(a) ? a.map(nodeText) : [a];
    const right = isNodes(b) ? b.map(nodeText) : [b];
    return left.some((x) => right.some((y) => compare(op, x, y)));
  }
  if (op === "=" || op === "!=") {
    let same;
    if (typeof a === "boolean" || typeof b === "boolean") same = toBool(a) === toBool(b);
    else if (typeof a === "number" || typeof b === "number") same = toNum(a) === toNum(b);
    else same = toStr(a) === toStr(b);
    return op === "=" ? same : !same;
  }
  const x = toNum(a);
  const y = toNum(b);
  return { "<": x < y, "<=": x <= y, ">": x > y, ">=": x >= y }[op];
}

// ------------------------------------------------------------- functions
const pad = (n, w = 2) => String(n).padStart(w, "0");
function localDate(d) {
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}
export function localDateTime(d) {
  const off = -d.getTimezoneOffset();
  const sign = off >= 0 ? "+" : "-";
  return `${localDate(d)}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`
    + `.${pad(d.getMilliseconds(), 3)}${sign}${pad(Math.floor(Math.abs(off) / 60))}:${pad(Math.abs(off) % 60)}`;
}
const nums = (args) => args.flatMap((a) => (isNodes(a) ? a.map((n) => toNum(nodeText(n))) : [toNum(a)]));

export const FUNCTIONS = {
  "true": () => true,
  "false": () => false,
  "not": (a) => !toBool(a),
  "boolean": (a) => toBool(a),
  "string": function (a) { return toStr(a === undefined ? [this.node] : a); },
  "number": function (a) { return toNum(a === undefined ? [this.node] : a); },
  "int": (a) => Math.trunc(toNum(a)),
  "round": (a, digits) => {
    const f = 10 ** (digits === undefined ? 0 : toNum(digits));
    const x = toNum(a) * f;
    return (x < 0 ? -Math.round(-x) : Math.round(x)) / f;
  },
  "floor": (a) => Math.floor(toNum(a)),
  "ceiling": (a) => Math.ceil(toNum(a)),
  "abs": (a) => Math.abs(toNum(a)),
  "pow": (a, b) => toNum(a) ** toNum(b),
  "min": (...args) => (nums(args).length ? Math.min(...nums(args)) : NaN),
  "max": (...args) => (nums(args).length ? Math.max(...nums(args)) : NaN),
  "sum": (ns) => (isNodes(ns) ? ns.reduce((s, n) => s + toNum(nodeText(n)), 0) : toNum(ns)),
  "count": (ns) => (isNodes(ns) ? ns.length : 0),
  "string-length": function (a) { return toStr(a === undefined ? [this.node] : a).length; },
  "concat": (...args) => args.map(toStr).join(""),
  "contains": (a, b) => toStr(a).includes(toStr(b)),
  "starts-with": (a, b) => toStr(a).startsWith(toStr(b)),
  "ends-with": (a, b) => toStr(a).endsWith(toStr(b)),
  "substr": (s, start, end) => toStr(s).slice(toNum(start), end === undefined ? undefined : toNum(end)),
  "normalize-space": function (a) { return toStr(a === undefined ? [this.node] : a).trim().replace(/\s+/g, " "); },
  "regex": (s, re) => new RegExp(toStr(re)).test(toStr(s)),
  "selected": (list, value) => toStr(list).split(/\s+/).includes(toStr(value).trim()),
  "count-selected": (list) => toStr(list).split(/\s+/).filter(Boolean).length,
  "selected-at": (list, i) => toStr(list).split(/\s+/).filter(Boolean)[toNum(i)] || "",
  "if": (c, a, b) => (toBool(c) ? a : b),
  "coalesce": (a, b) => (toStr(a) !== "" ? a : b),
  "today": () => localDate(new Date()),
  "now": () => localDateTime(new Date()),
  "uuid": () => uuid(),
  "position": function (ns) {
    if (ns === undefined) return this.position;
    const node = isNodes(ns) ? ns[0] : null;
    if (!node || !node.parent) return NaN;
    return node.parent.children.filter((n) => n.name === node.name && !n.template).indexOf(node) + 1;
  },
};

export function uuid() {
  if (globalThis.crypto && crypto.randomUUID) return crypto.randomUUID();
  // crypto.randomUUID needs a secure context; getRandomValues does not
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

// ------------------------------------------------------------ evaluation
// ctx: { node, position, current, doc } — doc is a virtual node whose one
// child is the instance's root element.
function evalTree(t, ctx) {
  switch (t.k) {
    case "num": return t.v;
    case "str": return t.v;
    case "neg": return -toNum(evalTree(t.a, ctx));
    case "call": {
      if (t.name === "current") return [ctx.current || ctx.node];
      if (t.name === "instance") {
        // a secondary instance (choice list) by id: its document node
        const found = ctx.instance && ctx.instance(toStr(evalTree(t.args[0], ctx)));
        return found ? [found] : [];
      }
      const fn = FUNCTIONS[t.name] || FUNCTIONS[t.name.replace(/^jr:/, "")];
      if (!fn) throw new Error(`unsupported function ${t.name}()`);
      if (t.name === "if") return toBool(evalTree(t.args[0], ctx)) ? evalTree(t.args[1], ctx) : evalTree(t.args[2], ctx);
      // functions reading the context node get it as ``this``
      return fn.apply(ctx, t.args.map((a) => evalTree(a, ctx)));
    }
    case "path": {
      const start = t.abs ? [ctx.doc] : [ctx.node];
      return walk(start, t.steps, ctx);
    }
    case "filter": {
      let v = evalTree(t.primary, ctx);
      if (!isNodes(v)) return v;
      for (const p of t.preds) v = filter(v, p, ctx);
      return walk(v, t.steps, ctx);
    }
    case "bin": return binary(t, ctx);
    default: throw new Error(`bad expression node ${t.k}`);
  }
}

function binary(t, ctx) {
  const { op } = t;
  if (op === "and") return toBool(evalTree(t.a, ctx)) && toBool(evalTree(t.b, ctx));
  if (op === "or") return toBool(evalTree(t.a, ctx)) || toBool(evalTree(t.b, ctx));
  const a = evalTree(t.a, ctx);
  const b = evalTree(t.b, ctx);
  switch (op) {
    case "+": return toNum(a) + toNum(b);
    case "-": return toNum(a) - toNum(b);
    case "*": return toNum(a) * toNum(b);
    case "div": return toNum(a) / toNum(b);
    case "mod": return toNum(a) % toNum(b);
    case "|": return [...new Set([...(isNodes(a) ? a : []), ...(isNodes(b) ? b : [])])];
    default: return compare(op, a, b);
  }
}

function ancestors(node) {
  const set = new Set();
  for (let n = node; n; n = n.parent) set.add(n);
  return set;
}

function walk(start, steps, ctx) {
  let nodes = start;
  const mine = ancestors(ctx.current || ctx.node);
  for (const s of steps) {
    const next = [];
    for (const n of nodes) {
      if (s.axis === "self") next.push(n);
      else if (s.axis === "parent") { if (n.parent) next.push(n.parent); }
      else if (s.axis === "attr") { if (n.attrs && s.name in n.attrs) next.push({ name: s.name, value: n.attrs[s.name], parent: n }); }
      else if (s.axis === "desc") collect(n, next);
      else for (const c of n.children || []) if (!c.template && (s.name === "*" || c.name === s.name)) next.push(c);
    }
    let found = [...new Set(next)];
    // the same repeat instance as the context node, when it is one of them
    if (s.axis === "child" && found.length > 1) {
      const own = found.filter((n) => mine.has(n));
      if (own.length === 1) found = own;
    }
    for (const p of s.preds || []) found = filter(found, p, ctx);
    nodes = found;
  }
  return nodes;
}

function collect(node, out) {
  out.push(node);
  for (const c of node.children || []) if (!c.template) collect(c, out);
}

function filter(nodes, pred, ctx) {
  return nodes.filter((node, i) => {
    const v = evalTree(pred, { ...ctx, node, position: i + 1 });
    return typeof v === "number" ? v === i + 1 : toBool(v);
  });
}

const cache = new Map();
export function compile(text) {
  let tree = cache.get(text);
  if (!tree) { tree = parse(text); cache.set(text, tree); }
  return tree;
}

// Evaluate ``text`` with ``node`` as the context node; env.doc is the
// document (virtual root), env.current the node current() means,
// env.instance(id) the document node of a secondary instance.
export function evaluate(text, node, env = {}) {
  let doc = env.doc;
  if (!doc) { doc = node; while (doc.parent) doc = doc.parent; }
  const ctx = { node, position: 1, current: env.current || node, doc, instance: env.instance };
  return evalTree(compile(text), ctx);
}

// A plain node tree from { name, value, children } objects (sets parents).
export function tree(spec, parent = null) {
  const node = { name: spec.name, value: spec.value ?? "", parent, children: [] };
  if (spec.template) node.template = true;
  node.children = (spec.children || []).map((c) => tree(c, node));
  return node;
}
