import assert from "node:assert/strict";
import { loadConfig } from "../../infra/config.ts";
import { allowedNetHosts, servePermissionFlags } from "../../infra/permissions.ts";
import { cleanEnv, freePort, ROOT } from "../_helpers.ts";

const PROBE = new URL("./fixtures/egress_probe.ts", import.meta.url).pathname;

/** Run `tom serve` with the flags the launcher uses, the probe preloaded, until it reports. */
async function probeServe(extraEnv: Record<string, string>) {
  const dataDir = await Deno.makeTempDir();
  const env = {
    TOM_HTTP_PORT: String(freePort()),
    TOM_AUDIOSOCKET_PORT: String(freePort()),
    TOM_DATA_DIR: dataDir,
    TOM_MANAGE_ENGINES: "false",
    ...extraEnv,
  };
  const config = loadConfig({ env });
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", ...servePermissionFlags(config), PROBE],
    env: cleanEnv({ ...env, EGRESS_PROBE_TARGET: "http://egress-check.invalid/" }),
    clearEnv: true,
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stderr = new Response(child.stderr).text();
  let report: Record<string, Record<string, unknown> | string> | undefined;
  const dec = new TextDecoder();
  let buffered = "";
  for await (const chunk of child.stdout) {
    buffered += dec.decode(chunk, { stream: true });
    const m = buffered.match(/EGRESS_PROBE (.*)\n/);
    if (m) {
      report = JSON.parse(m[1]);
      break;
    }
  }
  child.kill("SIGTERM");
  const status = await child.status;
  await Deno.remove(dataDir, { recursive: true });
  return { report, status, stderr: await stderr };
}

Deno.test("the serve permissions allow loopback and the engines, nothing else by default", () => {
  const c = loadConfig({ env: { TOM_LLM_KIND: "ollama", TOM_LLM_URL: "http://10.1.2.3:11434" } });
  const hosts = allowedNetHosts(c);
  assert.ok(hosts.includes("127.0.0.1") && hosts.includes("localhost") && hosts.includes("[::1]"));
  assert.ok(hosts.includes("10.1.2.3:11434"), "a configured engine elsewhere in the LAN is allowed");
  assert.equal(
    hosts.filter((h) => !/^(127\.0\.0\.1|localhost|\[::1\])/.test(h) && h !== "10.1.2.3:11434").length,
    0,
  );
  const flags = servePermissionFlags(c);
  assert.ok(flags.some((f) => f.startsWith("--allow-net=")));
  assert.ok(!flags.includes("--allow-net") && !flags.includes("--allow-all") && !flags.includes("-A"));
  assert.ok(
    servePermissionFlags(loadConfig({ env: { TOM_EGRESS_ALLOW_ALL: "true" } })).includes("--allow-net"),
  );
});

Deno.test("inside the serving process, a fetch to a non-loopback host fails with Deno's permission error", async () => {
  const { report, status, stderr } = await probeServe({});
  assert.ok(report, `no probe report; serve stderr:\n${stderr}`);
  const loopback = report.loopback as Record<string, unknown>;
  const external = report.external as Record<string, unknown>;
  assert.equal(loopback.ok, true, "loopback (the server's own /healthz) is reachable");
  assert.equal(external.ok, false);
  assert.equal(
    external.name,
    "NotCapable",
    `expected Deno's permission error, got ${JSON.stringify(external)}`,
  );
  assert.match(String(external.message), /Requires net access to "egress-check\.invalid:80"/);
  assert.notEqual(report.ipState, "granted", "a public IP literal is not allowed either");
  assert.equal(status.code, 0, `SIGTERM should stop serve cleanly; stderr:\n${stderr}`);
});

Deno.test("an administrator's allow-list lifts the denial for that host only (the error becomes DNS, not permission)", async () => {
  const { report, stderr } = await probeServe({ TOM_EGRESS_ALLOW_HOSTS: "egress-check.invalid" });
  assert.ok(report, `no probe report; serve stderr:\n${stderr}`);
  const external = report.external as Record<string, unknown>;
  assert.equal(external.ok, false);
  assert.notEqual(
    external.name,
    "NotCapable",
    "the permission is granted now; .invalid then fails to resolve",
  );
  assert.notEqual(report.ipState, "granted");
});
