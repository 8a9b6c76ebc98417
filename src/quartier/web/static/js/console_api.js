// The console's calls to the platform API: session cookie + CSRF header,
// errors read from the API's body ({code, description}).

export function strings(id) {
  const el = document.getElementById(id);
  return el ? JSON.parse(el.textContent) : {};
}

export const text = strings("console-strings");

// "Version %(v)s" + {v: 3} → "Version 3" (the templates' gettext placeholders)
export function fmt(template, values = {}) {
  return template
    .replace(/%\((\w+)\)s/g, (_, key) => (key in values ? String(values[key]) : ""))
    .replace(/%%/g, "%");
}

export function csrf() {
  const meta = document.querySelector('meta[name="quartier-csrf"]');
  return meta ? meta.content : "";
}

export class ApiError extends Error {
  constructor(message, status) {
    super(message);
    this.status = status;
  }
}

// The error an API answer carries, for people: a sentence in the page's
// language for its kind, then the API's own (technical, English) detail
export function describe(status, body) {
  if (body && typeof body.description === "string" && body.description) {
    const lead = (text.codes || {})[body.code];
    return lead ? `${lead} ${body.description}` : body.description;
  }
  return fmt(text.failed, { status });
}

export async function call(method, url, body) {
  const headers = { "X-CSRF-Token": csrf(), Accept: "application/json" };
  const init = { method, headers, credentials: "same-origin" };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(url, init);
  } catch {
    throw new ApiError(text.network, 0);
  }
  const data = response.status === 204 ? null : await response.json().catch(() => null);
  if (!response.ok) {
    throw new ApiError(describe(response.status, data), response.status);
  }
  return data;
}

// A message shown after the next page load (a write followed by a reload)
const FLASH = "quartier-console-flash";

export function flash(message) {
  try {
    sessionStorage.setItem(FLASH, message);
  } catch {
    // private browsing without storage: the page still reloads
  }
}

export function takeFlash() {
  try {
    const message = sessionStorage.getItem(FLASH);
    sessionStorage.removeItem(FLASH);
    return message;
  } catch {
    return null;
  }
}

export function show(el, message) {
  if (!el) return;
  el.textContent = message;
  el.hidden = !message;
}
