// Path helpers (node:path plus file URLs), so the UI modules import one place.
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";

export { join, resolve };

/** An absolute path as a file:// URL string. */
export function toFileUrl(path: string): string {
  return pathToFileURL(path).href;
}
