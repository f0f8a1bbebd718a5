/**
 * The islands of the pages: every component in islands/ by its file name (a test keeps them in step), and
 * the `<Island>` that renders them (ui/island.tsx, given this registry: ui/ never imports islands/).
 *
 * @module
 */
import type { VNode } from "preact";
import {
  LiveCalls,
  NewRequests,
  RequestBadge,
  SentimentChart,
  TestCall,
  TransferNotices,
} from "../islands/mod.ts";
import { islandRenderer, T } from "../ui/mod.ts";

/** Every island component by name. */
export const ISLANDS = {
  SentimentChart,
  LiveCalls,
  TestCall,
  RequestBadge,
  NewRequests,
  TransferNotices,
} as const;

/** Render an island by name: `<Island name="LiveCalls" props={...} />`. */
export const Island = islandRenderer(ISLANDS);

/** The navigation's "Anliegen" entry with its live open count (UiDeps.requestsNav, on every page). */
export function requestsNav(p: { count: number; current: boolean }): VNode {
  return Island({
    name: "RequestBadge",
    props: {
      eventsUrl: "/api/live/inbox",
      count: p.count,
      current: p.current,
      label: T.nav.requests,
      countLabel: T.requests.openCount,
    },
  });
}
