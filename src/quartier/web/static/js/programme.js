// Console forms of the programme page that the generic console forms cannot
// send: a new roadmap item (its "dataset" field shadows form.dataset) and a
// new objective (its indicators are a list of objects). Both go to the
// platform API like the other console forms, then the page reloads.
import { call, flash, show } from "./console_api.js";

function number(field) {
  const value = field.value.trim();
  return value === "" ? null : Number(value);
}

// Plain fields: non-empty values as strings (empty ones keep their default)
function plain(form) {
  const out = {};
  for (const field of form.elements) {
    if (!field.name || field.closest("fieldset")) continue;
    const value = field.value.trim();
    if (value !== "") out[field.name] = value;
  }
  return out;
}

function objective(form) {
  const out = plain(form);
  out.indicators = [];
  out.datasets = [...form.querySelectorAll('input[name="datasets"]:checked')].map(
    (box) => box.value,
  );
  for (const set of form.querySelectorAll("fieldset[data-indicator]")) {
    const field = (name) => set.querySelector(`[name="${name}"]`);
    const label = field("label").value.trim();
    if (!label) continue;
    const source = field("source").value;
    out.indicators.push({
      label,
      source,
      target: number(field("target")),
      unit: field("unit").value.trim(),
      value: source ? null : number(field("value")),
    });
  }
  return out;
}

for (const form of document.querySelectorAll("form[data-programme-form]")) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const errorBox = form.querySelector("[data-error]");
    show(errorBox, "");
    if (!form.checkValidity()) {
      form.reportValidity();
      return;
    }
    const url = form.getAttribute("data-programme-form");
    const body = url === "/api/objectives" ? objective(form) : plain(form);
    const button = form.querySelector('button[type="submit"]');
    button.disabled = true;
    try {
      await call("POST", url, body);
      flash(form.getAttribute("data-ok"));
      window.location.reload();
    } catch (error) {
      show(errorBox, error.message);
      button.disabled = false;
    }
  });
}
