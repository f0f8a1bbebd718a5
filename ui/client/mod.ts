/**
 * The browser face of ui/: what islands may import (code that runs in the page, bundled with the island).
 * Server-side ui/ code is never reachable from here, so no server module lands in a browser bundle.
 *
 * @module
 */
export {
  type AudioBufferSourceLike,
  type AudioContextLike,
  browser,
  type MediaStreamLike,
} from "./browser.ts";
