// /signalements: the map of reports and the "Signaler" form. A tap on the
// map (or the GPS button) places the report; the form goes to
// POST /api/reports with a UUID made here, kept until the server answers
// (or the resident changes the report: then it is a new one).
const version = new URL(import.meta.url).search;
const { baseStyle, mapLocale } = await import(`./mapstyle.js${version}`);
const { Attempt, fmt, send, show } = await import(`./report_send.js${version}`);

const config = JSON.parse(document.getElementById("map-config").textContent);
const S = config.strings;
const form = document.getElementById("report-form");
const place = document.getElementById("report-place");
const errorBox = document.getElementById("report-error");
const okBox = document.getElementById("report-ok");
const COLOURS = { received: "#d95f02", in_progress: "#1f78b4", resolved: "#33a02c", rejected: "#777777" };

const style = baseStyle(config, config.layers);
const point = (r) => ({
  type: "Feature", properties: { id: r.id, status: r.status },
  geometry: { type: "Point", coordinates: [r.lon, r.lat] },
});
const shown = { type: "FeatureCollection", features: config.reports.map(point) };
style.sources.reports = { type: "geojson", data: shown };
style.layers.push({
  id: "reports", type: "circle", source: "reports",
  paint: {
    "circle-radius": 7, "circle-stroke-color": "#ffffff", "circle-stroke-width": 2,
    "circle-color": ["match", ["get", "status"], ...Object.entries(COLOURS).flat(), "#d95f02"],
  },
});
maplibregl.setWorkerUrl(config.worker);
const map = new maplibregl.Map({
  container: "report-map",
  style,
  locale: mapLocale(S),
  bounds: [[config.bbox[0], config.bbox[1]], [config.bbox[2], config.bbox[3]]],
  fitBoundsOptions: { padding: 16 },
  maxZoom: 20,
  dragRotate: false,
  touchPitch: false,
  attributionControl: { compact: true },
});
window.quartierReportMap = map;
map.addControl(new maplibregl.NavigationControl({ showCompass: false }), "top-right");
map.touchZoomRotate.disableRotation();

let marker = null;
function choose(lon, lat) {
  form.elements.lon.value = lon.toFixed(6);
  form.elements.lat.value = lat.toFixed(6);
  if (!marker) marker = new maplibregl.Marker({ color: "#c51b7d" });
  marker.setLngLat([lon, lat]).addTo(map);
  place.textContent = fmt(S.placed, { lat: lat.toFixed(5), lon: lon.toFixed(5) });
}

map.on("click", (e) => {
  const hit = map.queryRenderedFeatures(e.point, { layers: ["reports"] })[0];
  if (hit && !form.elements.lon.value) {
    window.location.href = `/signalements/${encodeURIComponent(hit.properties.id)}`;
    return;
  }
  choose(e.lngLat.lng, e.lngLat.lat);
});

document.getElementById("report-gps").addEventListener("click", () => {
  if (!navigator.geolocation) {
    show(errorBox, S.noGps);
    return;
  }
  navigator.geolocation.getCurrentPosition(
    (pos) => {
      choose(pos.coords.longitude, pos.coords.latitude);
      map.flyTo({ center: [pos.coords.longitude, pos.coords.latitude], zoom: 17 });
    },
    () => show(errorBox, S.gpsFailed),
    { enableHighAccuracy: true, timeout: 15000 },
  );
});

const attempt = new Attempt();

function showSent(report, message) {
  okBox.textContent = "";
  const link = document.createElement("a");
  link.href = `/signalements/${encodeURIComponent(report.id)}`;
  link.textContent = S.see;
  okBox.append(message, " ", link);
  okBox.hidden = false;
}

function finish(report, message) {
  attempt.done();
  form.reset();
  showSent(report, message);
  if (marker) marker.remove();
  if (!shown.features.some((f) => f.properties.id === report.id)) {
    shown.features.unshift(point(report));
    map.getSource("reports").setData(shown);
  }
}

async function submit(event) {
  event.preventDefault();
  show(errorBox, "");
  show(okBox, "");
  if (!form.elements.lon.value) {
    show(errorBox, S.needPlace);
    return;
  }
  const button = document.getElementById("report-send");
  if (button.disabled) return;
  button.disabled = true;
  show(okBox, S.sending);
  try {
    const fields = ["lon", "lat", "category", "description", "name", "contact"];
    const values = fields.map((name) => form.elements[name].value.trim());
    // the same id while nothing changed: a retry is never a duplicate
    const { id, photo } = await attempt.prepare(values, form.elements.photos.files[0]);
    const data = new FormData();
    data.append("id", id);
    fields.forEach((name, i) => data.append(name, values[i]));
    if (photo) data.append("photos", photo);
    try {
      finish(await send("/api/reports", data, S), S.sent);
    } catch (error) {
      if (error.status !== 409) throw error;
      // this id is already stored (an earlier send whose answer was lost)
      const stored = await fetch(`/api/reports/${encodeURIComponent(id)}`, {
        headers: { Accept: "application/json" }, credentials: "same-origin",
      });
      if (!stored.ok) throw error;
      finish(await stored.json(), S.already);
    }
  } catch (error) {
    show(okBox, "");
    show(errorBox, error.message);
  } finally {
    button.disabled = false;
  }
}

form.addEventListener("submit", submit);
