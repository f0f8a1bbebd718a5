/**
 * Human-readable progress lines for engine provisioning.
 *
 * @module
 */
import type { ProgressEvent } from "./provision.ts";

/** One line of progress for a terminal. */
export function formatProgress(e: ProgressEvent): string {
  switch (e.kind) {
    case "step":
      return `tom engines [${e.index}/${e.total}] ${e.step}: ${e.note}`;
    case "skip":
      return `tom engines [${e.index}/${e.total}] ${e.step}: cached (${e.reason})`;
    case "tick":
      return `tom engines       ${e.step}: still working, ${Math.round(e.elapsedMs / 1000)} s` +
        (e.percent !== undefined ? `, ${e.percent}%` : "");
    case "done":
      return `tom engines       ${e.step}: done in ${(e.elapsedMs / 1000).toFixed(1)} s`;
  }
}
