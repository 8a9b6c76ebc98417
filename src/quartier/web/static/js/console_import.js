// Console upload: send the file (upload progress), follow the background job
// (GET /api/jobs/{id}) and show the import report.
import { csrf, describe, fmt, show, strings, text, call } from "./console_api.js";

const say = strings("import-strings");
const form = document.getElementById("import-form");
const errorBox = form.querySelector("[data-error]");
const jobBox = document.getElementById("job");
const bar = document.getElementById("job-progress");
const statusLine = document.getElementById("job-status");
const report = document.getElementById("report");
const submitButton = form.querySelector('button[type="submit"]');
const numbers = new Intl.NumberFormat(document.documentElement.lang || "fr");
const POLL_MS = 400;

const preset = new URLSearchParams(window.location.search).get("jeu");
if (preset) document.getElementById("i-dataset").value = preset;

function slot(name) {
  return report.querySelector(`[data-slot="${name}"]`);
}

function progress(percent, message) {
  if (percent === null) bar.removeAttribute("value");
  else bar.value = percent;
  statusLine.textContent = message;
}

function formData() {
  const data = new FormData();
  for (const field of form.elements) {
    if (!field.name) continue;
    if (field.type === "file") {
      if (field.files.length) data.append(field.name, field.files[0]);
    } else if (field.value.trim() !== "") {
      data.append(field.name, field.value.trim());
    }
  }
  return data;
}

// XMLHttpRequest rather than fetch: it reports the upload's progress
function upload(data) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", form.action);
    xhr.setRequestHeader("X-CSRF-Token", csrf());
    xhr.setRequestHeader("Accept", "application/json");
    xhr.responseType = "json";
    xhr.upload.addEventListener("progress", (event) => {
      if (event.lengthComputable) {
        const percent = Math.round((event.loaded / event.total) * 100);
        progress(percent, fmt(say.uploading, { p: percent }));
      }
    });
    xhr.addEventListener("load", () => {
      if (xhr.status === 202) resolve(xhr.response);
      else reject(new Error(describe(xhr.status, xhr.response)));
    });
    xhr.addEventListener("error", () => reject(new Error(text.network)));
    xhr.send(data);
  });
}

async function follow(job) {
  for (;;) {
    if (job.status === "done") return job;
    if (job.status === "failed") throw new Error(fmt(say.failed, { error: job.error }));
    if (job.status === "running") {
      progress(null, fmt(say.running, { n: numbers.format(job.progress.rows || 0) }));
    } else {
      progress(null, say.queued);
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    job = await call("GET", `/api/jobs/${encodeURIComponent(job.id)}`);
  }
}

function fill(result) {
  const slug = result.dataset;
  const last = result.reports[result.reports.length - 1];
  const summary = result.unchanged
    ? fmt(say.unchanged, { slug })
    : fmt(say.summary, { v: result.version, slug });
  slot("summary").textContent = summary;
  report.querySelector(".report-figures").hidden = !last;
  slot("details").hidden = !last;
  slot("page").href = `/catalogue/${encodeURIComponent(slug)}`;
  slot("edit").href = `/console/jeux/${encodeURIComponent(slug)}`;
  const warnings = slot("warnings");
  const notes = slot("notes");
  notes.replaceChildren();
  warnings.hidden = true;
  if (!last) return;
  for (const key of ["read", "stored", "repaired", "refused", "without_geometry"]) {
    slot(key).textContent = numbers.format(last[key] || 0);
  }
  const link = slot("dataset");
  link.href = `/catalogue/${encodeURIComponent(slug)}`;
  link.textContent = slug;
  slot("version").textContent = String(result.version);
  slot("changes").textContent = fmt(say.changes, {
    a: numbers.format(last.added),
    r: numbers.format(last.removed),
    c: numbers.format(last.changed),
  });
  slot("source").textContent = last.source;
  slot("crs").textContent = last.crs || "—";
  slot("geometry_type").textContent = last.geometry_type;
  slot("fields").textContent =
    last.fields.map((f) => `${f.name} (${f.type})`).join(", ") || say.none;
  const lines = [
    ...last.notes,
    ...Object.entries(last.renamed || {}).map(([from, to]) => fmt(say.renamed, { from, to })),
  ];
  for (const line of lines) {
    const item = document.createElement("li");
    item.textContent = line;
    notes.append(item);
  }
  warnings.hidden = lines.length === 0;
}

async function start(event) {
  event.preventDefault();
  show(errorBox, "");
  report.hidden = true;
  if (!form.elements.file.files.length) {
    show(errorBox, say.choose);
    form.elements.file.focus();
    return;
  }
  if (!form.checkValidity()) {
    form.reportValidity();
    return;
  }
  submitButton.disabled = true;
  jobBox.hidden = false;
  progress(0, fmt(say.uploading, { p: 0 }));
  try {
    const job = await follow(await upload(formData()));
    progress(100, say.done);
    fill(job.result);
    report.hidden = false;
    document.getElementById("h-report").focus();
  } catch (error) {
    progress(0, error.message);
    show(errorBox, error.message);
  } finally {
    submitButton.disabled = false;
  }
}

form.addEventListener("submit", start);
document.getElementById("import-again").addEventListener("click", () => {
  form.reset();
  report.hidden = true;
  jobBox.hidden = true;
  form.elements.file.focus();
});
