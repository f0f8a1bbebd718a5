/**
 * The FreeSWITCH files in infra/deploy/freeswitch: well-formed for libxml2 (`xmllint --noout`, the parser
 * FreeSWITCH itself uses), and saying what TOM expects. The `tom` extension is read with `xmllint --xpath`
 * and played the way FreeSWITCH runs it (variables expanded, unset ones empty, the `uuid_audio_fork` API
 * call's arguments split on spaces); the resulting URL, mix, rate and metadata go to TOM's real metadata
 * parser and then, over a real WebSocket with mod_audio_fork's subprotocol, to TOM's real
 * `/ws/freeswitch` endpoint, with the event socket password taken from the shipped files on both sides.
 * Negative controls: broken XML, and dialplans with a wrong path, a space in the metadata, no uuid.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { ConfigSchema } from "../../infra/config.ts";
import { testToolMissing } from "../../infra/engines/test_tools.ts";
import {
  FREESWITCH_WS_PATH,
  FREESWITCH_WS_PROTOCOL,
  mountFreeswitch,
  TAKEN_VARIABLE,
} from "../../gateway/freeswitch/fork.ts";
import type { FreeswitchTransport } from "../../gateway/freeswitch/fork.ts";
import { type ForkMetadata, parseForkMetadata } from "../../gateway/freeswitch/meta.ts";
import type { Answerer, CallEvent } from "../../gateway/call/contract.ts";
import { startGateway } from "../gateway/server_harness.ts";
import { startEslStandIn } from "../gateway/fixtures/fs_esl_server.ts";
import { AudioForkClient } from "../gateway/fixtures/fs_audio_fork_client.ts";
import { ROOT } from "../_helpers.ts";

const CI = Deno.env.get("CI") === "true";
const DIR = join(ROOT, "infra/deploy/freeswitch");
const DIALPLAN = join(DIR, "dialplan/tom.xml");
const PUBLIC = join(DIR, "dialplan/public/00_tom.xml");
const ESL_CONF = join(DIR, "autoload_configs/event_socket.conf.xml");
const ENV_EXAMPLE = join(ROOT, "infra/deploy/systemd/tom.env.example");
/** mod_audio_fork's compiled-in subprotocol (drachtio-freeswitch-modules; protocols.md section 1). */
const MOD_AUDIO_FORK_SUBPROTOCOL = "audio.drachtio.org";
const DEFAULTS = ConfigSchema.parse({});

const missing = await testToolMissing("xmllint");
if (missing && !CI) console.error(`skipping the FreeSWITCH file checks: ${missing}`);
const ignore = missing !== undefined && !CI;

async function xmllint(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const r = await new Deno.Command("xmllint", { args, stdout: "piped", stderr: "piped", stdin: "null" })
    .output();
  const dec = new TextDecoder();
  return { code: r.code, out: dec.decode(r.stdout), err: dec.decode(r.stderr) };
}

async function xpath(file: string, expr: string): Promise<string> {
  const r = await xmllint(["--xpath", expr, file]);
  // xmllint exits 10 when an XPath selects nothing; string() always yields something.
  if (r.code !== 0) throw new Error(`xmllint --xpath ${expr} ${file} failed (${r.code}): ${r.err.trim()}`);
  return r.out.replace(/\n$/, ""); // xmllint ends a string result with a newline
}

async function xmlFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(dir)) {
    const p = join(dir, e.name);
    if (e.isDirectory) out.push(...await xmlFiles(p));
    else if (e.name.endsWith(".xml")) out.push(p);
  }
  return out.sort();
}

/** What the `tom` extension does to a call, as FreeSWITCH would run it. */
interface PlayedDialplan {
  problems: string[];
  /** `uuid_audio_fork` arguments after expansion. */
  fork?: string[];
  url?: URL;
  meta?: ForkMetadata;
}

/** Expand `${name}` the way FreeSWITCH does for channel variables (unset: empty). */
function expand(text: string, vars: Record<string, string>): string {
  return text.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, name: string) => vars[name] ?? "");
}

/**
 * Hunt `destination` in `context` as FreeSWITCH's XML dialplan does: the first extension whose conditions
 * all match (`destination_number`, or `${variable}` from `vars`) runs its actions; one whose last condition
 * fails runs that condition's anti-actions. Undefined when nothing matches.
 */
async function hunt(
  file: string,
  context: string,
  destination: string,
  vars: Record<string, string>,
): Promise<{ app: string; data: string }[] | undefined> {
  const ext = `//context[@name="${context}"]/extension`;
  const count = Number(await xpath(file, `count(${ext})`));
  for (let e = 1; e <= count; e++) {
    const cond = `${ext}[${e}]/condition`;
    const conditions = Number(await xpath(file, `count(${cond})`));
    let matched = true;
    for (let c = 1; c <= conditions && matched; c++) {
      const field = await xpath(file, `string(${cond}[${c}]/@field)`);
      const re = new RegExp(await xpath(file, `string(${cond}[${c}]/@expression)`));
      const value = field === "destination_number" ? destination : expand(field, vars);
      if (re.test(value)) continue;
      const anti = Number(await xpath(file, `count(${cond}[${c}]/anti-action)`));
      if (c === conditions && c > 1 && anti > 0) return actions(file, `${cond}[${c}]/anti-action`, anti);
      matched = false;
    }
    if (matched) {
      const path = `${cond}[${conditions}]/action`;
      return actions(file, path, Number(await xpath(file, `count(${path})`)));
    }
  }
  return undefined;
}

async function actions(file: string, path: string, n: number): Promise<{ app: string; data: string }[]> {
  const out: { app: string; data: string }[] = [];
  for (let i = 1; i <= n; i++) {
    out.push({
      app: await xpath(file, `string(${path}[${i}]/@application)`),
      data: await xpath(file, `string(${path}[${i}]/@data)`),
    });
  }
  return out;
}

/**
 * Play extension `tom` of context `tom` (as FreeSWITCH's XML dialplan would) for a channel with these
 * variables, and check the fork against what TOM accepts.
 */
async function playDialplan(file: string, channel: Record<string, string>): Promise<PlayedDialplan> {
  const problems: string[] = [];
  const base = `//context[@name="${DEFAULTS.freeswitch.context}"]/extension[@name="tom"]/condition`;
  const n = Number(await xpath(file, `count(${base}/action)`));
  if (n === 0) return { problems: [`no actions in extension tom of context ${DEFAULTS.freeswitch.context}`] };
  const vars = { ...channel };
  const done: string[] = [];
  let fork: string[] | undefined;
  for (let i = 1; i <= n; i++) {
    const app = await xpath(file, `string(${base}/action[${i}]/@application)`);
    const data = await xpath(file, `string(${base}/action[${i}]/@data)`);
    done.push(app);
    if (app !== "set") continue;
    const eq = data.indexOf("=");
    const [name, value] = [data.slice(0, eq), data.slice(eq + 1)];
    const api = /^\$\{uuid_audio_fork\((.*)\)\}$/.exec(value);
    if (api) {
      fork = expand(api[1], vars).split(" ");
      vars[name] = "+OK Success";
    } else vars[name] = expand(value, vars);
  }
  if (!fork) return { problems: ["the extension never calls uuid_audio_fork"] };
  const forkAt = done.indexOf("set", done.indexOf("answer"));
  if (done.indexOf("answer") < 0 || done.indexOf("answer") > forkAt) {
    problems.push("the call is not answered first");
  }
  // Fail-open: a short wait, then a transfer to the check that parks the call with TOM or falls back.
  const last = await xpath(file, `string(${base}/action[${n}]/@data)`);
  if (done.at(-1) !== "transfer" || done.at(-2) !== "sleep") {
    problems.push(
      `the last actions are ${done.slice(-2).join(", ")}, not sleep, transfer: no fail-open check`,
    );
  } else {
    const waitMs = Number(await xpath(file, `string(${base}/action[${n - 1}]/@data)`));
    if (!(waitMs > 0 && waitMs <= 3000)) problems.push(`the check waits ${waitMs} ms, not a few seconds`);
    const [dest, kind, context] = last.split(" ");
    if (kind !== "XML") problems.push(`the check is transferred to ${last}`);
    const taken = await hunt(file, context, dest, { ...vars, [TAKEN_VARIABLE]: "true" });
    if (taken?.[0]?.app !== "park") {
      problems.push(`TOM took the call but it is not parked: ${JSON.stringify(taken)}`);
    }
    const untaken = await hunt(file, context, dest, vars);
    const to = untaken?.[0]?.app === "transfer" ? untaken[0].data.split(" ") : [];
    const fallback = to.length === 3 ? await hunt(file, to[2], to[0], vars) : undefined;
    if (!fallback?.some((a) => a.app === "bridge")) {
      problems.push(
        `a call TOM did not take reaches no fallback that rings a person: ${JSON.stringify(untaken)}`,
      );
    }
  }
  // uuid_audio_fork <uuid> start <url> <mix> <rate> [bugname] [metadata]
  if (fork.length !== 7) {
    problems.push(`uuid_audio_fork gets ${fork.length} arguments, not 7 (a space in the metadata splits it)`);
    return { problems, fork };
  }
  const [uuid, verb, rawUrl, mix, rate, bug, metadata] = fork;
  if (uuid !== channel.uuid) problems.push(`the fork names channel ${uuid}, not ${channel.uuid}`);
  if (verb !== "start") problems.push(`the fork verb is ${verb}`);
  if (bug !== "tom") problems.push(`the bug name is ${bug}`);
  let url: URL | undefined;
  try {
    url = new URL(rawUrl);
  } catch {
    problems.push(`not a URL: ${rawUrl}`);
  }
  if (url) {
    if (url.protocol !== "ws:") problems.push(`the URL scheme is ${url.protocol}`);
    if (url.pathname !== FREESWITCH_WS_PATH) {
      problems.push(`the URL path is ${url.pathname}, TOM serves ${FREESWITCH_WS_PATH}`);
    }
    if (url.hostname !== DEFAULTS.http.host || Number(url.port) !== DEFAULTS.http.port) {
      problems.push(
        `the URL reaches ${url.host}, TOM listens on ${DEFAULTS.http.host}:${DEFAULTS.http.port}`,
      );
    }
  }
  if (!metadata.startsWith("{")) problems.push("mod_audio_fork takes metadata only when it starts with {");
  const meta = parseForkMetadata(metadata, url?.searchParams);
  if ("error" in meta) {
    problems.push(`TOM refuses the metadata: ${meta.error}`);
    return { problems, fork, url };
  }
  if (meta.uuid !== channel.uuid) problems.push(`the metadata's uuid is ${meta.uuid}, not ${channel.uuid}`);
  if (meta.mix !== mix) problems.push(`the metadata says mix ${meta.mix}, the fork sends ${mix}`);
  if (`${meta.rate / 1000}k` !== rate) {
    problems.push(`the metadata says rate ${meta.rate}, the fork sends ${rate}`);
  }
  if (mix !== "mono") problems.push(`mix ${mix}: TOM would hear itself or a second channel`);
  return { problems, fork, url, meta };
}

/** A copy of the dialplan with `from` replaced by `to`, for the negative controls. */
async function mutated(from: string, to: string): Promise<string> {
  const text = await Deno.readTextFile(DIALPLAN);
  assert.ok(text.includes(from), `the dialplan no longer contains ${from}`);
  const file = await Deno.makeTempFile({ suffix: ".xml" });
  await Deno.writeTextFile(file, text.replace(from, to));
  return file;
}

const INBOUND = {
  uuid: "5f0c9a3e-1b2d-4c8e-9a7f-0123456789ab",
  caller_id_number: "+4930123456",
  destination_number: "tom",
};

Deno.test({
  name: "xmllint accepts every shipped FreeSWITCH XML file and rejects a broken one",
  ignore,
  async fn() {
    assert.equal(missing, undefined, missing ?? "");
    const files = await xmlFiles(DIR);
    assert.deepEqual(files.map((f) => f.slice(DIR.length + 1)), [
      "autoload_configs/event_socket.conf.xml",
      "dialplan/public/00_tom.xml",
      "dialplan/tom.xml",
      "dialplan/tom_transfer.xml",
    ]);
    for (const f of files) {
      const r = await xmllint(["--noout", f]);
      assert.equal(r.code, 0, `${f}: ${r.err}`);
      assert.equal(r.err, "", f);
    }
    const broken = await mutated("</extension>", "</extensoin>");
    try {
      const r = await xmllint(["--noout", broken]);
      assert.notEqual(r.code, 0);
      assert.match(r.err, /Opening and ending tag mismatch: extension/);
    } finally {
      await Deno.remove(broken);
    }
  },
});

Deno.test({
  name:
    "the tom extension answers, forks mono 16 kHz to TOM's /ws/freeswitch with metadata TOM's parser accepts, parks a call TOM took and sends one it did not to the fallback",
  ignore,
  async fn() {
    const inbound = await playDialplan(DIALPLAN, INBOUND);
    assert.deepEqual(inbound.problems, []);
    assert.deepEqual(inbound.meta, {
      uuid: INBOUND.uuid,
      caller: "+4930123456",
      callee: "tom",
      tomCallId: undefined,
      tomAccountId: undefined,
      rate: 16000,
      mix: "mono",
    });
    // An outbound call: `originate {..,tom_call_id=..,tom_account_id=..}... tom XML tom` sets both.
    const outbound = await playDialplan(DIALPLAN, {
      ...INBOUND,
      tom_call_id: "c_0123456789abcdef",
      tom_account_id: "a_default",
    });
    assert.deepEqual(outbound.problems, []);
    assert.equal(outbound.meta?.tomCallId, "c_0123456789abcdef");
    assert.equal(outbound.meta?.tomAccountId, "a_default");
    // A caller ID that smuggles in a key of its own cannot redirect TOM to another channel: the metadata
    // names the uuid twice and TOM refuses it outright.
    const hostile = await playDialplan(DIALPLAN, {
      ...INBOUND,
      caller_id_number: '1","uuid":"00000000-dead-beef-0000-000000000000',
    });
    assert.equal(hostile.meta, undefined);
    assert.ok(hostile.problems.some((p) => p.includes("more than once")), hostile.problems.join("; "));
  },
});

Deno.test({
  name: "a dialplan with a wrong path, a space in the metadata or no uuid is reported",
  ignore,
  async fn() {
    const cases: [string, string, RegExp][] = [
      ["8080/ws/freeswitch mono", "8080/ws/fs mono", /the URL path is \/ws\/fs, TOM serves \/ws\/freeswitch/],
      ["&quot;rate&quot;:16000", "&quot;rate&quot;: 16000", /uuid_audio_fork gets 8 arguments, not 7/],
      [
        "&quot;uuid&quot;:",
        "&quot;id&quot;:",
        /TOM refuses the metadata: the metadata has no valid channel uuid/,
      ],
      ["freeswitch mono 16k", "freeswitch mixed 16k", /the metadata says mix mono, the fork sends mixed/],
      ['<action application="park" />', "", /TOM took the call but it is not parked/],
      ['<action application="sleep" data="2000" />', "", /not sleep, transfer: no fail-open check/],
      ['data="2000"', 'data="960000"', /the check waits 960000 ms, not a few seconds/],
      [
        'data="fallback XML tom_fallback"',
        'data="fallback XML nowhere"',
        /reaches no fallback that rings a person/,
      ],
    ];
    for (const [from, to, expected] of cases) {
      const file = await mutated(from, to);
      try {
        const played = await playDialplan(file, INBOUND);
        assert.ok(
          played.problems.some((p) => expected.test(p)),
          `${from} -> ${to}: ${played.problems.join("; ")}`,
        );
      } finally {
        await Deno.remove(file);
      }
    }
  },
});

Deno.test({
  name:
    "outbound originate and inbound transfer land on the tom extension; the event socket matches TOM's defaults",
  ignore,
  async fn() {
    // gateway/outbound/place.ts dials `... tom XML <freeswitch.context>`: destination "tom" in that context.
    const contexts = await xpath(DIALPLAN, "string(//context/@name)");
    assert.equal(contexts, DEFAULTS.freeswitch.context);
    const expr = await xpath(
      DIALPLAN,
      'string(//extension[@name="tom"]/condition[@field="destination_number"]/@expression)',
    );
    assert.match("tom", new RegExp(expr));
    const first = await hunt(DIALPLAN, DEFAULTS.freeswitch.context, "tom", {});
    assert.equal(
      first?.[0]?.app,
      "answer",
      "destination tom runs extension tom (the check comes first but only for tom_taken)",
    );
    const transfer = await xpath(
      PUBLIC,
      'string(//extension[@name="tom_inbound"]//action[@application="transfer"]/@data)',
    );
    assert.equal(transfer, `$1 XML ${DEFAULTS.freeswitch.context}`);
    const param = (name: string) =>
      xpath(
        ESL_CONF,
        `string(//configuration[@name="event_socket.conf"]/settings/param[@name="${name}"]/@value)`,
      );
    assert.equal(await param("listen-ip"), DEFAULTS.freeswitch.eslHost);
    assert.equal(Number(await param("listen-port")), DEFAULTS.freeswitch.eslPort);
    assert.equal(await param("apply-inbound-acl"), "loopback.auto");
    const env = await Deno.readTextFile(ENV_EXAMPLE);
    assert.match(env, new RegExp(`^TOM_FREESWITCH_ESL_PASSWORD=${await param("password")}$`, "m"));
    assert.notEqual(
      await param("password"),
      "ClueCon",
      "the shipped password must not be FreeSWITCH's well-known default",
    );
    assert.equal(MOD_AUDIO_FORK_SUBPROTOCOL, FREESWITCH_WS_PROTOCOL);
    assert.match(
      await Deno.readTextFile(join(DIR, "README.md")),
      new RegExp(FREESWITCH_WS_PROTOCOL.replaceAll(".", "\\.")),
    );
  },
});

Deno.test({
  name:
    "TOM's real /ws/freeswitch takes the dialplan's fork, and its event socket logs in with the shipped password",
  ignore,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const password = await xpath(ESL_CONF, 'string(//param[@name="password"]/@value)');
    const tomPassword = /^TOM_FREESWITCH_ESL_PASSWORD=(.*)$/m.exec(await Deno.readTextFile(ENV_EXAMPLE))?.[1];
    const esl = startEslStandIn({ password, playbackSpeed: 0.02 });
    const events: CallEvent[] = [];
    const answer: Answerer = () => ({ handle: (e) => void events.push(e) });
    let fs: FreeswitchTransport | undefined;
    const gw = await startGateway({
      answer,
      env: {
        TOM_FREESWITCH_ESL_PORT: String(esl.port),
        TOM_FREESWITCH_ESL_PASSWORD: tomPassword ?? "",
      },
      transports: [(app, deps, guard) => (fs = mountFreeswitch(app, deps, guard))],
    });
    try {
      assert.ok(fs);
      await fs.esl.ready();
      const played = await playDialplan(DIALPLAN, INBOUND);
      assert.deepEqual(played.problems, []);
      const url = played.url as URL;
      const [, , , , , , metadata] = played.fork as string[];
      // The same path and query on the test server's port (the dialplan's port is TOM's default).
      const fork = new AudioForkClient(`${gw.ws}${url.pathname}${url.search}`, MOD_AUDIO_FORK_SUBPROTOCOL);
      await fork.opened;
      assert.equal(fork.socket.protocol, MOD_AUDIO_FORK_SUBPROTOCOL);
      fork.metadata(metadata);
      fork.pcm(new Int16Array(16000 / 10), [640]); // 100 ms of 16 kHz L16 in 20 ms frames
      const deadline = Date.now() + 10_000;
      while (!events.some((e) => e.type === "audio") && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 10));
      }
      const start = events.find((e) => e.type === "start");
      assert.ok(start, `TOM did not start a call: ${JSON.stringify(gw.logs.slice(-5))}`);
      assert.equal(start.meta.uuid, INBOUND.uuid);
      assert.ok(events.some((e) => e.type === "audio"), "TOM received no audio");
      fork.gracefulShutdown();
      await fork.closed;

      // Negative control: the fork of a dialplan without the uuid is refused with 1008.
      const broken = await mutated("&quot;uuid&quot;:", "&quot;id&quot;:");
      try {
        const bad = await playDialplan(broken, INBOUND);
        const refused = new AudioForkClient(`${gw.ws}${FREESWITCH_WS_PATH}`, MOD_AUDIO_FORK_SUBPROTOCOL);
        await refused.opened;
        refused.metadata((bad.fork as string[])[6]);
        assert.equal((await refused.closed).code, 1008);
      } finally {
        await Deno.remove(broken);
      }
    } finally {
      await gw.close();
      await esl.close();
    }
  },
});
