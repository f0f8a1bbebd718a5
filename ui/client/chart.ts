/**
 * The points of the sentiment chart, shared by the server (ui/trend.ts computes them per day) and the
 * browser (islands/SentimentChart.tsx draws them): a type only, so nothing of it lands in a bundle.
 *
 * @module
 */

/** One day of the chart. */
export interface ChartPoint {
  /** Label under the axis, e.g. "Mo 17.11.". */
  label: string;
  /** -1..1, or null when no call of that day was analysed. */
  score: number | null;
  calls: number;
  /** Spoken description, e.g. "Mo 17.11.: +0,50, 3 Anrufe". */
  description: string;
}
