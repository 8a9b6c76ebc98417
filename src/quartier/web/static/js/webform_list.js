// The list of web forms (/formulaires): the outbox, and "make available
// offline" (puts every form page in the service worker's cache).
const v = new URL(import.meta.url).search;
const queue = await import(`./webform_queue.js${v}`);
const config = JSON.parse(document.getElementById("webform-config").textContent);
const S = config.strings;

const button = document.getElementById("wf-offline");
if (button) {
  button.addEventListener("click", async () => {
    const status = document.getElementById("wf-offline-status");
    if (!("caches" in window) || !("serviceWorker" in navigator)) {
      status.textContent = S.noWorker;
      return;
    }
    await navigator.serviceWorker.ready;
    const cache = await caches.open(`quartier-webforms-${config.version}`);
    const links = [...document.querySelectorAll("#wf-forms a[data-form]")].map((a) => a.getAttribute("href"));
    await cache.addAll(["/formulaires", ...links]);
    status.textContent = S.offlineReady;
  });
}
queue.start(config);
