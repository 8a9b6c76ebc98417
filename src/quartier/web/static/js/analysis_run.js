// "Run again" on an analysis page: POST /api/analyses/{name} with the
// defaults, then follow the job (/api/jobs/{id}) and reload when done.
const form = document.getElementById("run-analysis");
const status = document.getElementById("run-status");
const text = JSON.parse(document.getElementById("run-strings").textContent);
const csrf = document.querySelector('meta[name="quartier-csrf"]').content;

function say(message) {
  status.textContent = message;
}

async function follow(url) {
  for (;;) {
    const response = await fetch(url, { headers: { Accept: "application/json" } });
    const job = await response.json();
    if (job.status === "done") return job;
    if (job.status === "failed") throw new Error(job.error || job.status);
    say(job.status === "running" ? text.running : text.queued);
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const button = form.querySelector("button");
  button.disabled = true;
  say(text.queued);
  try {
    const response = await fetch(`/api/analyses/${form.dataset.name}`, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf,
        Accept: "application/json" },
      body: "{}",
    });
    const body = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(body.description || String(response.status));
    await follow(response.headers.get("Location"));
    say(text.done);
    window.location.reload();
  } catch (error) {
    say(error instanceof TypeError ? text.network
      : text.failed.replace("%(error)s", error.message));
    button.disabled = false;
  }
});
