// The web forms' service worker (served as /formulaires/sw.js, scope
// /formulaires): keeps the form pages, their scripts and styles, and the map
// library so a form opens without network. Pages: network first, the cached
// copy when offline. Versioned static files (?v=…): cache first. Nothing
// else is cached — no API answer (the outbox posts go straight through).
//
// A page is someone's (their name, their forms, their CSRF token): the server
// names its user in X-Quartier-User, and a kept page is served offline only
// to the last user the server confirmed on this device (the "meta" store of
// the outbox's IndexedDB, which the pages update from /formulaires/session
// and this worker from each page it fetches). Signing out wipes caches and
// storage (the server's Clear-Site-Data header).
const VERSION = "__VERSION__";
const CACHE = `quartier-webforms-${VERSION}`;
const CORE = [
  "/formulaires",
  `/static/portal.css?v=${VERSION}`,
  `/static/webform.css?v=${VERSION}`,
  `/static/js/webform.js?v=${VERSION}`,
  `/static/js/webform_list.js?v=${VERSION}`,
  `/static/js/webform_queue.js?v=${VERSION}`,
  `/static/js/webform_map.js?v=${VERSION}`,
  `/static/js/xpath.js?v=${VERSION}`,
  `/static/js/mapstyle.js?v=${VERSION}`,
  `/static/vendor/maplibre-gl.js?v=${VERSION}`,
  `/static/vendor/maplibre-gl.css?v=${VERSION}`,
  `/static/vendor/maplibre-gl-worker.js?v=${VERSION}`,
];

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches.open(CACHE).then((c) => Promise.all(CORE.map((u) => c.add(u).catch(() => {}))))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(keys
        .filter((k) => k.startsWith("quartier-webforms-") && k !== CACHE)
        .map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

// the outbox's database (same version and stores as webform_queue.js)
function meta(mode, work) {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open("quartier-webforms", 3);
    req.onupgradeneeded = () => {
      for (const name of ["queue", "drafts", "meta"]) {
        if (!req.result.objectStoreNames.contains(name)) req.result.createObjectStore(name, { keyPath: "id" });
      }
    };
    req.onsuccess = () => {
      const conn = req.result;
      const t = conn.transaction("meta", mode);
      const result = work(t.objectStore("meta"));
      t.oncomplete = () => { conn.close(); resolve(result.result); };
      t.onerror = () => { conn.close(); reject(t.error); };
    };
    req.onerror = () => reject(req.error);
  });
}

const remembered = () => meta("readonly", (s) => s.get("session"))
  .then((k) => (k && k.user) || null, () => null);
const remember = (user) => meta("readwrite", (s) => s.put({ id: "session", user })).catch(() => {});

function userOf(response) {
  const raw = response.headers.get("X-Quartier-User");
  try {
    return raw ? decodeURIComponent(raw) : null;
  } catch {
    return null;
  }
}

function isPage(url) {
  return url.pathname === "/formulaires"
    || (url.pathname.startsWith("/formulaires/") && !url.pathname.endsWith(".js")
      && url.pathname !== "/formulaires/session");
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (isPage(url)) {
    event.respondWith(networkFirst(request));
  } else if (url.pathname.startsWith("/static/") && url.searchParams.has("v")) {
    event.respondWith(cacheFirst(request));
  }
});

async function networkFirst(request) {
  const cache = await caches.open(CACHE);
  try {
    const response = await fetch(request);
    // a sign-in redirect or an error page is not the form: keep the old copy
    if (response.ok && !response.redirected && userOf(response)) {
      await remember(userOf(response));
      await cache.put(request, response.clone());
    } else if (response.type === "opaqueredirect" || response.redirected) {
      // a page's only redirect is to sign in (a navigation's is opaque here):
      // nobody is signed in any more
      await remember(null);
    }
    return response;
  } catch (err) {
    const cached = await cache.match(request) || await cache.match(request, { ignoreSearch: true });
    const user = cached && userOf(cached);
    if (user && user === await remembered()) return cached;
    throw err;
  }
}

async function cacheFirst(request) {
  const cache = await caches.open(CACHE);
  const cached = await cache.match(request);
  if (cached) return cached;
  const response = await fetch(request);
  if (response.ok) await cache.put(request, response.clone());
  return response;
}
