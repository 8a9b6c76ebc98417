// Copy the front-end libraries the portal serves into its own static folder
// (src/quartier/web/static/vendor/, git-ignored): run by `npm ci` (postinstall).
// No CDN: a city LAN without internet gets the map library from Quartier itself.
import { copyFileSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const vendor = join(root, "src", "quartier", "web", "static", "vendor");
const files = {
  "maplibre-gl/dist/maplibre-gl-csp.js": "maplibre-gl.js",
  "maplibre-gl/dist/maplibre-gl-csp-worker.js": "maplibre-gl-worker.js",
  "maplibre-gl/dist/maplibre-gl.css": "maplibre-gl.css",
  "maplibre-gl/LICENSE.txt": "maplibre-gl.LICENSE.txt",
};
mkdirSync(vendor, { recursive: true });
for (const [from, to] of Object.entries(files)) {
  copyFileSync(join(root, "node_modules", from), join(vendor, to));
}
console.log(`portal libraries copied to ${vendor}`);
