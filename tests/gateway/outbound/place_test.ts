import assert from "node:assert/strict";
import { metrics } from "@opentelemetry/api";
import { loadConfig } from "../../../infra/config.ts";
import { silentLogger } from "../../../infra/log.ts";
import { CallRegistry } from "../../../infra/call_registry.ts";
import { servePermissionFlags } from "../../../infra/permissions.ts";
import {
  createAccount,
  createPerson,
  getCall,
  listCalls,
  openStore,
  type Store,
} from "../../../store/mod.ts";
import { echoAnswerer } from "../../../gateway/call/echo.ts";
import type { GatewayDeps } from "../../../gateway/call/session.ts";
import { EslClient } from "../../../gateway/freeswitch/esl.ts";
import { placeCall, TWILIO_EGRESS_DENIED } from "../../../gateway/outbound/place.ts";
import { type FreeswitchTransport, mountFreeswitch } from "../../../gateway/freeswitch/fork.ts";
import { mountTwilio } from "../../../gateway/twilio/webhook.ts";
import { startEslStandIn } from "../fixtures/fs_esl_server.ts";
import { AudioForkClient } from "../fixtures/fs_audio_fork_client.ts";
import { startTwilioRestStandIn } from "../fixtures/twilio_rest_server.ts";
import { signLikeTwilio } from "../fixtures/twilio_stream_client.ts";
import { startGateway } from "../server_harness.ts";
import { cleanEnv, freePort, ROOT } from "../../_helpers.ts";

const PHONES = { ok: "+4930111111", busy: "+4930222222", noAnswer: "+4930333333", rejected: "+4930444444" };

function deps(env: Record<string, string> = {}, store: Store = openStore(":memory:")): GatewayDeps {
  return {
    config: loadConfig({ env }),
    store,
    log: silentLogger,
    meter: metrics.getMeter("test"),
    calls: new CallRegistry(),
    answer: echoAnswerer(),
  };
}

function people(store: Store) {
  const account = createAccount(store, { name: "Familie Weber", kind: "private" });
  const ids = Object.fromEntries(
    Object.entries(PHONES).map(([k, phone]) => [
      k,
      createPerson(store, account.id, { kind: "senior", displayName: `Person ${k}`, phoneE164: phone }).id,
    ]),
  ) as Record<keyof typeof PHONES, string>;
  return { accountId: account.id, ids };
}

/** FreeSWITCH's answers to `originate`, by the number dialled. */
function originate(cmd: string): string | undefined {
  if (!cmd.startsWith("originate ")) return undefined;
  if (cmd.includes(PHONES.busy)) return "-ERR USER_BUSY\n";
  if (cmd.includes(PHONES.noAnswer)) return "-ERR NO_ANSWER\n";
  if (cmd.includes(PHONES.rejected)) return "-ERR CALL_REJECTED\n";
  const uuid = /origination_uuid=([^,}]+)/.exec(cmd)?.[1];
  return `+OK ${uuid}\n`;
}

Deno.test("outbound via FreeSWITCH: busy, no answer, rejected and unreachable are recorded on the call", async () => {
  const fs = startEslStandIn({ onBgapi: originate });
  const d = deps({ TOM_FREESWITCH_ESL_PORT: String(fs.port) });
  const esl = new EslClient({ host: "127.0.0.1", port: fs.port, password: "ClueCon" });
  esl.start();
  try {
    await esl.ready();
    const { accountId, ids } = people(d.store);
    const cases = [
      [ids.busy, "busy", "FreeSWITCH: USER_BUSY"],
      [ids.noAnswer, "no_answer", "FreeSWITCH: NO_ANSWER"],
      [ids.rejected, "failed", "FreeSWITCH: CALL_REJECTED"],
    ] as const;
    for (const [personId, status, reason] of cases) {
      const r = await placeCall(d, { accountId, personId, via: "freeswitch" }, { esl });
      assert.equal(r.ok, false);
      assert.ok(!r.ok && r.callId);
      assert.equal(r.status, status);
      const row = getCall(d.store, accountId, r.callId);
      assert.equal(row?.status, status);
      assert.equal(row?.failureReason, reason);
      assert.equal(row?.direction, "outbound");
      assert.equal(row?.personId, personId);
    }
    const cmd = fs.commands.find((c) => c.kind === "bgapi")?.command ?? "";
    const callId = listCalls(d.store, accountId).find((c) => c.personId === ids.busy)?.id;
    assert.equal(
      cmd,
      `originate {origination_uuid=${callId},tom_call_id=${callId},tom_account_id=${accountId},` +
        `ignore_early_media=true,originate_timeout=45}sofia/gateway/provider/${PHONES.busy} tom XML tom`,
    );
    assert.equal(fs.commands.filter((c) => c.kind === "bgapi").length, 3, "no retries");

    // FreeSWITCH goes away: the next call fails at once, recorded, and is not retried.
    await fs.close();
    await new Promise((r) => setTimeout(r, 50));
    const down = await placeCall(d, { accountId, personId: ids.ok, via: "freeswitch" }, { esl });
    assert.equal(down.ok, false);
    assert.ok(!down.ok && down.callId);
    const row = getCall(d.store, accountId, down.callId);
    assert.equal(row?.status, "failed");
    assert.match(row?.failureReason ?? "", /^FreeSWITCH unreachable: .*127\.0\.0\.1:\d+/);
    // Without any event socket at all.
    const none = await placeCall(d, { accountId, personId: ids.ok, via: "freeswitch" });
    assert.ok(!none.ok && /not set up/.test(none.reason));
  } finally {
    await esl.close();
    await fs.close();
    d.store.close();
  }
});

Deno.test("outbound via FreeSWITCH end to end: answered, the fork attaches with tom_call_id, the call completes on its row", async () => {
  let fork: AudioForkClient | undefined;
  let url = "";
  const fs = startEslStandIn({
    onBgapi: (cmd) => {
      const answer = originate(cmd);
      if (answer?.startsWith("+OK")) {
        // The callee answered: the dialplan's tom extension forks the audio with TOM's metadata.
        const id = /tom_call_id=([^,}]+)/.exec(cmd)?.[1];
        const account = /tom_account_id=([^,}]+)/.exec(cmd)?.[1];
        fork = new AudioForkClient(url);
        fork.opened.then(() =>
          fork?.metadata({ uuid: id, caller: "0", callee: "tom", tom_call_id: id, tom_account_id: account })
        );
      }
      return answer;
    },
  });
  let transport: FreeswitchTransport | undefined;
  const gw = await startGateway({
    env: { TOM_FREESWITCH_ESL_PORT: String(fs.port) },
    transports: [(app, dd, guard) => (transport = mountFreeswitch(app, dd, guard))],
  });
  url = `${gw.ws}/ws/freeswitch`;
  try {
    assert.ok(transport);
    await transport.esl.ready();
    const d: GatewayDeps = { ...deps(), config: gw.config, store: gw.store, calls: gw.calls };
    const { accountId, ids } = people(gw.store);
    const r = await placeCall(d, { accountId, personId: ids.ok, via: "freeswitch" }, { esl: transport.esl });
    assert.ok(r.ok && r.status === "answered" && r.attached);
    assert.equal(await r.attached, true);
    assert.equal(getCall(gw.store, accountId, r.callId)?.status, "active");
    await fs.waitFor((c) => c.command.startsWith(`uuid_broadcast ${r.callId} `), 1);
    fork?.close();
    await fork?.closed;
    const deadline = Date.now() + 5000;
    while (getCall(gw.store, accountId, r.callId)?.status !== "completed" && Date.now() < deadline) {
      await new Promise((res) => setTimeout(res, 10));
    }
    assert.equal(getCall(gw.store, accountId, r.callId)?.status, "completed");
    assert.equal(listCalls(gw.store, accountId).length, 1, "the answered call continues its placed row");
  } finally {
    await gw.close();
    await fs.close();
  }
});

Deno.test("an answered FreeSWITCH call whose audio never reaches TOM is hung up and recorded failed", async () => {
  const fs = startEslStandIn({ onBgapi: originate });
  const d = deps();
  const esl = new EslClient({ host: "127.0.0.1", port: fs.port, password: "ClueCon" });
  esl.start();
  try {
    await esl.ready();
    const { accountId, ids } = people(d.store);
    const r = await placeCall(d, { accountId, personId: ids.ok, via: "freeswitch" }, {
      esl,
      attachTimeoutMs: 30,
    });
    assert.ok(r.ok && r.attached);
    assert.equal(await r.attached, false);
    const row = getCall(d.store, accountId, r.callId);
    assert.equal(row?.status, "failed");
    assert.match(row?.failureReason ?? "", /no audio reached TOM/);
    await fs.waitFor((c) => c.command === `uuid_kill ${r.callId}`);
  } finally {
    await esl.close();
    await fs.close();
    d.store.close();
  }
});

Deno.test("outbound for an unknown person records nothing", async () => {
  const d = deps();
  try {
    const { accountId } = people(d.store);
    const r = await placeCall(d, { accountId, personId: "nobody", via: "freeswitch" });
    assert.ok(!r.ok && r.callId === undefined && /not found/.test(r.reason));
    assert.equal(listCalls(d.store, accountId).length, 0);
  } finally {
    d.store.close();
  }
});

const SID = "AC" + "0123456789abcdef".repeat(2);
const TOKEN = "rest-token-0123456789";

Deno.test("outbound via Twilio: the REST API gets To/From/Url/StatusCallback with basic auth; busy arrives by status callback", async () => {
  const rest = startTwilioRestStandIn({ accountSid: SID, authToken: TOKEN });
  const gw = await startGateway({
    env: {
      TOM_TWILIO_ACCOUNT_SID: SID,
      TOM_TWILIO_AUTH_TOKEN: TOKEN,
      TOM_TWILIO_FROM_NUMBER: "+4930999000",
      TOM_TWILIO_PUBLIC_URL: "https://tom.praxis.example",
      TOM_TWILIO_API_BASE: rest.base,
    },
    transports: [(app, dd, guard) => mountTwilio(app, dd, guard)],
  });
  try {
    const d: GatewayDeps = { ...deps(), config: gw.config, store: gw.store, calls: gw.calls };
    const { accountId, ids } = people(gw.store);
    const r = await placeCall(d, { accountId, personId: ids.busy, via: "twilio" });
    assert.ok(r.ok && r.status === "queued");
    assert.match(r.externalId ?? "", /^CA[0-9a-f]{32}$/);
    assert.equal(rest.requests.length, 1);
    const sent = rest.requests[0];
    assert.equal(sent.path, `/2010-04-01/Accounts/${SID}/Calls.json`);
    assert.equal(sent.authorization, "Basic " + btoa(`${SID}:${TOKEN}`));
    assert.match(sent.contentType ?? "", /application\/x-www-form-urlencoded/);
    const q = `call=${r.callId}&account=${accountId}`;
    assert.equal(sent.form.To, PHONES.busy);
    assert.equal(sent.form.From, "+4930999000");
    assert.equal(sent.form.Url, `https://tom.praxis.example/twilio/voice?${q}`);
    assert.equal(sent.form.StatusCallback, `https://tom.praxis.example/twilio/status?${q}`);
    assert.equal(getCall(gw.store, accountId, r.callId)?.status, "ringing");
    // Twilio reports the busy line to the status callback, signed.
    const params = { CallSid: r.externalId ?? "", AccountSid: SID, CallStatus: "busy" };
    const res = await fetch(`${gw.http}/twilio/status?${q}`, {
      method: "POST",
      body: new URLSearchParams(params),
      headers: {
        "X-Twilio-Signature": signLikeTwilio(TOKEN, `https://tom.praxis.example/twilio/status?${q}`, params),
      },
    });
    assert.equal(res.status, 204);
    await res.body?.cancel();
    assert.equal(getCall(gw.store, accountId, r.callId)?.status, "busy");
  } finally {
    await gw.close();
    await rest.close();
  }
});

Deno.test("outbound via Twilio: an API error and a denied egress are recorded as failures; denied sends nothing", async () => {
  const rest = startTwilioRestStandIn({
    accountSid: SID,
    authToken: TOKEN,
    error: { status: 400, code: 21211, message: "The 'To' number +4930111111 is not a valid phone number." },
  });
  const d = deps({
    TOM_TWILIO_ACCOUNT_SID: SID,
    TOM_TWILIO_AUTH_TOKEN: TOKEN,
    TOM_TWILIO_FROM_NUMBER: "+4930999000",
    TOM_TWILIO_PUBLIC_URL: "https://tom.praxis.example",
    TOM_TWILIO_API_BASE: rest.base,
  });
  try {
    const { accountId, ids } = people(d.store);
    const r = await placeCall(d, { accountId, personId: ids.ok, via: "twilio" });
    assert.ok(!r.ok && r.callId);
    const row = getCall(d.store, accountId, r.callId);
    assert.equal(row?.status, "failed");
    assert.equal(
      row?.failureReason,
      "Twilio API refused the call: 400 The 'To' number <number> is not a valid phone number. (code 21211)",
    );
    const hosts: string[] = [];
    const denied = await placeCall(d, { accountId, personId: ids.ok, via: "twilio" }, {
      netAllowed: (h) => (hosts.push(h), Promise.resolve(false)),
    });
    assert.ok(!denied.ok && denied.callId);
    assert.equal(denied.reason, TWILIO_EGRESS_DENIED);
    assert.deepEqual(hosts, [new URL(rest.base).host]);
    assert.equal(getCall(d.store, accountId, denied.callId)?.failureReason, TWILIO_EGRESS_DENIED);
    assert.equal(rest.requests.length, 1, "the denied call never reached the API");
    const unconfigured = await placeCall(deps(), { accountId: "x", personId: "y", via: "twilio" });
    assert.equal(unconfigured.ok, false);
  } finally {
    await rest.close();
    d.store.close();
  }
});

Deno.test("under tom serve's own permission flags, Twilio's API host is refused by the egress policy and loopback is allowed", async () => {
  const rest = startTwilioRestStandIn({ accountSid: "AC" + "a".repeat(32), authToken: "token" });
  const dataDir = await Deno.makeTempDir();
  try {
    const config = loadConfig({
      env: { TOM_DATA_DIR: dataDir, TOM_HTTP_PORT: String(freePort()), TOM_MANAGE_ENGINES: "false" },
    });
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        ...servePermissionFlags(config),
        new URL("../fixtures/twilio_egress_probe.ts", import.meta.url).pathname,
      ],
      env: cleanEnv({ STANDIN_BASE: rest.base }),
      clearEnv: true,
      cwd: ROOT,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stdout = new TextDecoder().decode(out.stdout);
    const m = /TWILIO_EGRESS (.*)/.exec(stdout);
    assert.ok(m, `no probe output; stderr:\n${new TextDecoder().decode(out.stderr)}`);
    const { denied, allowed } = JSON.parse(m[1]);
    assert.equal(denied.ok, false);
    assert.equal(denied.reason, TWILIO_EGRESS_DENIED);
    assert.equal(allowed.ok, true, JSON.stringify(allowed));
    assert.equal(rest.requests.length, 1);
  } finally {
    await rest.close();
    await Deno.remove(dataDir, { recursive: true });
  }
});
