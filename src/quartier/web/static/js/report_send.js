// Sending a report or a contest: a UUID made on the device (kept until the
// server has it, so a retry after a lost answer never files twice; a new
// one when the resident changes what they send), the
// photo shrunk in the browser (which also drops its EXIF: the server strips
// metadata again), multipart to the platform API, errors for people.

// crypto.randomUUID needs a secure context; getRandomValues works on a LAN
export function newId() {
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

export function fmt(template, values = {}) {
  return template.replace(/%\((\w+)\)s/g, (_, k) => (k in values ? String(values[k]) : ""));
}

function csrf() {
  const meta = document.querySelector('meta[name="quartier-csrf"]');
  return meta ? meta.content : "";
}

const MAX_SIDE = 1600;

// a JPEG at most 1600 px on its longer side; the original if it cannot be read
export async function shrink(file) {
  if (!file || !file.type.startsWith("image/")) return file;
  const url = URL.createObjectURL(file);
  try {
    const img = new Image();
    img.src = url;
    await img.decode();
    const scale = Math.min(1, MAX_SIDE / Math.max(img.naturalWidth, img.naturalHeight));
    const canvas = document.createElement("canvas");
    canvas.width = Math.max(1, Math.round(img.naturalWidth * scale));
    canvas.height = Math.max(1, Math.round(img.naturalHeight * scale));
    canvas.getContext("2d").drawImage(img, 0, 0, canvas.width, canvas.height);
    const blob = await new Promise((ok) => canvas.toBlob(ok, "image/jpeg", 0.85));
    return blob ? new File([blob], "photo.jpg", { type: "image/jpeg" }) : file;
  } catch {
    return file;
  } finally {
    URL.revokeObjectURL(url);
  }
}

// One send at a time, and a retry that is really the same request: the same
// id and the same (already shrunk) photo while nothing changed; a new id as
// soon as a field, the place or the photo changes after a failed send (the
// first may have been stored: its id now belongs to that content).
export class Attempt {
  constructor() { this.pending = null; }

  // {id, photo} for these field values and this file
  async prepare(values, file) {
    const key = JSON.stringify([values, file ? [file.name, file.size, file.lastModified] : null]);
    if (!this.pending || this.pending.key !== key) {
      this.pending = { key, id: newId(), photo: file ? await shrink(file) : null };
    }
    return this.pending;
  }

  done() { this.pending = null; }
}

// POST the form data; resolves to the stored report, throws an Error for
// people (with the HTTP status, when the server answered)
export async function send(url, data, S) {
  let response;
  try {
    const headers = { Accept: "application/json" };
    const token = csrf();
    if (token) headers["X-CSRF-Token"] = token;
    response = await fetch(url, { method: "POST", body: data, credentials: "same-origin", headers });
  } catch {
    throw new Error(S.network);
  }
  const body = await response.json().catch(() => null);
  if (response.status === 429) throw Object.assign(new Error(S.tooMany), { status: 429 });
  if (!response.ok) {
    const detail = body && body.description ? ` ${body.description}` : "";
    const error = new Error(fmt(S.failed, { status: response.status }) + detail);
    throw Object.assign(error, { status: response.status });
  }
  return body;
}

export function show(el, message) {
  el.textContent = message;
  el.hidden = !message;
}
