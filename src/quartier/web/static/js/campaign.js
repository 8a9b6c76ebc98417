// A campaign's page: its grid of cells over the city's own base map, coloured
// by state; clicking a cell (or giving its number) shows its state, history
// and the actions the visitor may take, which go to /api/campaigns/… with the
// session's CSRF token. The server decides every right; the buttons shown are
// only those it would accept. Strings come translated in #console-strings.
const v = new URL(import.meta.url).search;
const { baseStyle, escapeHtml, foldAttribution, mapLocale } = await import(`./mapstyle.js${v}`);
const { call, fmt, show, text } = await import(`./console_api.js${v}`);

const COLOURS = {
  ready: "#f2efe8", locked: "#f0a202", mapped: "#2b83ba", validated: "#1a9641", invalidated: "#d7191c",
};
const el = document.getElementById("campaign-map");
const panel = document.getElementById("cell-panel");
const errorBox = document.getElementById("cell-error");
const slug = el.dataset.slug;
const user = el.dataset.user;
const canMap = el.dataset.canMap === "true";
const canValidate = el.dataset.canValidate === "true";
const api = `/api/campaigns/${encodeURIComponent(slug)}`;
let map = null;
let current = null;

function when(iso) {
  const lang = document.documentElement.lang || "fr";
  return new Date(iso).toLocaleString(lang, { dateStyle: "short", timeStyle: "short" });
}

// what the visitor may do with the cell, as the server's rules say
function actions(p) {
  if (!user || !canMap) return [];
  if (p.state === "locked") {
    if (!p.mine) return [];
    return p.lock_kind === "mapping" ? ["mapped", "unlock"] : ["validate", "invalidate", "unlock"];
  }
  if (p.state === "ready" || p.state === "invalidated") return ["lock"];
  if (p.state === "mapped" && canValidate && !p.mapped_by_me) return ["lockValidate"];
  return [];
}

function render(cell) {
  const p = cell.properties;
  const lines = [`<h3>${escapeHtml(fmt(text.cell, { n: p.cell }))}</h3>`,
    `<p data-cell-state="${escapeHtml(p.state)}">${escapeHtml(fmt(text.state, { state: text.states[p.state] }))}</p>`];
  if (p.state === "locked") {
    const until = when(p.locked_until);
    lines.push(`<p class="meta">${escapeHtml(p.locked_by
      ? fmt(text.lockedBy, { user: p.locked_by, until }) : fmt(text.lockedUntil, { until }))}</p>`);
  }
  if (p.mapped_by) lines.push(`<p class="meta">${escapeHtml(fmt(text.mappedBy, { user: p.mapped_by }))}</p>`);
  const allowed = actions(p);
  if (allowed.length) {
    lines.push(`<label for="cell-comment">${escapeHtml(text.comment)}</label>`,
      '<textarea id="cell-comment" rows="2" maxlength="2000"></textarea>', '<div class="cell-actions">');
    for (const a of allowed) {
      const kind = a === "unlock" || a === "invalidate" ? ' class="secondary"' : "";
      lines.push(`<button type="button"${kind} data-action="${a === "lockValidate" ? "lock" : a}">${escapeHtml(text[a])}</button>`);
    }
    lines.push("</div>");
  } else if (!user) {
    lines.push(`<p class="meta">${escapeHtml(text.signIn)}</p>`);
  }
  lines.push(`<h4>${escapeHtml(text.history)}</h4>`);
  if (cell.history.length) {
    lines.push('<ol class="cell-history">');
    for (const e of cell.history) {
      const who = e.actor || text.someone;
      const note = e.comment ? ` — « ${escapeHtml(e.comment)} »` : "";
      lines.push(`<li>${escapeHtml(when(e.at))} · ${escapeHtml(who)} · ${escapeHtml(text.actions[e.action])}${note}</li>`);
    }
    lines.push("</ol>");
  } else {
    lines.push(`<p class="meta">${escapeHtml(text.noHistory)}</p>`);
  }
  panel.innerHTML = lines.join("");
  current = p.cell;
  if (map && map.getLayer("cells-selected")) {
    map.setFilter("cells-selected", ["==", ["get", "cell"], current]);
  }
}

async function open(n) {
  show(errorBox, "");
  try {
    render(await call("GET", `${api}/tasks/${n}`));
  } catch (error) {
    show(errorBox, error.message);
  }
}

async function refresh() {
  const [tasks, campaign] = await Promise.all([call("GET", `${api}/tasks`), call("GET", api)]);
  if (map && map.getSource("cells")) map.getSource("cells").setData(tasks);
  const p = campaign.progress;
  document.getElementById("progress-text").textContent = fmt(text.progress,
    { n: p.cells, mapped: p.mapped_pct, validated: p.validated_pct });
  document.getElementById("progress-mapped").value = p.mapped_pct;
  document.getElementById("progress-validated").value = p.validated_pct;
  for (const li of document.querySelectorAll("#by-state li")) {
    li.querySelector("strong").textContent = p.by_state[li.dataset.state];
  }
}

panel.addEventListener("click", async (event) => {
  const button = event.target.closest("button[data-action]");
  if (!button || current === null) return;
  show(errorBox, "");
  const comment = (document.getElementById("cell-comment") || {}).value || "";
  for (const b of panel.querySelectorAll("button")) b.disabled = true;
  try {
    render(await call("POST", `${api}/tasks/${current}/${button.dataset.action}`, { comment }));
    await refresh();
  } catch (error) {
    show(errorBox, error.message);
    for (const b of panel.querySelectorAll("button")) b.disabled = false;
  }
});

document.getElementById("goto-cell").addEventListener("submit", (event) => {
  event.preventDefault();
  const n = Number.parseInt(document.getElementById("cell-number").value, 10);
  if (n > 0) open(n);
});

async function start() {
  const lang = document.documentElement.lang || "fr";
  const [config, tasks] = await Promise.all([
    fetch(`/carte/config?lang=${encodeURIComponent(lang)}`, { headers: { Accept: "application/json" } })
      .then((r) => (r.ok ? r.json() : null)),
    call("GET", `${api}/tasks`),
  ]);
  if (!config || !window.maplibregl) return;
  const style = baseStyle(config, config.layers.filter((l) => l.base));
  style.sources.cells = { type: "geojson", data: tasks };
  const colour = ["match", ["get", "state"], ...Object.entries(COLOURS).flat(), "#999999"];
  style.layers.push(
    { id: "cells-fill", type: "fill", source: "cells", paint: { "fill-color": colour, "fill-opacity": 0.55 } },
    { id: "cells-line", type: "line", source: "cells", paint: { "line-color": "#555555", "line-width": 0.6 } },
    {
      id: "cells-selected", type: "line", source: "cells", filter: ["==", ["get", "cell"], -1],
      paint: { "line-color": "#111111", "line-width": 3 },
    },
  );
  const box = el.dataset.bbox.split(",").map(Number);
  maplibregl.setWorkerUrl(config.worker);
  map = new maplibregl.Map({
    container: el,
    style,
    bounds: [[box[0], box[1]], [box[2], box[3]]],
    fitBoundsOptions: { padding: 16, maxZoom: 17 },
    attributionControl: { compact: true },
    locale: mapLocale(config.strings),
  });
  map.once("load", () => {
    foldAttribution(map);
    el.dataset.ready = "true";
  });
  map.on("click", "cells-fill", (event) => {
    const feature = event.features && event.features[0];
    if (feature) open(feature.properties.cell);
  });
  map.on("mouseenter", "cells-fill", () => { map.getCanvas().style.cursor = "pointer"; });
  map.on("mouseleave", "cells-fill", () => { map.getCanvas().style.cursor = ""; });
  window.quartierCampaign = map;
}

start().catch((error) => console.warn("campaign map:", error));
