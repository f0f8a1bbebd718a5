// Server-side registry of the islands (one per file in islands/; a test keeps them in step).
import SentimentChart from "../islands/SentimentChart.tsx";
import LiveCalls from "../islands/LiveCalls.tsx";
import TestCall from "../islands/TestCall.tsx";

/** Every island component by name. */
export const ISLANDS = { SentimentChart, LiveCalls, TestCall } as const;

/** Name of an island. */
export type IslandName = keyof typeof ISLANDS;

/** Props of an island. */
export type IslandProps<N extends IslandName> = Parameters<(typeof ISLANDS)[N]>[0];
