/**
 * The islands: Preact components that render on the server and hydrate in the browser, one per file
 * (PascalCase, serializable props only, browser code behind a check). Each file is also the entry of its
 * browser bundle (ui/islands_build.ts). routes/ imports them from here (routes/_islands.ts is their
 * registry); islands import only ui/client/ (browser code).
 *
 * @module
 */
export { default as LiveCalls, type LiveCallItem } from "./LiveCalls.tsx";
export { default as NewRequests } from "./NewRequests.tsx";
export { default as RequestBadge } from "./RequestBadge.tsx";
export { default as SentimentChart } from "./SentimentChart.tsx";
export { default as TestCall } from "./TestCall.tsx";
export { default as TransferNotices } from "./TransferNotices.tsx";
