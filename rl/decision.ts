/**
 * A bandit selection and why it was made ({@linkcode Decision}): what the bandit (bandit.ts) returns, the
 * metrics (metrics.ts) count and the admin UI shows. Its own file so that the metrics need not import the
 * bandit (which imports the administrator actions, which report into the metrics).
 *
 * @module
 */
import type { GuardState } from "./deploy_guard.ts";

/** One candidate's numbers at a selection. */
export interface CandidateInfo {
  variantId: string;
  state: GuardState;
  /** Share of the window if chosen now. */
  share: number;
  cap: number;
  capped: boolean;
  sample?: number;
}

/** A selection and why it was made. */
export interface Decision {
  context: string;
  variantId: string;
  /** thompson: highest posterior sample among arms under their cap; explore_new: forced try of a new arm;
   * all_capped: every arm at its cap (no base variant active), least-used arm taken. */
  reason: "thompson" | "explore_new" | "all_capped";
  /** The choice differs from the arm with the highest posterior mean (exploration). */
  explore: boolean;
  /** Arms left out because they were at their traffic cap. */
  capped: string[];
  candidates: CandidateInfo[];
  at: number;
}
