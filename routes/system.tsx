/** @jsxImportSource preact */
/** @jsxRuntime automatic */
// System (the appliance administrator: box-wide): the doctor report (hardware, engines, gates) and engine health.
import type { VNode } from "preact";
import { type DoctorReport, formatDoctor } from "../infra/mod.ts";
import { VERSION } from "../infra/mod.ts";
import { T } from "../ui/mod.ts";
import type { Handlers, PageProps, RouteConfig } from "../ui/mod.ts";

export const config: RouteConfig = { auth: "admin", appliance: true };

interface Data {
  report: DoctorReport;
  activeCalls: number;
  islands: string;
}

export const handler: Handlers<Data> = {
  async GET(ctx) {
    const report = await ctx.deps.doctor();
    const m = ctx.deps.assets.manifest;
    return ctx.render({
      report,
      activeCalls: ctx.deps.calls?.size ?? 0,
      islands: m ? `${m.outputHash} (${Object.keys(m.entries).length})` : ctx.deps.assets.error ?? "–",
    }, { title: T.system.title });
  },
};

const GIB = 1024 ** 3;
const gib = (b: number) => `${(b / GIB).toFixed(1).replace(".", ",")} GiB`;

export default function SystemPage({ data }: PageProps<Data>): VNode {
  const r = data.report;
  return (
    <>
      <h1>{T.system.title}</h1>
      <p class={`msg ${r.ok ? "ok" : "warn"}`} role="status">
        {T.system.doctor}: <strong>{r.ok ? T.system.ready : T.system.notReady}</strong> ({r.profile},{" "}
        {r.gate})
      </p>
      <section class="card" aria-labelledby="eng-h">
        <h2 id="eng-h">{T.system.engines}</h2>
        <table>
          <thead>
            <tr>
              <th scope="col">{T.settings.engine}</th>
              <th scope="col">{T.settings.kind}</th>
              <th scope="col">{T.calls.status}</th>
              <th scope="col" class="num">ms</th>
              <th scope="col">{T.system.warnings}</th>
            </tr>
          </thead>
          <tbody>
            {r.engines.map((e) => (
              <tr key={e.name}>
                <td>{e.name}</td>
                <td>{e.kind}</td>
                <td>
                  <span class={`badge ${e.healthy ? "ok" : "bad"}`}>
                    {e.healthy ? T.system.healthy : T.system.unhealthy}
                  </span>
                </td>
                <td class="num">{e.latencyMs}</td>
                <td>{e.reason ?? e.detail ?? ""}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      <section class="card" aria-labelledby="hw-h">
        <h2 id="hw-h">{T.system.hardware}</h2>
        <dl class="facts">
          <dt>CPU</dt>
          <dd>{r.cpu.model}, {r.cpu.cores}</dd>
          <dt>RAM</dt>
          <dd>{gib(r.ram.availableBytes)} / {gib(r.ram.totalBytes)}</dd>
          <dt>Disk</dt>
          <dd>{r.disk ? `${gib(r.disk.freeBytes)} / ${gib(r.disk.totalBytes)}` : "–"}</dd>
          <dt>GPU</dt>
          <dd>
            {r.gpu.devices.length === 0
              ? "–"
              : r.gpu.devices.map((d) => `${d.name} (${gib(d.memoryTotalBytes)})`).join(", ")}
          </dd>
          <dt>{T.system.version}</dt>
          <dd>{VERSION}</dd>
          <dt>{T.system.activeCalls}</dt>
          <dd>{data.activeCalls}</dd>
          <dt>Islands</dt>
          <dd>{data.islands}</dd>
        </dl>
        {r.warnings.length > 0 && (
          <>
            <h3>{T.system.warnings}</h3>
            <ul>{r.warnings.map((w) => <li key={w}>{w}</li>)}</ul>
          </>
        )}
      </section>
      <details class="card">
        <summary>tom doctor</summary>
        <pre class="report" tabindex={0}>{formatDoctor(r)}</pre>
      </details>
    </>
  );
}
