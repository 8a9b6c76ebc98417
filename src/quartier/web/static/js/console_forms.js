// Publishing an XLSForm from the console: the file goes to POST /api/forms
// as multipart (with the session's CSRF token); the page reloads with a note.
import { ApiError, csrf, describe, flash, show, text } from "./console_api.js";

const form = document.getElementById("form-upload");

async function publish(event) {
  event.preventDefault();
  const errorBox = form.querySelector("[data-error]");
  show(errorBox, "");
  if (!form.checkValidity()) {
    form.reportValidity();
    return;
  }
  const data = new FormData();
  data.append("file", form.elements.file.files[0]);
  data.append("organisation", form.elements.organisation.value);
  const target = form.elements.new_dataset.value.trim() || form.elements.dataset.value;
  if (target) data.append("dataset", target);
  const button = form.querySelector('button[type="submit"]');
  button.disabled = true;
  show(errorBox, "");
  try {
    let response;
    try {
      response = await fetch("/api/forms", {
        method: "POST",
        body: data,
        credentials: "same-origin",
        headers: { "X-CSRF-Token": csrf(), Accept: "application/json" },
      });
    } catch {
      throw new ApiError(text.network, 0);
    }
    const body = await response.json().catch(() => null);
    if (!response.ok) throw new ApiError(describe(response.status, body), response.status);
    // (form.dataset is the form's "dataset" field here: read the attributes)
    flash(form.getAttribute(body.new ? "data-ok" : "data-same"));
    window.location.reload();
  } catch (error) {
    show(errorBox, error.message);
    button.disabled = false;
  }
}

if (form) form.addEventListener("submit", publish);
