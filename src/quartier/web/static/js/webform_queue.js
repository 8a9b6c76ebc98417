// The web forms' outbox: completed submissions wait in IndexedDB (keyed by
// their instanceID, with their photos as blobs) and are sent when the
// network is there — on page load, on the "online" event, on "Envoyer
// maintenant", after each new submission and every 30 s while some wait.
// A retry posts the same instanceID, which the server receives only once.
// Works without a service worker too (the page just has to stay open or be
// opened again online).
//
// Who is signed in comes from the server (/formulaires/session), never from
// the page, which the service worker may have kept from someone else: the
// last answer is remembered on the device (the "meta" store, read by the
// service worker too) for use offline, and signing out wipes it (the
// server's Clear-Site-Data). Items are only sent, counted and shown for that
// person. A refusal that a resend cannot fix (4xx other than 401, 408, 429)
// parks the item with the server's message until the person deletes it or
// asks for a retry.

const DB_NAME = "quartier-webforms";
const STORE = "queue";
const DRAFTS = "drafts";
const META = "meta"; // { id: "session", user }: the last user the server confirmed
let config = null;
let running = null;
let current = null; // that user (null: nobody, or not known on this device)

function db() {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(DB_NAME, 3); // same version and stores in webform_sw.js
    req.onupgradeneeded = () => {
      const names = req.result.objectStoreNames;
      for (const name of [STORE, DRAFTS, META]) {
        if (!names.contains(name)) req.result.createObjectStore(name, { keyPath: "id" });
      }
    };
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

async function tx(mode, work, store = STORE) {
  const conn = await db();
  return new Promise((resolve, reject) => {
    let t;
    let result;
    try {
      // the browser may close the connection at any time (sign-out clears
      // the site's storage): that is a failed operation, never an uncaught one
      t = conn.transaction(store, mode);
      result = work(t.objectStore(store));
    } catch (error) {
      reject(error);
      return;
    }
    t.oncomplete = () => { conn.close(); resolve(result && "result" in result ? result.result : undefined); };
    t.onerror = () => { conn.close(); reject(t.error); };
    t.onabort = () => { conn.close(); reject(t.error || new Error("transaction aborted")); };
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

// item: { id: "uuid:…", form, user, xml, files: [{ name, type, blob }], created,
//         error, parked }
export async function enqueue(item) {
  if (!item.user) throw new Error("an outbox item needs its user");
  await put({ ...item, error: "", parked: false });
  await show();
  sync();
}

async function session() {
  const r = await fetch("/formulaires/session", { credentials: "same-origin", cache: "no-store" });
  if (!r.ok) throw new Error(`HTTP ${r.status}`);
  const who = await r.json();
  current = who.user || null;
  await tx("readwrite", (s) => s.put({ id: "session", user: current }), META);
  return who;
}

// Who is signed in: { user, checked } — asked to the server, or (offline)
// the last user it confirmed on this device; user null when nobody is known.
export async function whoami() {
  try {
    const who = await session();
    return { user: who.user || null, checked: true };
  } catch {
    return { user: await remembered(), checked: false };
  }
}

async function remembered() {
  const known = await tx("readonly", (s) => s.get("session"), META).catch(() => null);
  current = (known && known.user) || null;
  return current;
}

// what the page shows: the signed-in person's items; with nobody signed in,
// how many wait (for whoever signs in next: only their own will leave)
const mine = (items) => (current ? items.filter((i) => i.user === current) : items);

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
      try {
        await run();
      } catch (error) {
        // the outbox could not be read (storage cleared or closed): next time
        console.warn("outbox:", error);
      }
    } while (again);
  })().finally(() => { running = null; });
  return running;
}

async function run() {
  const S = config.strings;
  let who; // asked even with an empty outbox: the page shows this person's items
  try {
    if (navigator.onLine === false) throw new Error("offline");
    who = await session();
  } catch {
    await remembered();
    return show((await all()).length ? S.offline : "");
  }
  const items = await all();
  if (!items.length) return show();
  if (!who.user) return show(S.signin, true);
  let sent = 0;
  for (const item of items) {
    if (!item.user && !item.parked) { // whose? never sent under someone's session
      await put({ ...item, parked: true, error: S.noUser });
      continue;
    }
    if (item.parked || item.user !== who.user) continue; // someone else's, on a shared phone
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
      // a refusal a resend cannot fix: kept aside until the person decides
      item.parked = response.status >= 400 && response.status < 500
        && response.status !== 408 && response.status !== 429;
      await put(item);
    }
  }
  return show(sent ? S.sent : "");
}

export async function show(note = "", important = false) {
  const S = config.strings;
  const own = mine(await all());
  const items = own.filter((i) => !i.parked);
  showParked(current ? own.filter((i) => i.parked) : []);
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

// the current user's refused items, each with "Supprimer" / "Réessayer"
function showParked(items) {
  const S = config.strings;
  const list = document.getElementById("wf-parked");
  if (!list) return;
  list.hidden = !items.length;
  list.replaceChildren(...items.map((item) => {
    const li = document.createElement("li");
    li.dataset.id = item.id;
    const text = document.createElement("span");
    text.textContent = S.parked.replace("{created}", item.created || "").replace("{error}", item.error);
    const drop = document.createElement("button");
    drop.type = "button";
    drop.className = "secondary";
    drop.textContent = S.delete;
    drop.addEventListener("click", async () => {
      await remove(item.id);
      show();
    });
    const retry = document.createElement("button");
    retry.type = "button";
    retry.className = "secondary";
    retry.textContent = S.retry;
    retry.addEventListener("click", async () => {
      await put({ ...item, parked: false, error: "" });
      sync();
    });
    li.append(text, " ", drop, " ", retry);
    return li;
  }));
}

// Signing out wipes this device's copy of the outbox: ask first when some
// of the person's answers have not left yet.
function guardSignOut(S) {
  const form = document.querySelector('form[action="/deconnexion"]');
  if (!form) return;
  form.addEventListener("submit", (event) => {
    const waiting = Number(document.getElementById("wf-queue-count")?.dataset.count || 0)
      + document.querySelectorAll("#wf-parked li").length;
    if (waiting && !window.confirm(S.signOutPending)) event.preventDefault();
  });
}

export function start(cfg) {
  config = cfg;
  guardSignOut(cfg.strings);
  window.addEventListener("online", () => sync());
  window.addEventListener("offline", () => show(cfg.strings.offline));
  const button = document.getElementById("wf-send");
  if (button) button.addEventListener("click", () => sync());
  setInterval(async () => {
    const items = await all().catch(() => []);
    if (mine(items).some((i) => !i.parked)) sync();
  }, 30000);
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
