// The web forms' outbox: completed submissions wait in IndexedDB (keyed by
// their instanceID, with their photos as blobs) and are sent when the
// network is there — on page load, on the "online" event, on "Envoyer
// maintenant", after each new submission and every 30 s while some wait.
// A retry posts the same instanceID, which the server receives only once.
// Works without a service worker too (the page just has to stay open or be
// opened again online).

const DB_NAME = "quartier-webforms";
const STORE = "queue";
const DRAFTS = "drafts";
let config = null;
let running = null;

function db() {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(DB_NAME, 2);
    req.onupgradeneeded = () => {
      const names = req.result.objectStoreNames;
      if (!names.contains(STORE)) req.result.createObjectStore(STORE, { keyPath: "id" });
      if (!names.contains(DRAFTS)) req.result.createObjectStore(DRAFTS, { keyPath: "id" });
    };
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

async function tx(mode, work, store = STORE) {
  const conn = await db();
  return new Promise((resolve, reject) => {
    const t = conn.transaction(store, mode);
    const result = work(t.objectStore(store));
    t.oncomplete = () => { conn.close(); resolve(result && "result" in result ? result.result : undefined); };
    t.onerror = () => { conn.close(); reject(t.error); };
  });
}

export const put = (item) => tx("readwrite", (s) => s.put(item));
export const remove = (id) => tx("readwrite", (s) => s.delete(id));
export const all = () => tx("readonly", (s) => s.getAll());

// Drafts: one unfinished answer per user and form version, kept on the
// device (with its photos) until it is submitted or discarded.
export const saveDraft = (id, tree) => tx("readwrite", (s) => s.put({ id, tree }), DRAFTS);
export const dropDraft = (id) => tx("readwrite", (s) => s.delete(id), DRAFTS);
export const loadDraft = (id) => tx("readonly", (s) => s.get(id), DRAFTS);

// item: { id: "uuid:…", form, user, xml, files: [{ name, type, blob }], created, error }
export async function enqueue(item) {
  await put({ ...item, error: "" });
  await show();
  sync();
}

async function session() {
  const r = await fetch("/formulaires/session", { credentials: "same-origin", cache: "no-store" });
  if (!r.ok) throw new Error(`HTTP ${r.status}`);
  return r.json();
}

async function send(item, csrf) {
  const body = new FormData();
  body.append("xml_submission_file", new Blob([item.xml], { type: "text/xml" }), "submission.xml");
  for (const f of item.files || []) body.append(f.name, new Blob([f.blob], { type: f.type }), f.name);
  const url = config.submit.replace("{id}", encodeURIComponent(item.form));
  return fetch(url, {
    method: "POST", body, credentials: "same-origin", headers: { "X-CSRF-Token": csrf },
  });
}

async function describe(response) {
  try {
    const body = await response.json();
    return `${response.status} ${body.description || ""}`.trim();
  } catch {
    return `HTTP ${response.status}`;
  }
}

// Send what waits; resolves when done. One run at a time: a call during a
// run asks for one more run after it (an item may have been added since).
let again = false;
export function sync() {
  if (running) {
    again = true;
    return running;
  }
  running = (async () => {
    do {
      again = false;
      await run();
    } while (again);
  })().finally(() => { running = null; });
  return running;
}

async function run() {
  const S = config.strings;
  const items = await all();
  if (!items.length) return show();
  if (navigator.onLine === false) return show(S.offline);
  let who;
  try {
    who = await session();
  } catch {
    return show(S.offline);
  }
  if (!who.user) return show(S.signin, true);
  let sent = 0;
  for (const item of items) {
    if (item.user && item.user !== who.user) continue; // someone else's, on a shared phone
    let response;
    try {
      response = await send(item, who.csrf);
    } catch {
      return show(S.offline);
    }
    if (response.status === 200 || response.status === 201) {
      await remove(item.id);
      sent += 1;
    } else if (response.status === 401) {
      return show(S.signin, true);
    } else {
      item.error = await describe(response);
      await put(item);
    }
  }
  return show(sent ? S.sent : "");
}

export async function show(note = "", important = false) {
  const S = config.strings;
  const items = await all();
  const n = items.length;
  const count = document.getElementById("wf-queue-count");
  if (count) {
    count.textContent = n === 0 ? S.pending0 : n === 1 ? S.pending1 : S.pendingN.replace("{n}", n);
    count.dataset.count = n;
  }
  const last = items.map((i) => i.error).filter(Boolean).pop();
  const error = document.getElementById("wf-queue-error");
  if (error) {
    const text = important ? note : last ? S.error.replace("{error}", last) : "";
    error.textContent = text;
    error.hidden = !text;
  }
  const net = document.getElementById("wf-net");
  if (net) net.textContent = !important && note ? note : "";
  return n;
}

export function start(cfg) {
  config = cfg;
  window.addEventListener("online", () => sync());
  window.addEventListener("offline", () => show(cfg.strings.offline));
  const button = document.getElementById("wf-send");
  if (button) button.addEventListener("click", () => sync());
  setInterval(async () => { if ((await all()).length) sync(); }, 30000);
  // for people and tests who want to look inside the outbox
  window.quartierOutbox = { all, put, remove, sync, show };
  registerWorker(cfg);
  return sync();
}

function registerWorker(cfg) {
  if (!("serviceWorker" in navigator)) {
    const net = document.getElementById("wf-net");
    if (net) net.textContent = cfg.strings.noWorker;
    return;
  }
  navigator.serviceWorker.register("/formulaires/sw.js", { scope: "/formulaires" }).catch(() => {});
}
