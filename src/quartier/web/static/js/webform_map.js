// Geo questions of the web forms: geopoint (tap the map or use the device's
// GPS), geotrace and geoshape (tap to add points). The map uses the portal's
// own base map (the city's layers as vector tiles, no external tiles); the
// map library is loaded only when a form has a geo question.
// Values are ODK's: "lat lon alt acc", points separated by ";" (a shape's
// first point repeated at the end).
const suffix = new URL(import.meta.url).search;
let library = null;

function load(cfg) {
  if (window.maplibregl) return Promise.resolve();
  if (!library) {
    library = new Promise((resolve, reject) => {
      const css = document.createElement("link");
      css.rel = "stylesheet";
      css.href = cfg.css;
      document.head.append(css);
      const script = document.createElement("script");
      script.src = cfg.script;
      script.onload = resolve;
      script.onerror = reject;
      document.head.append(script);
    });
  }
  return library;
}

export function parsePoints(value) {
  return String(value || "").split(";").map((p) => p.trim().split(/\s+/).map(Number))
    .filter((p) => p.length >= 2 && p.every(Number.isFinite));
}

const fmt = (n) => String(Math.round(n * 1e7) / 1e7);

function geojson(kind, points) {
  const coords = points.map((p) => [p[1], p[0]]);
  const features = coords.map((c) => ({ type: "Feature", properties: {}, geometry: { type: "Point", coordinates: c } }));
  if (kind !== "geopoint" && coords.length > 1) {
    const line = kind === "geoshape" ? [...coords, coords[0]] : coords;
    features.push({ type: "Feature", properties: {}, geometry: { type: "LineString", coordinates: line } });
  }
  return { type: "FeatureCollection", features };
}

// Build the widget in ``box``; ``get()``/``set(value)`` read and write the
// answer.
export function geoWidget(box, kind, cfg, S, get, set) {
  const mapBox = document.createElement("div");
  mapBox.className = "wf-map";
  const help = document.createElement("p");
  help.className = "meta";
  help.textContent = kind === "geopoint" ? S.tapMap : S.drawMap;
  const shown = document.createElement("output");
  shown.className = "wf-geo-value";
  const tools = document.createElement("div");
  tools.className = "wf-tools";
  const button = (text, onClick) => {
    const b = document.createElement("button");
    b.type = "button";
    b.className = "secondary";
    b.textContent = text;
    b.addEventListener("click", onClick);
    tools.append(b);
    return b;
  };
  let points = parsePoints(get());
  let redraw = () => {};
  const save = () => {
    let value = points.map((p) => p.map(fmt).join(" ")).join(";");
    if (kind === "geoshape" && points.length > 2) value += `;${points[0].map(fmt).join(" ")}`;
    set(value);
    shown.textContent = value;
    redraw();
  };
  if (kind === "geoshape" && points.length > 3) points = points.slice(0, -1);
  shown.textContent = get();
  if (kind === "geopoint" && navigator.geolocation) {
    button(S.gps, () => navigator.geolocation.getCurrentPosition(
      (pos) => {
        const c = pos.coords;
        points = [[c.latitude, c.longitude, c.altitude || 0, c.accuracy || 0]];
        save();
      },
      () => { help.textContent = S.gpsError; },
      { enableHighAccuracy: true, timeout: 20000 },
    ));
  }
  if (kind !== "geopoint") button(S.undo, () => { points.pop(); save(); });
  button(S.clear, () => { points = []; save(); });
  box.append(mapBox, help, shown, tools);
  if (!cfg) return;
  load(cfg).then(async () => {
    const { baseStyle, mapLocale } = await import(`./mapstyle.js${suffix}`);
    maplibregl.setWorkerUrl(cfg.worker);
    const b = cfg.bbox;
    const map = new maplibregl.Map({
      container: mapBox,
      style: baseStyle(cfg, cfg.layers),
      bounds: [[b[0], b[1]], [b[2], b[3]]],
      fitBoundsOptions: { padding: 16 },
      maxZoom: 20,
      dragRotate: false,
      touchPitch: false,
      attributionControl: { compact: true },
      locale: mapLocale({ ...cfg.strings, ...S }),
    });
    map.addControl(new maplibregl.NavigationControl({ showCompass: false }), "top-right");
    // offline, base-map tiles fail: expected, and the answer layer still works
    map.on("error", () => {});
    map.on("load", () => {
      map.addSource("answer", { type: "geojson", data: geojson(kind, points) });
      map.addLayer({ id: "answer-line", type: "line", source: "answer", paint: { "line-color": "#b3261e", "line-width": 3 } });
      map.addLayer({
        id: "answer-points", type: "circle", source: "answer", filter: ["==", ["geometry-type"], "Point"],
        paint: { "circle-radius": 7, "circle-color": "#b3261e", "circle-stroke-color": "#fff", "circle-stroke-width": 2 },
      });
      redraw = () => map.getSource("answer").setData(geojson(kind, points));
      mapBox.dataset.ready = "1";
    });
    map.on("click", (e) => {
      const p = [e.lngLat.lat, e.lngLat.lng, 0, 0];
      points = kind === "geopoint" ? [p] : [...points, p];
      save();
    });
  }).catch((err) => {
    // first visit offline, without the service worker: no map, GPS still works
    console.warn(`web form map: ${err.message}`);
    mapBox.hidden = true;
  });
}
