// /signalements/contester: "c'est juste" / "c'est faux ici" about one map
// feature, for the dataset version the resident saw; posted to the API.
const version = new URL(import.meta.url).search;
const { newId, send, show, shrink } = await import(`./report_send.js${version}`);

const S = JSON.parse(document.getElementById("report-strings").textContent);
const form = document.getElementById("contest-form");
const errorBox = document.getElementById("report-error");
const okBox = document.getElementById("report-ok");

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  show(errorBox, "");
  form.dataset.reportId = form.dataset.reportId || newId();
  const data = new FormData();
  data.append("id", form.dataset.reportId);
  data.append("verdict", form.elements.verdict.value);
  data.append("dataset_version", form.dataset.version);
  for (const name of ["description", "name", "contact"]) {
    data.append(name, form.elements[name].value.trim());
  }
  if (form.dataset.lon) {
    data.append("lon", form.dataset.lon);
    data.append("lat", form.dataset.lat);
  }
  const file = form.elements.photos.files[0];
  if (file) data.append("photos", await shrink(file));
  const button = document.getElementById("report-send");
  button.disabled = true;
  show(okBox, S.sending);
  try {
    await send(form.dataset.url, data, S);
    delete form.dataset.reportId;
    form.reset();
    show(okBox, S.sent);
  } catch (error) {
    show(okBox, "");
    show(errorBox, error.message);
  } finally {
    button.disabled = false;
  }
});
