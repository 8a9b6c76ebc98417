// The preview map of a dataset page: the dataset in its colour over the
// city's own base map, framed on its extent. The layers and strings come from
// /carte/config (only what the visitor may see, in their language).
const { baseStyle, foldAttribution, mapLocale, overlayLayers } = await import(
  `./mapstyle.js${new URL(import.meta.url).search}`
);

async function preview(el) {
  const lang = document.documentElement.lang || "fr";
  const response = await fetch(`/carte/config?lang=${encodeURIComponent(lang)}`,
    { headers: { Accept: "application/json" } });
  if (!response.ok) return;
  const config = await response.json();
  const layer = config.layers.find((l) => l.slug === el.dataset.slug);
  if (!layer) return;
  // the base map draws the other city layers; this dataset on top
  const base = config.layers.filter((l) => l.base && l.slug !== layer.slug);
  const style = baseStyle(config, [...base, { ...layer, base: null }]);
  style.layers.push(...overlayLayers({ ...layer, base: null }, 1, true));
  const box = el.dataset.bbox ? el.dataset.bbox.split(",").map(Number) : layer.bbox || config.bbox;
  maplibregl.setWorkerUrl(config.worker);
  const map = new maplibregl.Map({
    container: el,
    style,
    bounds: [[box[0], box[1]], [box[2], box[3]]],
    fitBoundsOptions: { padding: 16, maxZoom: 17 },
    interactive: false,
    attributionControl: { compact: true },
    locale: mapLocale(config.strings),
  });
  map.once("load", () => foldAttribution(map));
  window.quartierPreview = map;
}

const el = document.getElementById("preview-map");
if (el && window.maplibregl) {
  preview(el).catch((error) => console.warn("preview map:", error));
}
