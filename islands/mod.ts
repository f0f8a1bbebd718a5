/**
 * The face of islands/: what other folders may import from it (re-exports only).
 *
 * @module
 */
export { type ChartPoint } from "./SentimentChart.tsx";
export { type LiveCallItem } from "./LiveCalls.tsx";
