// /signalements/contester: "c'est juste" / "c'est faux ici" about one map
// feature, for the dataset version the resident saw; posted to the API.
const version = new URL(import.meta.url).search;
const { Attempt, send, show } = await import(`./report_send.js${version}`);

const S = JSON.parse(document.getElementById("report-strings").textContent);
const form = document.getElementById("contest-form");
const errorBox = document.getElementById("report-error");
const okBox = document.getElementById("report-ok");
const attempt = new Attempt();

function finish(message) {
  attempt.done();
  form.reset();
  show(okBox, message);
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  show(errorBox, "");
  const button = document.getElementById("report-send");
  if (button.disabled) return;
  button.disabled = true;
  show(okBox, S.sending);
  try {
    const values = [form.elements.verdict.value];
    for (const name of ["description", "name", "contact"]) {
      values.push(form.elements[name].value.trim());
    }
    // the same id while nothing changed; a new one once the resident edits
    const { id, photo } = await attempt.prepare(values, form.elements.photos.files[0]);
    const data = new FormData();
    data.append("id", id);
    data.append("verdict", values[0]);
    data.append("dataset_version", form.dataset.version);
    ["description", "name", "contact"].forEach((name, i) => data.append(name, values[i + 1]));
    if (form.dataset.lon) {
      data.append("lon", form.dataset.lon);
      data.append("lat", form.dataset.lat);
    }
    if (photo) data.append("photos", photo);
    try {
      await send(form.dataset.url, data, S);
      finish(S.sent);
    } catch (error) {
      // 409: this id is already stored (an earlier send whose answer was
      // lost); a contest is not public, so there is nothing to fetch
      if (error.status !== 409) throw error;
      finish(S.alreadyContest);
    }
  } catch (error) {
    show(okBox, "");
    show(errorBox, error.message);
  } finally {
    button.disabled = false;
  }
});
