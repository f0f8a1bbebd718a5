/**
 * What the admin UI's learning page reads of the running learning loop ({@linkcode LearningView}): the
 * variants file in force and the in-process metrics. app/learning.ts's loop is one; the UI gets it as a
 * getter (UiDeps.learning) because the loop starts after the UI.
 *
 * @module
 */
import type { RlMetrics } from "./metrics.ts";
import type { VariantsFile } from "./variants.ts";

/** The running learning loop, as the learning page sees it. */
export interface LearningView {
  /** The variants file the loop synced at start (its base variant). */
  variants: VariantsFile;
  /** The loop's counters (feedback, selections, exploration share, blacklist gauge). */
  metrics: RlMetrics;
}
