/** @jsxImportSource preact */
/** @jsxRuntime automatic */
// Sentiment per day as an SVG line chart: readable without JavaScript (points have labels, and a table
// follows), and after hydration each point shows its value on hover or keyboard focus.
import type { VNode } from "preact";
import { useState } from "preact/hooks";
import type { ChartPoint } from "../ui/client/mod.ts";

/** Props of {@linkcode SentimentChart}. */
export interface SentimentChartProps {
  id: string;
  title: string;
  points: ChartPoint[];
  emptyText: string;
  tableCaption: string;
  dayHeader: string;
  scoreHeader: string;
  callsHeader: string;
}

const W = 600;
const H = 200;
const PAD = { l: 36, r: 40, t: 12, b: 28 };

/** The chart. */
export default function SentimentChart(p: SentimentChartProps): VNode {
  const [tip, setTip] = useState("");
  const n = p.points.length;
  const x = (i: number) => PAD.l + (n <= 1 ? (W - PAD.l - PAD.r) / 2 : (i * (W - PAD.l - PAD.r)) / (n - 1));
  const y = (s: number) => PAD.t + ((1 - s) / 2) * (H - PAD.t - PAD.b);
  const known = p.points.flatMap((pt, i) => (pt.score === null ? [] : [{ ...pt, score: pt.score, i }]));
  const path = known.map((pt, k) => `${k === 0 ? "M" : "L"}${x(pt.i).toFixed(1)},${y(pt.score).toFixed(1)}`)
    .join(" ");
  return (
    <figure class="chart" aria-labelledby={`${p.id}-t`}>
      <figcaption id={`${p.id}-t`}>{p.title}</figcaption>
      {known.length === 0
        ? <p class="muted">{p.emptyText}</p>
        : (
          <svg viewBox={`0 0 ${W} ${H}`} role="group" aria-labelledby={`${p.id}-t`}>
            <line class="axis" x1={PAD.l} y1={PAD.t} x2={PAD.l} y2={H - PAD.b} />
            <line class="zero" x1={PAD.l} y1={y(0)} x2={W - PAD.r} y2={y(0)} />
            <text x={4} y={y(1) + 4} aria-hidden="true">+1</text>
            <text x={8} y={y(0) + 4} aria-hidden="true">0</text>
            <text x={4} y={y(-1) + 4} aria-hidden="true">−1</text>
            {p.points.map((pt, i) => (
              <text key={`l${i}`} x={x(i)} y={H - 8} text-anchor="middle" aria-hidden="true">{pt.label}</text>
            ))}
            <path class="line" d={path} />
            {known.map((pt) => (
              <circle
                key={pt.i}
                cx={x(pt.i)}
                cy={y(pt.score)}
                r={7}
                tabindex={0}
                role="img"
                aria-label={pt.description}
                onFocus={() => setTip(pt.description)}
                onMouseEnter={() => setTip(pt.description)}
              >
                <title>{pt.description}</title>
              </circle>
            ))}
          </svg>
        )}
      <p class="tip" aria-live="polite">{tip}</p>
      <details>
        <summary>{p.tableCaption}</summary>
        <table>
          <thead>
            <tr>
              <th scope="col">{p.dayHeader}</th>
              <th scope="col" class="num">{p.scoreHeader}</th>
              <th scope="col" class="num">{p.callsHeader}</th>
            </tr>
          </thead>
          <tbody>
            {p.points.map((pt, i) => (
              <tr key={i}>
                <td>{pt.label}</td>
                <td class="num">
                  {pt.score === null
                    ? "–"
                    : (pt.score > 0 ? "+" : "") + pt.score.toFixed(2).replace(".", ",")}
                </td>
                <td class="num">{pt.calls}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </details>
    </figure>
  );
}
