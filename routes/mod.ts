/**
 * The face of routes/ for app/: the manifest of every page and API route (routes/_manifest.ts, generated
 * by `deno task routes`), which app/admin_ui.ts hands to the file-route layer in ui/.
 *
 * @module
 */
export { MANIFEST } from "./_manifest.ts";
