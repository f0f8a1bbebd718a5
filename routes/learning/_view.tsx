/** @jsxImportSource preact */
/** @jsxRuntime automatic */
// The learning page's view (routes/learning/index.ts): report per context with interval bars, the
// strategies with their slots in words and the actions, the decision log, the account's rewards.
import type { VNode } from "preact";
import type { ReportRow } from "../../rl/mod.ts";
import type { CallReward, RlDecision } from "../../store/mod.ts";
import { Csrf, IntervalBar, PostButton, Stats } from "../../ui/mod.ts";
import { dateTime, score } from "../../ui/mod.ts";
import { fill, T } from "../../ui/mod.ts";
import type { PageProps } from "../../ui/mod.ts";

/** The slots in the order they are shown. */
const SLOTS = ["greeting", "tone", "length", "inquiry_mode", "barge_in_sensitivity"] as const;
/** Reward components in the order of the formula (rl/reward.ts). */
const PARTS = ["resolution", "rating", "bargeIns", "repeats", "handover", "duration"];
/** Longest reason an administrator may give (the decision log's limit). */
export const MAX_REASON = 500;

/** A variant as the page shows it. */
export interface VariantView {
  id: string;
  name: string;
  slots: Record<string, string>;
  enabled: boolean;
  blacklisted: boolean;
}

/** The running loop's counters since start. */
export interface Metrics {
  feedback: number;
  selections: number;
  explorationShare: number;
}

/** What the page renders. */
export interface Data {
  baseVariant: string;
  report: { context: string; rows: ReportRow[] }[];
  variants: VariantView[];
  /** The account's decisions and the box-level ones (store listRlDecisions). */
  decisions: RlDecision[];
  /** The appliance administrator may act on the strategies (box-wide); others only see them. */
  appliance: boolean;
  /** Display names of the account's users (decision actors). */
  names: Record<string, string>;
  rewards: CallReward[];
  metrics: Metrics | null;
  error?: string;
}

const PCT = new Intl.NumberFormat("de-DE", { style: "percent", maximumFractionDigits: 1 });

/** The guard's reason (rl/deploy_guard.ts `blacklistReason`) in German wherever it appears, the rest as written. */
function reasonText(reason: string): string {
  return reason.replace(
    /Mean reward (-?[\d.]+) below (-?[\d.]+) after (\d+) rewards/g,
    (_, mean: string, limit: string, pulls: string) =>
      fill(T.learning.guardReason, { mean: score(Number(mean)), limit: score(Number(limit)), pulls }),
  );
}

function StateBadge(p: { state: string }): VNode {
  const cls = p.state === "blacklisted" ? "bad" : p.state === "disabled" ? "warn" : "ok";
  return <span class={`badge ${cls}`} data-state={p.state}>{T.guardStates[p.state] ?? p.state}</span>;
}

function ReportTable(p: { context: string; rows: ReportRow[] }): VNode {
  const id = `ctx-${p.context.replace(/[^a-z0-9_-]/gi, "")}`;
  return (
    <section class="card" aria-labelledby={id}>
      <h2 id={id}>{fill(T.learning.context, { kind: T.kinds[p.context as "clinical"] ?? p.context })}</h2>
      <table data-testid={`report-${p.context}`}>
        <thead>
          <tr>
            <th scope="col">{T.learning.variant}</th>
            <th scope="col" class="num">{T.learning.pulls}</th>
            <th scope="col" class="num">{T.learning.mean}</th>
            <th scope="col">{T.learning.ci}</th>
            <th scope="col" class="num">{T.learning.share}</th>
            <th scope="col">{T.learning.state}</th>
            <th scope="col">{T.learning.blacklistReason}</th>
          </tr>
        </thead>
        <tbody>
          {p.rows.map((r) => {
            const ci = `${score(r.ci95[0])} … ${score(r.ci95[1])}`;
            return (
              <tr key={r.variantId} data-variant={r.variantId}>
                <th scope="row">
                  {r.name} <code class="muted">{r.variantId}</code>
                </th>
                <td class="num">{r.pulls}</td>
                <td class="num">{score(r.meanReward)}</td>
                <td>
                  <IntervalBar
                    low={r.ci95[0]}
                    high={r.ci95[1]}
                    point={r.meanReward}
                    label={fill(T.learning.ciLabel, {
                      low: score(r.ci95[0]),
                      high: score(r.ci95[1]),
                      mean: score(r.meanReward),
                    })}
                  />{" "}
                  <span class="hint">{ci}</span>
                </td>
                <td class="num">{PCT.format(r.trafficShare)}</td>
                <td>
                  <StateBadge state={r.guard} />
                </td>
                <td>{r.blacklistReason ? reasonText(r.blacklistReason) : T.app.none}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
      <p class="hint">{T.learning.ciHint}</p>
    </section>
  );
}

function VariantActions(p: { v: VariantView; csrf: string }): VNode {
  const id = `r-${p.v.id}`;
  return (
    <>
      {p.v.blacklisted && (
        <form method="post" action="/learning" class="stack">
          <Csrf token={p.csrf} />
          <input type="hidden" name="op" value="reenable" />
          <input type="hidden" name="variant" value={p.v.id} />
          <div class="field">
            <label for={id} class="hint">{T.learning.reason}</label>
            <input id={id} type="text" name="reason" maxLength={MAX_REASON} />
          </div>
          <div>
            <button type="submit">{T.learning.reenable}</button>
          </div>
        </form>
      )}
      <PostButton
        action="/learning"
        csrf={p.csrf}
        label={p.v.enabled ? T.learning.disable : T.learning.enable}
        variant="secondary"
        fields={{ op: p.v.enabled ? "disable" : "enable", variant: p.v.id }}
      />
    </>
  );
}

function RewardParts(p: { r: CallReward }): VNode {
  const keys = [...PARTS, ...Object.keys(p.r.components).filter((k) => !PARTS.includes(k))];
  const missing = new Set(p.r.missing.map((k) => (k === "barge_ins" ? "bargeIns" : k)));
  return (
    <dl class="facts">
      {keys.flatMap((k) => {
        const value = p.r.components[k] ?? p.r.components[k === "bargeIns" ? "barge_ins" : k];
        const shown = missing.has(k)
          ? (k === "rating" ? T.learning.noRating : T.learning.notReported)
          : value === undefined
          ? null
          : score(value);
        return shown === null ? [] : [
          <dt key={`t-${k}`}>{T.rewardParts[k] ?? k}</dt>,
          <dd key={`d-${k}`} data-part={k}>{shown}</dd>,
        ];
      })}
    </dl>
  );
}

/** The learning page. */
export function LearningPage({ data: d, csrf }: PageProps<Data>): VNode {
  const blacklisted = d.variants.filter((v) => v.blacklisted).length;
  const active = d.variants.filter((v) => v.enabled && !v.blacklisted).length;
  const actor = (a: string) => a === "guard" ? T.learning.guard : d.names[a] ?? T.learning.otherAccount;
  return (
    <>
      <h1>{T.learning.title}</h1>
      <p>{T.learning.intro}</p>
      <p class="hint">{T.learning.shared}</p>
      {d.error && <p class="msg err" role="alert" id="fehler" tabindex={-1}>{d.error}</p>}
      <h2>{T.learning.metrics}</h2>
      <Stats
        items={[
          { label: T.learning.active, value: String(active), id: "m-active" },
          { label: T.learning.blacklisted, value: String(blacklisted), id: "m-blacklisted" },
          ...(d.metrics
            ? [
              { label: T.learning.feedback, value: String(d.metrics.feedback), id: "m-feedback" },
              { label: T.learning.selections, value: String(d.metrics.selections), id: "m-selections" },
              {
                label: T.learning.exploration,
                value: PCT.format(d.metrics.explorationShare),
                id: "m-exploration",
              },
            ]
            : []),
        ]}
      />
      {!d.metrics && <p class="hint">{T.learning.metricsOff}</p>}
      {d.variants.length === 0
        ? <p>{T.learning.noVariants}</p>
        : d.report.length === 0
        ? <p>{T.learning.noData}</p>
        : d.report.map((c) => <ReportTable key={c.context} context={c.context} rows={c.rows} />)}
      {d.variants.length > 0 && (
        <section class="card" aria-labelledby="strategies-h">
          <h2 id="strategies-h">{T.learning.strategies}</h2>
          <table data-testid="variants">
            <thead>
              <tr>
                <th scope="col">{T.learning.variant}</th>
                {SLOTS.map((s) => <th scope="col" key={s}>{T.slots[s]}</th>)}
                <th scope="col">{T.learning.state}</th>
                <th scope="col">{T.learning.actions}</th>
              </tr>
            </thead>
            <tbody>
              {d.variants.map((v) => (
                <tr key={v.id} data-variant={v.id}>
                  <th scope="row">
                    {v.name} <code class="muted">{v.id}</code>
                    {v.id === d.baseVariant && <p class="hint">{T.learning.base}</p>}
                  </th>
                  {SLOTS.map((s) => (
                    <td key={s}>{T.slotValues[`${s}.${v.slots[s]}`] ?? v.slots[s] ?? T.app.none}</td>
                  ))}
                  <td>
                    <StateBadge state={v.blacklisted ? "blacklisted" : v.enabled ? "enabled" : "disabled"} />
                  </td>
                  <td>
                    {d.appliance ? <VariantActions v={v} csrf={csrf} /> : T.app.none}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      )}
      <section class="card" aria-labelledby="decisions-h">
        <h2 id="decisions-h">{T.learning.decisions}</h2>
        {d.decisions.length === 0 ? <p>{T.learning.decisionsEmpty}</p> : (
          <table data-testid="decisions">
            <thead>
              <tr>
                <th scope="col">{T.learning.when}</th>
                <th scope="col">{T.learning.kind}</th>
                <th scope="col">{T.learning.variant}</th>
                <th scope="col">{T.learning.contextCol}</th>
                <th scope="col">{T.learning.why}</th>
                <th scope="col">{T.learning.by}</th>
              </tr>
            </thead>
            <tbody>
              {d.decisions.map((x) => (
                <tr key={x.id} data-decision={x.kind}>
                  <td>{dateTime(x.createdAt)}</td>
                  <td>{T.decisionKinds[x.kind] ?? x.kind}</td>
                  <td>
                    <code>{x.variantId}</code>
                  </td>
                  <td>
                    {x.context ? T.kinds[x.context as "clinical"] ?? x.context : T.learning.allContexts}
                  </td>
                  <td>{reasonText(x.reason)}</td>
                  <td>{actor(x.actor)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
      <section class="card" aria-labelledby="rewards-h">
        <h2 id="rewards-h">{T.learning.rewards}</h2>
        {d.rewards.length === 0 ? <p>{T.learning.rewardsEmpty}</p> : (
          <table data-testid="rewards">
            <thead>
              <tr>
                <th scope="col">{T.learning.call}</th>
                <th scope="col">{T.learning.variant}</th>
                <th scope="col" class="num">{T.learning.reward}</th>
                <th scope="col">{T.learning.components}</th>
                <th scope="col">{T.learning.rating}</th>
                <th scope="col">{T.learning.counted}</th>
              </tr>
            </thead>
            <tbody>
              {d.rewards.map((r) => (
                <tr key={r.callId} data-call={r.callId}>
                  <td>
                    <a href={`/calls/${r.callId}`}>{dateTime(r.createdAt)}</a>
                  </td>
                  <td>{r.variantId ? <code>{r.variantId}</code> : T.app.none}</td>
                  <td class="num">{score(r.reward)}</td>
                  <td>
                    <RewardParts r={r} />
                  </td>
                  <td>
                    {r.rating === null
                      ? T.learning.noRating
                      : `${String(r.rating).replace(".", ",")} (${T.ratingSources[r.source] ?? r.source})`}
                  </td>
                  <td>{r.applied ? T.app.yes : T.learning.countedNo}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
    </>
  );
}
