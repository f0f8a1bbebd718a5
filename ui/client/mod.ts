/**
 * The browser face of ui/: what islands may import (code that runs in the page, bundled with the island,
 * and the types the page shares with the server, such as the chart's points). Server-side ui/ code is
 * never reachable from here, so no server module lands in a browser bundle.
 *
 * @module
 */
export {
  type AudioBufferSourceLike,
  type AudioContextLike,
  browser,
  type MediaStreamLike,
} from "./browser.ts";
export { type ChartPoint } from "./chart.ts";
export { callerText, type CallerTexts, type NoticeCaller, noticeCaller } from "./caller.ts";
export { dateTime } from "./date_time.ts";
export { type InboxEvent, onInboxEvent, RequestsNavLink, type RequestsNavLinkProps } from "./inbox_nav.tsx";
export {
  RequestTable,
  type RequestTableProps,
  type RequestTableRow,
  type RequestTableTexts,
} from "./request_table.tsx";
