/**
 * The islands of the pages: every component in islands/ by its file name (a test keeps them in step), and
 * the `<Island>` that renders them (ui/island.tsx, given this registry: ui/ never imports islands/).
 *
 * @module
 */
import { LiveCalls, SentimentChart, TestCall } from "../islands/mod.ts";
import { islandRenderer } from "../ui/mod.ts";

/** Every island component by name. */
export const ISLANDS = { SentimentChart, LiveCalls, TestCall } as const;

/** Render an island by name: `<Island name="LiveCalls" props={...} />`. */
export const Island = islandRenderer(ISLANDS);
