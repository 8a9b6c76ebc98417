// Staff console: forms and buttons that write through the platform API.
//
// <form data-method="POST" data-url="/api/…">: the form's fields as JSON;
//   fields marked data-in-url fill {name} in the URL instead; checkboxes
//   with data-list gather into an array, others are booleans; number
//   inputs are integers; empty fields are left out unless data-empty="null"
//   (sent as null); data-changed-only sends only what the user changed.
// <button data-method="DELETE" data-url="…" data-confirm="…">: one call.
// data-done="reload" reloads the page and shows data-ok there;
// data-done="token" shows the new token's secret once.
import { call, show, flash, takeFlash, text } from "./console_api.js";

const status = document.getElementById("console-status");
const pageError = document.getElementById("console-error");

const pending = takeFlash();
if (pending) show(status, pending);

function changed(field) {
  if (field.type === "checkbox" || field.type === "radio") {
    return field.checked !== field.defaultChecked;
  }
  if (field.tagName === "SELECT") {
    return [...field.options].some((o) => o.selected !== o.defaultSelected);
  }
  return field.value !== field.defaultValue;
}

function serialise(form) {
  const body = {};
  const inUrl = {};
  const onlyChanged = form.hasAttribute("data-changed-only");
  const lists = new Set();
  for (const field of form.elements) {
    if (!field.name || field.disabled || field.type === "file") continue;
    if ("inUrl" in field.dataset) {
      inUrl[field.name] = field.value.trim();
      continue;
    }
    if ("list" in field.dataset) {
      if (!lists.has(field.name)) {
        const boxes = form.querySelectorAll(`input[name="${field.name}"]`);
        if (!onlyChanged || [...boxes].some(changed)) {
          body[field.name] = [...boxes].filter((b) => b.checked).map((b) => b.value);
        }
        lists.add(field.name);
      }
      continue;
    }
    if (onlyChanged && !changed(field)) continue;
    if (field.type === "radio") {
      if (field.checked) body[field.name] = field.value;
    } else if (field.type === "checkbox") {
      body[field.name] = field.checked;
    } else if (field.type === "number") {
      if (field.value !== "") body[field.name] = Number.parseInt(field.value, 10);
    } else if (field.value.trim() === "") {
      if (field.dataset.empty === "null") body[field.name] = null;
      else if (onlyChanged) body[field.name] = "";
    } else {
      body[field.name] = field.type === "password" ? field.value : field.value.trim();
    }
  }
  const url = form.dataset.url.replace(/\{(\w+)\}/g, (_, key) =>
    encodeURIComponent(inUrl[key] ?? ""),
  );
  return { url, body };
}

async function after(source, result, form) {
  const done = source.dataset.done;
  if (done === "reload") {
    flash(source.dataset.ok || text.saved);
    window.location.reload();
  } else if (done === "token") {
    showToken(result);
    if (form) form.reset();
    await refreshTable("tokens");
  } else {
    show(status, source.dataset.ok || text.saved);
  }
}

function showToken(result) {
  const box = document.getElementById("new-token");
  const field = document.getElementById("token-secret");
  const collect = Boolean(result.collect_url);
  field.value = collect ? result.collect_url : result.secret;
  for (const line of box.querySelectorAll("[data-kind]")) {
    line.hidden = (line.getAttribute("data-kind") === "collect") !== collect;
  }
  box.hidden = false;
  field.focus();
  field.select();
}

// Re-read one table of this page from the server (its markup lives in the template)
async function refreshTable(id) {
  const response = await fetch(window.location.href, { credentials: "same-origin" });
  if (!response.ok) return;
  const fresh = new DOMParser().parseFromString(await response.text(), "text/html");
  const table = document.getElementById(id);
  const replacement = fresh.getElementById(id);
  if (table && replacement) table.replaceWith(document.importNode(replacement, true));
}

async function submit(form, event) {
  event.preventDefault();
  const errorBox = form.querySelector("[data-error]") || pageError;
  show(errorBox, "");
  show(status, "");
  if (!form.checkValidity()) {
    form.reportValidity();
    return;
  }
  const { url, body } = serialise(form);
  if (form.hasAttribute("data-changed-only") && Object.keys(body).length === 0) {
    show(status, text.nothing);
    return;
  }
  const button = form.querySelector('button[type="submit"]');
  button.disabled = true;
  try {
    const result = await call(form.dataset.method, url, body);
    await after(form, result, form);
  } catch (error) {
    show(errorBox, error.message);
  } finally {
    button.disabled = false;
  }
}

async function press(button) {
  if (button.dataset.confirm && !window.confirm(button.dataset.confirm)) return;
  show(pageError, "");
  button.disabled = true;
  try {
    const result = await call(button.dataset.method, button.dataset.url);
    await after(button, result, null);
  } catch (error) {
    show(pageError, error.message);
    button.disabled = false;
  }
}

for (const form of document.querySelectorAll("form[data-method]")) {
  form.addEventListener("submit", (event) => submit(form, event));
}
// buttons may be replaced (refreshed tables): listen on the document
document.addEventListener("click", (event) => {
  const button = event.target.closest("button[data-method]");
  if (button && !button.form?.dataset.method) press(button);
});

