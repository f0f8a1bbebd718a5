/**
 * A real `tom serve` child process for tests that need the whole appliance (restart after SIGKILL, a full
 * disk): echo answering stage, no engines, one data directory; waits until `/healthz` answers.
 *
 * @module
 */
import { cleanEnv, freePort, MAIN, ROOT } from "../_helpers.ts";
import {
  signLikeTwilio,
  TwilioStreamClient,
  twimlParameters,
} from "../gateway/fixtures/twilio_stream_client.ts";

/** Twilio's settings for {@linkcode startServe}'s `env`, so tests can place calls with {@linkcode twilioCall}. */
export const TWILIO_ENV: Readonly<Record<string, string>> = {
  TOM_TWILIO_AUTH_TOKEN: "twilio-test-auth-token-0123456789",
  TOM_TWILIO_PUBLIC_URL: "https://tom.praxis.example",
};

/** A running `tom serve`. */
export interface ServeChild {
  port: number;
  base: string;
  child: Deno.ChildProcess;
  /** Everything it wrote to stderr (complete once it has exited). */
  stderr: Promise<string>;
  /** SIGKILL: no drain, no clean close (what a crash or the OOM killer does). */
  kill(): Promise<Deno.CommandStatus>;
  /** SIGTERM and wait (idempotent); SIGKILL if it does not stop within 30 s. */
  stop(): Promise<Deno.CommandStatus>;
}

/** Start `tom serve` on `dataDir` (engines off, echo answerer) and wait for `/healthz`. */
export async function startServe(dataDir: string, env: Record<string, string> = {}): Promise<ServeChild> {
  const port = freePort();
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, "serve"],
    cwd: ROOT,
    clearEnv: true,
    env: cleanEnv({
      TOM_DATA_DIR: dataDir,
      TOM_HTTP_PORT: String(port),
      TOM_AUDIOSOCKET_PORT: String(freePort()),
      TOM_MANAGE_ENGINES: "false",
      TOM_STT_KIND: "none",
      TOM_LLM_KIND: "none",
      TOM_TTS_KIND: "none",
      TOM_ANSWER: "echo",
      TOM_RL_ANALYSIS: "false",
      TOM_LOG_HASH_SALT: "test-salt",
      ...env,
    }),
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const stderr = new Response(child.stderr).text();
  const base = `http://127.0.0.1:${port}`;
  let status: Promise<Deno.CommandStatus> | undefined;
  const done = () => (status ??= child.status);
  const stop = async () => {
    try {
      child.kill("SIGTERM");
    } catch { /* already stopped */ }
    const timer = setTimeout(() => {
      try {
        child.kill("SIGKILL");
      } catch { /* already stopped */ }
    }, 30_000);
    try {
      return await done();
    } finally {
      clearTimeout(timer);
    }
  };
  const kill = async () => {
    try {
      child.kill("SIGKILL");
    } catch { /* already stopped */ }
    return await done();
  };
  let up = false;
  for (let i = 0; i < 1200 && !up; i++) {
    up = await fetch(`${base}/healthz`).then(async (r) => (await r.body?.cancel(), r.ok), () => false);
    if (!up) await new Promise((r) => setTimeout(r, 100));
  }
  if (!up) {
    await stop();
    throw new Error(`tom serve did not answer /healthz:\n${(await stderr).slice(-4000)}`);
  }
  return { port, base, child, stderr, kill, stop };
}

/** A browser's cookies, kept by name (attributes ignored: the tests talk plain HTTP to loopback). */
export class Jar {
  #cookies = new Map<string, string>();
  /** The Cookie header to send. */
  header(): string {
    return [...this.#cookies].map(([k, v]) => `${k}=${v}`).join("; ");
  }
  /** Keep what the response sets. */
  keep(res: Response): void {
    for (const sc of res.headers.getSetCookie()) {
      const [pair] = sc.split(";");
      const i = pair.indexOf("=");
      this.#cookies.set(pair.slice(0, i), pair.slice(i + 1));
    }
  }
}

/** GET a form page and POST it with its CSRF token, as a browser would; returns the POST's response. */
export async function postForm(
  base: string,
  jar: Jar,
  path: string,
  fields: Record<string, string>,
): Promise<Response> {
  const page = await fetch(`${base}${path}`, { headers: { cookie: jar.header() } });
  jar.keep(page);
  const csrf = /name="_csrf" value="([^"]+)"/.exec(await page.text())?.[1] ?? "";
  const res = await fetch(`${base}${path}`, {
    method: "POST",
    redirect: "manual",
    headers: { "content-type": "application/x-www-form-urlencoded", cookie: jar.header(), origin: base },
    body: new URLSearchParams({ ...fields, _csrf: csrf }),
  });
  jar.keep(res);
  return res;
}

/** Log in through the login form; throws unless it redirects (303). */
export async function login(base: string, jar: Jar, email: string, password: string): Promise<void> {
  const res = await postForm(base, jar, "/login", { email, password });
  await res.body?.cancel();
  if (res.status !== 303) throw new Error(`login failed: ${res.status}`);
}

/**
 * An inbound call as Twilio places it (TOM started with {@linkcode TWILIO_ENV}): the signed voice webhook,
 * then the signed Media Stream with the TwiML's parameters (the caller's number and the call token).
 * Returns the stream, after `start`; the caller sends media and hangs up through it.
 */
export async function twilioCall(serve: ServeChild, from: string): Promise<TwilioStreamClient> {
  const token = TWILIO_ENV.TOM_TWILIO_AUTH_TOKEN;
  const pub = TWILIO_ENV.TOM_TWILIO_PUBLIC_URL;
  const callSid = "CA" + crypto.randomUUID().replaceAll("-", "");
  const params = { AccountSid: "AC" + "0".repeat(32), CallSid: callSid, From: from, To: "+4930999999" };
  const voice = await fetch(`${serve.base}/twilio/voice`, {
    method: "POST",
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      "x-twilio-signature": signLikeTwilio(token, `${pub}/twilio/voice`, params),
    },
    body: new URLSearchParams(params),
  });
  const xml = await voice.text();
  if (voice.status !== 200) throw new Error(`voice webhook: ${voice.status} ${xml}`);
  const client = new TwilioStreamClient(`ws://127.0.0.1:${serve.port}/twilio/stream`, {
    callSid,
    headers: { "x-twilio-signature": signLikeTwilio(token, `${pub.replace(/^http/, "ws")}/twilio/stream`) },
  });
  await client.opened;
  client.connected();
  client.start(twimlParameters(xml));
  return client;
}
