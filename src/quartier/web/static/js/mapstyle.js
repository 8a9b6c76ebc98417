// Shared map styling for the explorer (map.js) and the dataset preview
// (preview.js). Every dataset is a vector-tile source named after its slug
// (the tiles are authorised and masked on the server). Without an external
// base map, the base map is drawn from the city's own layers (admin units,
// water, buildings, roads) in muted colours; datasets shown on top use their
// own colour. No text labels: they would need a glyph server.

const TILE_PATH = "/ogc/collections/{slug}/tiles/WebMercatorQuad/{z}/{x}/{y}";

export const BASE = {
  background: "#e6e2da",
  land: "#f6f3ec",
  adminLine: "#8f7fb8",
  water: "#a9d1e3",
  building: "#d8cdc1",
  buildingLine: "#c0b2a3",
  roadCasing: "#bdb3a6",
  road: "#ffffff",
};

// how strongly each geometry kind is drawn at 100 % opacity
const FILL_OPACITY = 0.45;
const ADMIN_FILL_OPACITY = 0.06;

export function tileSource(layer) {
  const source = {
    type: "vector",
    tiles: [location.origin + TILE_PATH.replace("{slug}", encodeURIComponent(layer.slug))],
    minzoom: 0,
    maxzoom: 16,
  };
  if (layer.bbox) source.bounds = padded(layer.bbox);
  if (layer.attribution) source.attribution = escapeHtml(layer.attribution);
  return source;
}

function padded(b) {
  const d = 1e-4;
  return [b[0] - d, b[1] - d, b[2] + d, b[3] + d];
}

export function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (c) => ({
    "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;",
  })[c]);
}

const width = (low, high, factor = 1) => [
  "interpolate", ["exponential", 1.6], ["zoom"],
  12, factor === 1 ? low : ["*", factor, low], 18, factor === 1 ? high : ["*", factor, high],
];

// The base map: a background, an optional raster, and the city's own layers.
export function baseStyle(config, layers) {
  const style = { version: 8, sources: {}, layers: [] };
  style.layers.push({ id: "base-background", type: "background", paint: { "background-color": BASE.background } });
  for (const layer of layers) style.sources[layer.slug] = tileSource(layer);
  if (config.basemap && config.basemap.url) {
    style.sources["base-raster"] = {
      type: "raster", tiles: [config.basemap.url], tileSize: 256,
      attribution: escapeHtml(config.basemap.attribution || ""),
    };
    style.layers.push({ id: "base-raster", type: "raster", source: "base-raster" });
    const admin = layers.find((l) => l.base === "admin");
    if (admin) style.layers.push(adminOutline(admin));
    return style;
  }
  const byRole = Object.fromEntries(layers.filter((l) => l.base).map((l) => [l.base, l]));
  const meta = (l) => ({ dataset: l.slug, base: true });
  if (byRole.admin) {
    style.layers.push({
      id: "base-admin-fill", type: "fill", source: byRole.admin.slug, "source-layer": byRole.admin.slug,
      metadata: meta(byRole.admin), paint: { "fill-color": BASE.land },
    });
  } else {
    style.layers[0].paint["background-color"] = BASE.land;
  }
  if (byRole.water) {
    const w = byRole.water;
    style.layers.push(
      { id: "base-water-fill", type: "fill", source: w.slug, "source-layer": w.slug, metadata: meta(w),
        filter: isPolygon, paint: { "fill-color": BASE.water } },
      { id: "base-water-line", type: "line", source: w.slug, "source-layer": w.slug, metadata: meta(w),
        filter: isLine, paint: { "line-color": BASE.water, "line-width": width(1.5, 6) } },
    );
  }
  if (byRole.buildings) {
    const b = byRole.buildings;
    style.layers.push({
      id: "base-buildings", type: "fill", source: b.slug, "source-layer": b.slug, metadata: meta(b),
      minzoom: 12, paint: { "fill-color": BASE.building, "fill-outline-color": BASE.buildingLine },
    });
  }
  if (byRole.roads) {
    const r = byRole.roads;
    const minor = ["match", ["coalesce", ["get", "highway"], ""], ["path", "footway", "track", "steps"], 0.4, 1];
    style.layers.push(
      { id: "base-roads-casing", type: "line", source: r.slug, "source-layer": r.slug, metadata: meta(r),
        layout: { "line-cap": "round", "line-join": "round" },
        paint: { "line-color": BASE.roadCasing, "line-width": width(2, 14, minor) } },
      { id: "base-roads", type: "line", source: r.slug, "source-layer": r.slug, metadata: meta(r),
        layout: { "line-cap": "round", "line-join": "round" },
        paint: { "line-color": BASE.road, "line-width": width(1, 11, minor) } },
    );
  }
  if (byRole.admin) style.layers.push(adminOutline(byRole.admin));
  return style;
}

function adminOutline(admin) {
  return {
    id: "base-admin-line", type: "line", source: admin.slug, "source-layer": admin.slug,
    metadata: { dataset: admin.slug, base: true },
    paint: { "line-color": BASE.adminLine, "line-width": width(1, 2.5), "line-dasharray": [3, 2] },
  };
}

const isPolygon = ["in", ["geometry-type"], ["literal", ["Polygon", "MultiPolygon"]]];
const isLine = ["in", ["geometry-type"], ["literal", ["LineString", "MultiLineString"]]];
const isPoint = ["in", ["geometry-type"], ["literal", ["Point", "MultiPoint"]]];

// A layer's colour: one colour, or one per class of a field (analysis
// results, e.g. buildings by period), the layer's own colour for the rest.
function colourOf(layer) {
  const c = layer.classes;
  if (!c || !c.values.length) return layer.colour;
  const pairs = c.values.flatMap((value, i) => [value, c.colours[i]]);
  return ["match", ["to-string", ["get", c.field]], ...pairs, layer.colour];
}

// The layers drawing one dataset in its colour; opacity in 0..1.
export function overlayLayers(layer, opacity = 1, visible = true) {
  const common = {
    source: layer.slug, "source-layer": layer.slug,
    metadata: { dataset: layer.slug },
    layout: { visibility: visible ? "visible" : "none" },
  };
  const fillOpacity = layer.base === "admin" ? ADMIN_FILL_OPACITY : FILL_OPACITY;
  const out = [];
  const colour = colourOf(layer);
  const kind = layer.kind;
  if (kind === "fill" || kind === "mixed") {
    out.push({ ...common, id: `${layer.slug}`, type: "fill", filter: isPolygon,
      paint: { "fill-color": colour, "fill-opacity": fillOpacity * opacity } });
    out.push({ ...common, id: `${layer.slug}-outline`, type: "line", filter: isPolygon,
      layout: { ...common.layout, "line-join": "round" },
      paint: { "line-color": colour, "line-width": width(0.8, 2.5), "line-opacity": opacity } });
  }
  if (kind === "line" || kind === "mixed") {
    out.push({ ...common, id: kind === "line" ? layer.slug : `${layer.slug}-line`, type: "line", filter: isLine,
      layout: { ...common.layout, "line-cap": "round", "line-join": "round" },
      paint: { "line-color": colour, "line-width": width(1.5, 7), "line-opacity": opacity } });
  }
  if (kind === "circle" || kind === "mixed") {
    out.push({ ...common, id: kind === "circle" ? layer.slug : `${layer.slug}-point`, type: "circle", filter: isPoint,
      paint: {
        "circle-color": colour,
        "circle-radius": ["interpolate", ["linear"], ["zoom"], 10, 2.5, 14, 5, 18, 9],
        "circle-stroke-color": "#ffffff",
        "circle-stroke-width": ["interpolate", ["linear"], ["zoom"], 10, 0.5, 14, 1.5],
        "circle-opacity": opacity,
        "circle-stroke-opacity": opacity,
      } });
  }
  return out;
}

// Polygons first (the widest first), then lines, then points on top.
export function drawingOrder(layers) {
  const rank = { fill: 0, mixed: 1, line: 2, circle: 3 };
  return [...layers].sort((a, b) =>
    (rank[a.kind] - rank[b.kind]) || ((a.base === "admin" ? 0 : 1) - (b.base === "admin" ? 0 : 1)) ||
    (area(b.bbox) - area(a.bbox)) || a.slug.localeCompare(b.slug));
}

function area(b) {
  return b ? (b[2] - b[0]) * (b[3] - b[1]) : 0;
}

// Change one dataset's opacity (0..1) on a map.
export function setOpacity(map, layer, opacity) {
  for (const spec of overlayLayers(layer, opacity)) {
    for (const [name, value] of Object.entries(spec.paint)) {
      if (name.endsWith("opacity") && map.getLayer(spec.id)) map.setPaintProperty(spec.id, name, value);
    }
  }
}

export function setVisible(map, layer, visible) {
  for (const spec of overlayLayers(layer)) {
    if (map.getLayer(spec.id)) map.setLayoutProperty(spec.id, "visibility", visible ? "visible" : "none");
  }
}

export function layerIds(layer) {
  return overlayLayers(layer).map((spec) => spec.id);
}

// MapLibre's own control labels, translated on the server.
export function mapLocale(strings) {
  return {
    "Map.Title": strings.map,
    "NavigationControl.ZoomIn": strings.zoomIn,
    "NavigationControl.ZoomOut": strings.zoomOut,
    "NavigationControl.ResetBearing": strings.north,
    "Popup.Close": strings.close,
    "AttributionControl.ToggleAttribution": strings.attribution,
  };
}

export function reducedMotion() {
  return window.matchMedia("(prefers-reduced-motion: reduce)").matches;
}

// Fold the attribution into its (i) button: on small maps it hides the data.
export function foldAttribution(map) {
  const attribution = map.getContainer().querySelector(".maplibregl-ctrl-attrib");
  if (attribution) {
    attribution.classList.remove("maplibregl-compact-show");
    attribution.removeAttribute("open");
  }
}
