// Console: the new-objective form. Its indicators are a list of objects,
// which the generic console forms cannot express: gather them here and send
// the objective to /api/objectives like the other console forms do.
import { call, flash, show } from "./console_api.js";

const form = document.querySelector("form[data-objective-form]");

function number(field) {
  const value = field.value.trim();
  return value === "" ? null : Number(value);
}

function body() {
  const out = {
    id: form.elements.id.value.trim(),
    title: form.elements.title.value.trim(),
    owner: form.elements.owner.value,
    description: form.elements.description.value.trim(),
    indicators: [],
    datasets: [...form.querySelectorAll('input[name="datasets"]:checked')].map(
      (box) => box.value,
    ),
  };
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

if (form) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const errorBox = form.querySelector("[data-error]");
    show(errorBox, "");
    if (!form.checkValidity()) {
      form.reportValidity();
      return;
    }
    const button = form.querySelector('button[type="submit"]');
    button.disabled = true;
    try {
      await call("POST", "/api/objectives", body());
      flash(form.dataset.ok);
      window.location.reload();
    } catch (error) {
      show(errorBox, error.message);
      button.disabled = false;
    }
  });
}
