// The map explorer (/carte): layers, legend, opacity, pop-ups, place search,
// zoom to an admin unit and a shareable view in the URL hash
// (#map=zoom/lat/lon&layers=a,b). The configuration (layers the visitor may
// see, base map, translated strings) comes from the page as JSON.
// the shared module, at the same version as this one (cached for a year)
const {
  baseStyle, drawingOrder, foldAttribution, mapLocale, overlayLayers, reducedMotion,
  setOpacity, setVisible,
} = await import(`./mapstyle.js${new URL(import.meta.url).search}`);

const config = JSON.parse(document.getElementById("map-config").textContent);
const S = config.strings;
const layers = new Map(config.layers.map((l) => [l.slug, l]));

function readHash() {
  const params = new URLSearchParams(location.hash.slice(1));
  const view = (params.get("map") || "").split("/").map(Number);
  const raw = params.get("layers");
  return {
    view: view.length === 3 && view.every(Number.isFinite) ? view : null,
    layers: raw === null ? null : raw.split(",").filter((s) => layers.has(s)),
  };
}

function enabled() {
  return [...layers.keys()].filter((slug) => checkbox(slug) && checkbox(slug).checked);
}

function checkbox(slug) {
  return document.getElementById(`layer-${slug}`);
}

function slider(slug) {
  return document.getElementById(`opacity-${slug}`);
}

function union(boxes) {
  const found = boxes.filter(Boolean);
  if (!found.length) return config.bbox;
  return [0, 1, 2, 3].map((i) => (i < 2 ? Math.min : Math.max)(...found.map((b) => b[i])));
}

function bounds(b) {
  return [[b[0], b[1]], [b[2], b[3]]];
}

// --------------------------------------------------------------- the map
const initial = readHash();
if (initial.layers) {
  for (const slug of layers.keys()) checkbox(slug).checked = initial.layers.includes(slug);
}
const on = new Set(enabled());
const style = baseStyle(config, config.layers);
for (const layer of drawingOrder(config.layers)) {
  style.layers.push(...overlayLayers(layer, 1, on.has(layer.slug)));
}
const options = {
  container: "map",
  style,
  locale: mapLocale(S),
  attributionControl: { compact: true },
  maxZoom: 20,
  dragRotate: false,
  pitchWithRotate: false,
  touchPitch: false,
};
if (initial.view) {
  options.zoom = initial.view[0];
  options.center = [initial.view[2], initial.view[1]];
} else {
  const focus = initial.layers && initial.layers.length
    ? union(initial.layers.map((s) => layers.get(s).bbox)) : config.bbox;
  options.bounds = bounds(focus);
  options.fitBoundsOptions = { padding: 24, maxZoom: 17 };
}
maplibregl.setWorkerUrl(config.worker);
const map = new maplibregl.Map(options);
window.quartierMap = map;
map.addControl(new maplibregl.NavigationControl({ showCompass: false }), "top-right");
map.addControl(new maplibregl.ScaleControl({ unit: "metric" }), "top-left");
map.touchZoomRotate.disableRotation();
map.keyboard.disableRotation();

// ------------------------------------------------------- hash and links
function writeHash() {
  const c = map.getCenter();
  const view = `${map.getZoom().toFixed(2)}/${c.lat.toFixed(5)}/${c.lng.toFixed(5)}`;
  const hash = `#map=${view}&layers=${enabled().join(",")}`;
  if (hash !== location.hash) history.replaceState(null, "", hash);
  for (const link of document.querySelectorAll("a[data-lang]")) {
    link.href = link.href.split("#")[0] + hash;
  }
}

function applyHash() {
  const wanted = readHash();
  if (wanted.layers) {
    for (const slug of layers.keys()) toggle(slug, wanted.layers.includes(slug), false);
  }
  if (wanted.view) {
    map.jumpTo({ zoom: wanted.view[0], center: [wanted.view[2], wanted.view[1]] });
  } else if (wanted.layers && wanted.layers.length) {
    fit(union(wanted.layers.map((s) => layers.get(s).bbox)));
  }
  writeHash();
}

map.on("moveend", writeHash);
map.once("load", () => {
  writeHash();
  if (map.getContainer().clientWidth < 640) foldAttribution(map);
});
window.addEventListener("hashchange", applyHash);

// ------------------------------------------------------ layers and legend
function toggle(slug, visible, update = true) {
  const box = checkbox(slug);
  box.checked = visible;
  slider(slug).disabled = !visible;
  setVisible(map, layers.get(slug), visible);
  if (update) writeHash();
}

for (const slug of layers.keys()) {
  checkbox(slug).addEventListener("change", (e) => toggle(slug, e.target.checked));
  slider(slug).disabled = !checkbox(slug).checked;
  slider(slug).addEventListener("input", (e) => {
    setOpacity(map, layers.get(slug), Number(e.target.value) / 100);
  });
}

// ------------------------------------------------------------- pop-ups
let popup = null;

function visibleIds() {
  const ids = map.getStyle().layers
    .filter((l) => l.metadata && l.metadata.dataset && l.id !== "hl")
    .filter((l) => (l.layout || {}).visibility !== "none")
    .map((l) => l.id);
  return ids.filter((id) => map.getLayoutProperty(id, "visibility") !== "none");
}

function featureAt(point) {
  const box = [[point.x - 4, point.y - 4], [point.x + 4, point.y + 4]];
  const found = map.queryRenderedFeatures(box, { layers: visibleIds() });
  return found.find((f) => !f.layer.metadata.base) || found[0] || null;
}

function popupContent(feature, lngLat) {
  const slug = feature.layer.metadata.dataset;
  const root = document.createElement("div");
  root.className = "feature-popup";
  const title = document.createElement("h2");
  title.textContent = layers.get(slug).title;
  root.append(title);
  const entries = Object.entries(feature.properties || {});
  if (!entries.length) {
    const p = document.createElement("p");
    p.textContent = S.noProperty;
    root.append(p);
  } else {
    const table = document.createElement("table");
    const body = table.createTBody();
    for (const [key, value] of entries) {
      const row = body.insertRow();
      const th = document.createElement("th");
      th.scope = "row";
      th.textContent = key;
      row.append(th);
      row.insertCell().textContent = value === null || value === "" ? "—" : String(value);
    }
    root.append(table);
  }
  const link = document.createElement("a");
  link.href = `/catalogue/${encodeURIComponent(slug)}`;
  link.textContent = S.open;
  const p = document.createElement("p");
  p.append(link);
  root.append(p);
  root.append(contestLink(slug, feature, lngLat));
  return root;
}

// "c'est juste / c'est faux ici": names the feature and the version shown
function contestLink(slug, feature, lngLat) {
  const p = document.createElement("p");
  const version = layers.get(slug).version;
  if (feature.id === undefined || feature.id === null || !version) return p;
  const query = new URLSearchParams({
    jeu: slug, objet: String(feature.id), version: String(version),
    lon: lngLat.lng.toFixed(6), lat: lngLat.lat.toFixed(6),
  });
  const a = document.createElement("a");
  a.href = `/signalements/contester?${query}`;
  a.className = "contest";
  a.textContent = S.contest;
  p.append(a);
  return p;
}

function openPopup(point, lngLat) {
  const feature = featureAt(point);
  if (popup) popup.remove();
  popup = null;
  if (!feature) return;
  popup = new maplibregl.Popup({ maxWidth: "22rem", focusAfterOpen: true })
    .setLngLat(lngLat)
    .setDOMContent(popupContent(feature, lngLat))
    .addTo(map);
}

map.on("click", (e) => openPopup(e.point, e.lngLat));
map.on("mousemove", (e) => {
  const hit = map.queryRenderedFeatures(e.point, { layers: visibleIds() })
    .some((f) => !f.layer.metadata.base);
  map.getCanvas().style.cursor = hit ? "pointer" : "";
});
map.getCanvas().addEventListener("keydown", (e) => {
  if (e.key === "Enter") {
    const c = map.getContainer();
    const point = new maplibregl.Point(c.clientWidth / 2, c.clientHeight / 2);
    openPopup(point, map.unproject(point));
  } else if (e.key === "Escape" && popup) {
    popup.remove();
  }
});

// ---------------------------------------------- search and zoom to a unit
function fit(box) {
  const duration = reducedMotion() ? 0 : 600;
  if (box[0] === box[2] && box[1] === box[3]) {
    map.easeTo({ center: [box[0], box[1]], zoom: Math.max(map.getZoom(), 17), duration });
  } else {
    map.fitBounds(bounds(box), { padding: 32, maxZoom: 18, duration });
  }
}

function highlight(slug, id) {
  for (const old of ["hl", "hl-point"]) if (map.getLayer(old)) map.removeLayer(old);
  const layer = layers.get(slug);
  if (!layer) return;
  const common = { source: slug, "source-layer": slug, filter: ["==", ["id"], id], metadata: {} };
  map.addLayer({ ...common, id: "hl", type: "line",
    paint: { "line-color": "#1a1a1a", "line-width": 3, "line-opacity": 0.9 } });
  map.addLayer({ ...common, id: "hl-point", type: "circle",
    filter: ["all", common.filter, ["in", ["geometry-type"], ["literal", ["Point", "MultiPoint"]]]],
    paint: { "circle-radius": 11, "circle-color": "rgba(0,0,0,0)",
      "circle-stroke-color": "#1a1a1a", "circle-stroke-width": 3 } });
}

function goTo(place) {
  fit(place.bbox);
  highlight(place.dataset, place.id);
}

const form = document.getElementById("search");
const status = document.getElementById("search-status");
const results = document.getElementById("search-results");

form.addEventListener("submit", async (e) => {
  e.preventDefault();
  const q = form.elements.q.value.trim();
  if (!q) return;
  status.textContent = S.searching;
  results.replaceChildren();
  let found;
  try {
    const response = await fetch(`/carte/lieux?q=${encodeURIComponent(q)}`,
      { headers: { Accept: "application/json" } });
    if (!response.ok) throw new Error(String(response.status));
    found = (await response.json()).results;
  } catch {
    status.textContent = S.failed;
    return;
  }
  status.textContent = found.length ? S.found.replace("{n}", found.length) : S.none;
  for (const place of found) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "place";
    const meta = document.createElement("span");
    meta.className = "meta";
    meta.textContent = place.dataset_title;
    button.append(place.label, " ", meta);
    button.addEventListener("click", () => goTo(place));
    const item = document.createElement("li");
    item.append(button);
    results.append(item);
  }
  if (found.length) goTo(found[0]);
});

const goto = document.getElementById("goto");
if (goto) {
  const admin = config.layers.find((l) => l.base === "admin");
  goto.addEventListener("submit", (e) => {
    e.preventDefault();
    const option = goto.elements.unit.selectedOptions[0];
    if (!option) return;
    fit(option.dataset.bbox.split(",").map(Number));
    if (admin) highlight(admin.slug, Number(option.value));
  });
}
