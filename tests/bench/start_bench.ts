/**
 * Cached start time: from spawning `deno task start`'s launcher to `/healthz` 200 and to `/readyz` 200
 * (engines loaded), against a baseline in the same run: a bare `Deno.serve` answering /healthz, started
 * the same way. Run: `deno run -A tests/bench/start_bench.ts [RUNS]`.
 *
 * @module
 */
import { join } from "node:path";
import { cleanEnv, freePort, ROOT } from "../_helpers.ts";

const RUNS = Number(Deno.args[0] ?? 3);

async function until(url: string, status: number, t0: number): Promise<number> {
  for (;;) {
    try {
      const r = await fetch(url);
      await r.body?.cancel();
      if (r.status === status) return performance.now() - t0;
    } catch { /* not yet */ }
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function measure(args: string[], env: Record<string, string>, port: number, ready: boolean) {
  const t0 = performance.now();
  const child = new Deno.Command(Deno.execPath(), {
    args,
    env,
    clearEnv: true,
    cwd: ROOT,
    stdout: "null",
    stderr: "null",
  })
    .spawn();
  const healthz = await until(`http://127.0.0.1:${port}/healthz`, 200, t0);
  const readyz = ready ? await until(`http://127.0.0.1:${port}/readyz`, 200, t0) : NaN;
  child.kill("SIGTERM");
  await child.status;
  return { healthz, readyz };
}

const baselineScript = await Deno.makeTempFile({ suffix: ".ts" });
await Deno.writeTextFile(
  baselineScript,
  `Deno.serve({ hostname: "127.0.0.1", port: Number(Deno.env.get("PORT")) },
  () => new Response("ok"));`,
);
const rows: Array<{ what: string; healthz: number[]; readyz: number[] }> = [
  { what: "baseline: bare Deno.serve", healthz: [], readyz: [] },
  { what: "tom (deno task start, cached)", healthz: [], readyz: [] },
];
for (let i = 0; i < RUNS; i++) {
  const p0 = freePort();
  const b = await measure(["run", "-A", baselineScript], cleanEnv({ PORT: String(p0) }), p0, false);
  rows[0].healthz.push(b.healthz);
  const data = await Deno.makeTempDir();
  const p1 = freePort();
  const env = cleanEnv({
    TOM_HTTP_PORT: String(p1),
    TOM_AUDIOSOCKET_PORT: String(freePort()),
    TOM_STT_URL: `http://127.0.0.1:${freePort()}`,
    TOM_LLM_URL: `http://127.0.0.1:${freePort()}`,
    TOM_DATA_DIR: data,
  });
  const t = await measure(["run", "-A", join(ROOT, "app/launch.ts"), "serve"], env, p1, true);
  rows[1].healthz.push(t.healthz);
  rows[1].readyz.push(t.readyz);
  await Deno.remove(data, { recursive: true });
}
await Deno.remove(baselineScript);
const med = (xs: number[]) => xs.length ? [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] : NaN;
const base = med(rows[0].healthz);
console.log(`start time, median of ${RUNS} runs (ms)`);
console.log("| what | /healthz 200 | /readyz 200 | healthz ratio to baseline |");
console.log("| --- | ---: | ---: | ---: |");
for (const r of rows) {
  console.log(
    `| ${r.what} | ${med(r.healthz).toFixed(0)} | ${
      isNaN(med(r.readyz)) ? "-" : med(r.readyz).toFixed(0)
    } | ${(med(r.healthz) / base).toFixed(2)} |`,
  );
}
