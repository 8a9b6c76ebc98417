// A web form (/formulaires/{id}): renders the form described by the server
// (quartier.forms.webform — the XForm as JSON, labels in the portal
// language), keeps the answers in a node tree shaped like the XForm's
// primary instance, evaluates relevant / required / constraint / calculate /
// choice filters with xpath.js, and on submit builds the instance XML ODK
// Collect would send and puts it in the outbox (webform_queue.js).
const v = new URL(import.meta.url).search;
const { evaluate, toBool, toStr, uuid, localDateTime } = await import(`./xpath.js${v}`);
const queue = await import(`./webform_queue.js${v}`);
const { geoWidget } = await import(`./webform_map.js${v}`);

const config = JSON.parse(document.getElementById("webform-config").textContent);
const S = config.strings;
const F = config.form;
const bodyBox = document.getElementById("wf-body");
const statusBox = document.getElementById("wf-status");
const GEO = new Set(["geopoint", "geotrace", "geoshape"]);

// ------------------------------------------------------------------ model
const templates = new Map(); // path of a repeat → its template (spec)
let doc;
let fields = []; // rendered questions: { node, control, bind, el, error, refresh }
let blocks = []; // rendered groups and repeat items: { node, el }
let counted = []; // repeats whose number of items is an expression (jr:count)
// who fills the form: asked to the server (queue.whoami), never taken from
// this page, which the service worker may have kept from someone else
let user = null;

function build(spec, parent) {
  const node = { name: spec.name, value: spec.value || "", parent, children: [] };
  if (spec.file) node.file = spec.file;
  node.path = `${parent.path}/${spec.name}`;
  for (const c of spec.children || []) {
    if (c.template) templates.set(`${node.path}/${c.name}`, c);
    else node.children.push(build(c, node));
  }
  return node;
}

const bindOf = (node) => F.binds[node.path] || {};

function fresh() {
  templates.clear();
  doc = { name: "#doc", path: "", children: [], parent: null };
  doc.children.push(build(F.instance, doc));
  const now = localDateTime(new Date());
  for (const node of all(doc)) {
    const b = bindOf(node);
    if (b.preload === "timestamp" && b.preloadParams === "start") node.value = now;
    if (b.preload === "date" && b.preloadParams === "today") node.value = now.slice(0, 10);
    if (b.preload === "property" && b.preloadParams === "username") node.value = user || "";
  }
}

function all(node, out = []) {
  out.push(node);
  for (const c of node.children) all(c, out);
  return out;
}

// the node at path ``ref`` seen from ``from``: inside the same repeat item
// when ``ref`` goes through it, from the root for any other absolute path
function find(from, ref) {
  let node = from;
  let rest = ref; // a relative path: from ``from``
  if (ref.startsWith(`${from.path}/`)) rest = ref.slice(from.path.length);
  else if (ref.startsWith("/")) node = doc;
  for (const name of rest.split("/").filter(Boolean)) {
    node = node && node.children.find((c) => c.name === name);
  }
  return node;
}

// An expression this renderer cannot evaluate (an unsupported function)
// gives ``fallback`` and a warning, not a broken form.
const warned = new Set();
const lists = new Map();
function instance(id) {
  if (!F.lists[id]) return null;
  if (!lists.has(id)) {
    const top = { name: "#doc", children: [], parent: null };
    const root = { name: "root", children: [], parent: top };
    top.children.push(root);
    root.children = F.lists[id].map((item) => {
      const n = { name: "item", parent: root, children: [] };
      n.children = Object.entries(item).map(([k, val]) => ({ name: k, value: val, parent: n, children: [] }));
      return n;
    });
    lists.set(id, top);
  }
  return lists.get(id);
}

function run(expr, node, fallback = "") {
  try {
    return evaluate(expr, node, { doc, current: node, instance });
  } catch (err) {
    if (!warned.has(expr)) { warned.add(expr); console.warn(`web form: ${expr}: ${err.message}`); }
    return fallback;
  }
}

function relevant(node) {
  for (let n = node; n && n !== doc; n = n.parent) {
    const r = bindOf(n).relevant;
    if (r && !toBool(run(r, n, true))) return false;
  }
  return true;
}

function calculate() {
  for (let pass = 0; pass < 3; pass += 1) {
    for (const node of all(doc)) {
      const c = bindOf(node).calculate;
      if (!c) continue;
      let value = run(c, node);
      if (typeof value === "number" && !Number.isFinite(value)) value = "";
      node.value = toStr(value);
    }
  }
}

// ------------------------------------------------------------- rendering
function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, val] of Object.entries(attrs)) {
    if (val === false || val == null) continue;
    if (k === "text") e.textContent = val;
    else e.setAttribute(k, val === true ? "" : val);
  }
  e.append(...children);
  return e;
}

let ids = 0;
function render() {
  fields = [];
  blocks = [];
  counted = [];
  bodyBox.replaceChildren(...items(F.body, doc.children[0]));
  refresh();
  if (staleCounts() && !render.again) {
    render.again = true; // once: a count that depends on calculations
    render();
    render.again = false;
  }
}

function items(list, ctx) {
  return list.flatMap((item) => {
    if (item.kind === "group") return [group(item, ctx)];
    if (item.kind === "repeat") return [repeat(item, ctx)];
    const node = find(ctx, item.ref);
    return node ? [question(item, node)] : [];
  });
}

function group(item, ctx) {
  const node = item.ref ? find(ctx, item.ref) : ctx;
  const box = el("fieldset", { class: "wf-group" });
  if (item.label) box.append(el("legend", { text: item.label }));
  box.append(...items(item.children, node || ctx));
  if (item.ref && node) blocks.push({ node, el: box });
  return box;
}

function repeat(item, ctx) {
  const parentPath = item.ref.slice(0, item.ref.lastIndexOf("/"));
  const parent = find(ctx, parentPath);
  const name = item.ref.slice(item.ref.lastIndexOf("/") + 1);
  const box = el("fieldset", { class: "wf-repeat", "data-repeat": item.ref });
  box.append(el("legend", { text: item.label || name }));
  if (parent && item.count) {
    counted.push({ item, parent, name });
    resize(item, parent, name);
  }
  const instances = parent ? parent.children.filter((c) => c.name === name) : [];
  instances.forEach((node, i) => {
    const one = el("div", { class: "wf-repeat-item" });
    one.append(el("h3", { text: `${item.label || name} ${i + 1}` }), ...items(item.children, node));
    const drop = el("button", { type: "button", class: "secondary", text: S.remove });
    drop.addEventListener("click", () => {
      parent.children.splice(parent.children.indexOf(node), 1);
      render();
      keepDraft();
    });
    one.append(drop);
    blocks.push({ node, el: one });
    box.append(one);
  });
  if (parent && !item.count) {
    const add = el("button", { type: "button", class: "secondary", text: `${S.add} : ${item.label || name}` });
    add.addEventListener("click", () => {
      const spec = templates.get(item.ref) || { name, children: [] };
      const node = build(spec, parent);
      const last = instances[instances.length - 1];
      parent.children.splice(last ? parent.children.indexOf(last) + 1 : parent.children.length, 0, node);
      render();
      keepDraft();
    });
    box.append(add);
  }
  return box;
}

// jr:count: as many items as the expression says (extra ones removed),
// adjusted when an answer is complete ("change"), not at each key press
function staleCounts() {
  return counted.some(({ item, parent, name }) => (
    parent.children.filter((c) => c.name === name).length !== wanted(item, parent)));
}

function wanted(item, parent) {
  const n = Math.trunc(Number(toStr(run(item.count, parent))));
  return Number.isFinite(n) && n > 0 ? Math.min(n, 200) : 0;
}

function resize(item, parent, name) {
  const n = wanted(item, parent);
  let items = parent.children.filter((c) => c.name === name);
  while (items.length > n) {
    parent.children.splice(parent.children.indexOf(items.pop()), 1);
  }
  while (items.length < n) {
    const node = build(templates.get(item.ref) || { name, children: [] }, parent);
    const last = items[items.length - 1];
    parent.children.splice(last ? parent.children.indexOf(last) + 1 : parent.children.length, 0, node);
    items = [...items, node];
  }
}

function question(control, node) {
  const b = bindOf(node);
  const id = `wf-${(ids += 1)}`;
  const box = el("div", { class: "wf-field", "data-path": node.path });
  const label = el("label", { for: id, class: "wf-label" });
  const star = el("span", { class: "wf-required", "aria-hidden": "true", text: " *", hidden: true });
  box.append(el("div", { class: "wf-head" }, label, star));
  if (control.hint) box.append(el("p", { class: "wf-hint", text: control.hint }));
  const error = el("p", { class: "wf-error", role: "alert", hidden: true });
  const f = { node, control, bind: b, el: box, error, label, star, refresh: () => {} };
  const readonly = b.readonly && toBool(run(b.readonly, node));
  if (readonly && !b.calculate && (b.type === "string" || !b.type) && control.kind === "input") {
    box.classList.add("wf-note"); // a note: a label, no answer
  } else {
    widget(f, id, readonly);
  }
  box.append(error);
  fields.push(f);
  return box;
}

function onInput(f, value) {
  f.node.value = value;
  refresh();
  keepDraft();
}

// ---------------------------------------------------------------- drafts
// per person: null (no draft kept) while nobody is known to be signed in
let draftId = null;
const draftOf = (who) => (who ? `${who}:${F.form_id}:${F.version}` : null);
let draftTimer = null;
const plain = (node) => ({
  name: node.name, value: node.value, file: node.file, children: node.children.map(plain),
});

function keepDraft() {
  clearTimeout(draftTimer);
  if (!draftId) return;
  const id = draftId;
  // (a draft that cannot be kept — storage being cleared — is simply not kept)
  draftTimer = setTimeout(
    () => queue.saveDraft(id, plain(doc.children[0])).catch(() => {}),
    400,
  );
}

async function resume() {
  if (!draftId) return;
  const draft = await queue.loadDraft(draftId).catch(() => null);
  if (!draft) return;
  doc.children = [build(draft.tree, doc)];
  render();
  const note = document.getElementById("wf-draft");
  note.hidden = false;
  note.querySelector("button").addEventListener("click", async () => {
    await queue.dropDraft(draftId).catch(() => {});
    fresh();
    render();
    note.hidden = true;
  }, { once: true });
}

function widget(f, id, readonly) {
  const { control, node, bind: b, el: box } = f;
  const type = b.type || "string";
  if (control.kind === "select1" || control.kind === "select") return choices(f, id, readonly);
  if (control.kind === "upload") {
    if ((control.mediatype || "image/*").startsWith("image/")) return photo(f, id);
    box.append(el("p", { class: "meta", text: S.unsupported }));
    return;
  }
  if (GEO.has(type)) {
    const holder = el("div", { id, class: "wf-geo", tabindex: "-1" });
    box.append(holder);
    geoWidget(holder, type, config.map, S, () => node.value, (value) => onInput(f, value));
    return;
  }
  const attrs = { id, name: node.path, disabled: readonly };
  let input;
  if (control.appearance.includes("multiline")) input = el("textarea", { ...attrs, rows: 3 });
  else if (type === "int") input = el("input", { ...attrs, type: "number", step: "1", inputmode: "numeric" });
  else if (type === "decimal") input = el("input", { ...attrs, type: "number", step: "any", inputmode: "decimal" });
  else if (type === "date") input = el("input", { ...attrs, type: "date" });
  else if (type === "time") input = el("input", { ...attrs, type: "time" });
  else if (type === "dateTime") input = el("input", { ...attrs, type: "datetime-local" });
  else input = el("input", { ...attrs, type: "text" });
  const shown = () => (type === "time" ? node.value.slice(0, 5) : type === "dateTime" ? node.value.slice(0, 16) : node.value);
  input.value = shown();
  input.addEventListener("input", () => onInput(f, stored(type, input.value)));
  f.refresh = () => { if (document.activeElement !== input) input.value = shown(); };
  box.append(input);
}

function offset() {
  return localDateTime(new Date()).slice(-6);
}

function stored(type, raw) {
  if (!raw) return "";
  if (type === "time") return `${raw.length === 5 ? `${raw}:00` : raw}.000${offset()}`;
  if (type === "dateTime") return `${raw.length === 16 ? `${raw}:00` : raw}.000${offset()}`;
  return raw;
}

function options(f) {
  const { control, node } = f;
  if (control.choices) return control.choices;
  if (!control.filter && f.options) return f.options; // a fixed list: once
  const list = F.lists[control.list] || [];
  const key = control.valueRef || "name";
  const out = [];
  const root = { name: "root", path: "", children: [], parent: null };
  for (const item of list) {
    const itemNode = { name: "item", parent: root, children: [] };
    itemNode.children = Object.entries(item).map(([k, val]) => ({ name: k, value: val, parent: itemNode, children: [] }));
    if (control.filter && !filterOk(control.filter, itemNode, node)) continue;
    out.push({ name: item[key], label: item.label || item[key] });
  }
  f.options = out;
  return out;
}

function filterOk(expr, item, current) {
  try {
    return toBool(evaluate(expr, item, { doc, current, instance }));
  } catch (err) {
    if (!warned.has(expr)) { warned.add(expr); console.warn(`web form: ${expr}: ${err.message}`); }
    return true;
  }
}

function choices(f, id, readonly) {
  const { control, node, el: box } = f;
  const multiple = control.kind === "select";
  const holder = el("div", { class: "wf-choices", id: `${id}-box` });
  box.append(holder);
  let signature = "";
  f.label.removeAttribute("for");
  f.label.id = `${id}-label`;
  f.refresh = () => {
    const opts = options(f);
    const names = new Set(opts.map((o) => o.name));
    const chosen = node.value.split(" ").filter((x) => x && names.has(x));
    if (chosen.join(" ") !== node.value) node.value = multiple ? chosen.join(" ") : chosen[0] || "";
    const sig = opts.map((o) => o.name).join("\n");
    if (sig === signature) return;
    signature = sig;
    const minimal = !multiple && (control.appearance.includes("minimal") || opts.length > 12);
    if (minimal) {
      const select = el("select", { id, "aria-labelledby": `${id}-label`, disabled: readonly });
      select.append(el("option", { value: "", text: S.choose }));
      for (const o of opts) select.append(el("option", { value: o.name, text: o.label, selected: o.name === node.value }));
      select.addEventListener("change", () => onInput(f, select.value));
      holder.replaceChildren(select);
      return;
    }
    holder.setAttribute("role", multiple ? "group" : "radiogroup");
    holder.setAttribute("aria-labelledby", `${id}-label`);
    holder.replaceChildren(...opts.map((o, i) => {
      const input = el("input", {
        type: multiple ? "checkbox" : "radio", id: `${id}-${i}`, name: `${id}-c`, value: o.name,
        checked: node.value.split(" ").includes(o.name), disabled: readonly,
      });
      input.addEventListener("change", () => {
        const ticked = [...holder.querySelectorAll("input:checked")].map((x) => x.value);
        onInput(f, multiple ? ticked.join(" ") : input.value);
      });
      return el("div", { class: "wf-choice" }, input, el("label", { for: `${id}-${i}`, text: o.label }));
    }));
  };
}

function photo(f, id) {
  const { node, bind: b, el: box } = f;
  const input = el("input", { id, type: "file", accept: "image/*", capture: "environment" });
  const info = el("p", { class: "meta" });
  input.addEventListener("change", async () => {
    const file = input.files[0];
    if (!file) return;
    let blob;
    try {
      blob = await shrink(file, Number(b.maxPixels) || 1600);
    } catch {
      info.textContent = S.photoError; // a format this browser cannot decode
      return;
    }
    node.file = { name: `${node.name}-${Date.now()}.jpg`, type: "image/jpeg", blob };
    info.textContent = S.photoReady.replace("{size}", Math.ceil(blob.size / 1024));
    onInput(f, node.file.name);
  });
  box.append(input, info);
}

// a photo at most ``max`` pixels on its longer side, as JPEG (no EXIF kept)
export async function shrink(file, max) {
  const bitmap = await createImageBitmap(file, { imageOrientation: "from-image" });
  const scale = Math.min(1, max / Math.max(bitmap.width, bitmap.height));
  const canvas = document.createElement("canvas");
  canvas.width = Math.round(bitmap.width * scale);
  canvas.height = Math.round(bitmap.height * scale);
  canvas.getContext("2d").drawImage(bitmap, 0, 0, canvas.width, canvas.height);
  bitmap.close();
  return new Promise((resolve) => canvas.toBlob(resolve, "image/jpeg", 0.82));
}

// ------------------------------------------------------------ refreshing
function labelText(text, node) {
  // <output value="…"/> in a label arrives as {expression}
  return text.replace(/\{([^{}]+)\}/g, (whole, expr) => {
    try { return toStr(run(expr, node)); } catch { return whole; }
  });
}

function refresh() {
  calculate();

  for (const block of blocks) block.el.hidden = !relevant(block.node);
  for (const f of fields) {
    f.el.hidden = !relevant(f.node);
    const required = f.bind.required && toBool(run(f.bind.required, f.node));
    f.label.textContent = labelText(f.control.label || f.node.name, f.node);
    f.star.hidden = !required;
    f.label.toggleAttribute("aria-required", Boolean(required));
    f.refresh();
  }
}

function problem(f) {
  const { node, bind: b } = f;
  if (f.el.hidden || !relevant(node)) return "";
  const value = node.value;
  if (!value) return b.required && toBool(run(b.required, node)) ? b.requiredMsg || S.required : "";
  if (b.type === "int" && !/^-?\d+$/.test(value)) return S.integer;
  if (b.type === "decimal" && !Number.isFinite(Number(value))) return S.number;
  if (b.constraint && !toBool(run(b.constraint, node, true))) return b.constraintMsg || S.invalid;
  return "";
}

function check() {
  let first = null;
  for (const f of fields) {
    const text = problem(f);
    f.error.textContent = text;
    f.error.hidden = !text;
    f.el.classList.toggle("wf-invalid", Boolean(text));
    if (text && !first) first = f;
  }
  return first;
}

// ------------------------------------------------------------ submitting
const escapeXml = (s) => String(s).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);

function xml(node, top = false) {
  const attrs = top ? ` id="${escapeXml(F.form_id)}" version="${escapeXml(F.version)}"` : "";
  const keep = relevant(node);
  if (node.children.length) {
    return `<${node.name}${attrs}>${node.children.map((c) => xml(c)).join("")}</${node.name}>`;
  }
  const value = keep ? node.value : "";
  return value === "" ? `<${node.name}${attrs}/>` : `<${node.name}${attrs}>${escapeXml(value)}</${node.name}>`;
}

// One submission at a time: a second tap while the first is being saved
// does nothing (it would queue the same answers under a new instanceID).
let busy = false;
async function submit(event) {
  event.preventDefault();
  if (busy) return;
  busy = true;
  const button = document.getElementById("wf-submit");
  button.disabled = true;
  try {
    await submitOnce();
  } finally {
    busy = false;
    button.disabled = false;
  }
}

async function submitOnce() {
  refresh();
  const wrong = check();
  if (wrong) {
    say(S.fix, true);
    wrong.el.scrollIntoView({ block: "center" });
    const target = wrong.el.querySelector("input, select, textarea, .wf-geo");
    if (target) target.focus();
    return;
  }
  // who is signed in now (this page may be older than the session)
  const me = await queue.whoami();
  if (!me.user) {
    say(S.noSession, true);
    return;
  }
  const shown = draftId;
  user = me.user;
  draftId = draftOf(user);
  const instanceId = `uuid:${uuid()}`;
  const now = localDateTime(new Date());
  for (const node of all(doc)) {
    const b = bindOf(node);
    if (b.preload === "property" && b.preloadParams === "username") node.value = user;
    if (b.preload === "timestamp" && b.preloadParams === "end") node.value = now;
    if (b.preload === "uid" || (node.name === "instanceID" && node.parent.name === "meta")) node.value = instanceId;
  }
  calculate();
  const files = all(doc).filter((n) => n.file && relevant(n) && n.value === n.file.name).map((n) => n.file);
  clearTimeout(draftTimer);
  if (shown) await queue.dropDraft(shown).catch(() => {});
  document.getElementById("wf-draft").hidden = true;
  await queue.enqueue({
    id: instanceId, form: F.form_id, user, xml: xml(doc.children[0], true),
    files, created: now,
  });
  fresh();
  render();
  window.scrollTo(0, 0);
  say(S.queued);
}

function say(text, bad = false) {
  statusBox.textContent = text;
  statusBox.hidden = !text;
  statusBox.classList.toggle("error", bad);
}

({ user } = await queue.whoami());
draftId = draftOf(user);
fresh();
render();
const formBox = document.getElementById("webform");
formBox.addEventListener("submit", submit);
formBox.addEventListener("change", () => { if (staleCounts()) render(); });
await resume();
formBox.dataset.ready = "1";
queue.start(config);
