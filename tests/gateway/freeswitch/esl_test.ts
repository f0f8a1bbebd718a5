import assert from "node:assert/strict";
import {
  DEFAULT_ESL_EVENTS,
  EslClient,
  eslErrorCause,
  type EslEvent,
  eslOk,
  type EslStatus,
  EslTimeoutError,
  EslUnavailableError,
} from "../../../gateway/freeswitch/esl.ts";
import { EslParser, parseEventPlain } from "../../../gateway/freeswitch/esl_wire.ts";
import { type EslStandInOptions, startEslStandIn } from "../fixtures/fs_esl_server.ts";
import { freePort } from "../../_helpers.ts";

function client(port: number, extra: Partial<ConstructorParameters<typeof EslClient>[0]> = {}): EslClient {
  return new EslClient({
    host: "127.0.0.1",
    port,
    password: "ClueCon",
    initialBackoffMs: 50,
    maxBackoffMs: 400,
    random: () => 0.5,
    ...extra,
  });
}

function nextStatus(c: EslClient, state: EslStatus["state"], timeoutMs = 10_000): Promise<EslStatus> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`no ${state} within ${timeoutMs} ms (now ${c.status.state})`));
    }, timeoutMs);
    const off = c.onStatus((s) => {
      if (s.state !== state) return;
      clearTimeout(timer);
      off();
      resolve(s);
    });
  });
}

function nextEvent(c: EslClient, pred: (e: EslEvent) => boolean): Promise<EslEvent> {
  return new Promise((resolve) => {
    const off = c.onEvent((e) => {
      if (!pred(e)) return;
      off();
      resolve(e);
    });
  });
}

for (const delivery of ["whole", "split", "coalesce"] as const) {
  Deno.test(`ESL client authenticates, subscribes, correlates api and bgapi, parses events (${delivery} delivery)`, async () => {
    const jobs: Record<string, { resolve: (s: string) => void }> = {};
    const opts: EslStandInOptions = {
      delivery,
      onApi: (cmd) => cmd.startsWith("echo ") ? `+OK ${cmd.slice(5)}\n` : undefined,
      onBgapi: (cmd) => new Promise<string>((resolve) => (jobs[cmd] = { resolve })),
    };
    const fs = startEslStandIn(opts);
    const esl = client(fs.port);
    try {
      esl.start();
      await esl.ready();
      assert.equal(esl.status.state, "connected");
      assert.equal(esl.status.authFailed, false);
      const sub = fs.commands.find((c) => c.kind === "event");
      assert.ok(sub, "an event subscription was sent");
      assert.equal(sub.command, `event plain ${DEFAULT_ESL_EVENTS.join(" ")}`);

      // Several api commands in flight: answers come back in order and each reaches its caller.
      const answers = await Promise.all(
        ["echo one", "echo zwei drei", "echo ünïcødé €"].map((c) => esl.api(c)),
      );
      assert.deepEqual(answers, ["+OK one\n", "+OK zwei drei\n", "+OK ünïcødé €\n"]);
      assert.equal(await esl.api("bogus"), "-ERR command not found\n");

      // Two jobs, finished in the opposite order: correlated by Job-UUID.
      const a = esl.bgapi("originate a");
      const b = esl.bgapi("originate b");
      await fs.waitFor((c) => c.kind === "bgapi", 2);
      await new Promise((r) => setTimeout(r, 0));
      jobs["originate b"].resolve("-ERR USER_BUSY\n");
      jobs["originate a"].resolve("+OK 1234\n");
      assert.equal(await a, "+OK 1234\n");
      assert.equal(await b, "-ERR USER_BUSY\n");
      assert.ok(
        fs.commands.filter((c) => c.kind === "bgapi").every((c) => c.jobUuid && c.jobUuid.length > 10),
      );

      // Events: URL-encoded values are decoded, bodies kept.
      const got = nextEvent(esl, (e) => e.name === "CUSTOM");
      fs.emit({
        "Event-Name": "CUSTOM",
        "Event-Subclass": "mod_audio_fork::connect",
        "Unique-ID": "abc-123",
        "Caller-Caller-ID-Name": "Müller, Hans: 100% ok",
      }, '{"reason":"x y"}');
      const ev = await got;
      assert.equal(ev.subclass, "mod_audio_fork::connect");
      assert.equal(ev.uuid, "abc-123");
      assert.equal(ev.headers["Caller-Caller-ID-Name"], "Müller, Hans: 100% ok");
      assert.equal(ev.body, '{"reason":"x y"}');
    } finally {
      await esl.close();
      await fs.close();
    }
  });
}

Deno.test("ESL client reports a refused password, keeps retrying with growing backoff, and fails commands at once", async () => {
  const fs = startEslStandIn({ password: "right" });
  const esl = client(fs.port, { password: "wrong" });
  const retries: number[] = [];
  esl.onStatus((s) => {
    if (s.state === "backoff" && s.retryInMs !== undefined) retries.push(s.retryInMs);
  });
  try {
    esl.start();
    await nextStatus(esl, "backoff");
    assert.equal(esl.status.authFailed, true);
    assert.match(esl.status.lastError ?? "", /refused the event socket password/);
    await assert.rejects(esl.api("status"), (e: Error) => {
      assert.ok(e instanceof EslUnavailableError);
      assert.match(e.message, /freeswitch\.eslPassword/);
      return true;
    });
    while (retries.length < 4) await nextStatus(esl, "backoff");
    // random() = 0.5 means no jitter: 50, 100, 200, 400 (the cap), ...
    assert.deepEqual(retries.slice(0, 4), [50, 100, 200, 400]);
  } finally {
    await esl.close();
    await fs.close();
  }
  assert.equal(esl.status.state, "closed");
});

Deno.test("ESL client reconnects after a dropped connection and subscribes again", async () => {
  const fs = startEslStandIn({ onApi: () => "+OK pong\n" });
  const esl = client(fs.port);
  try {
    esl.start();
    await esl.ready();
    const down = nextStatus(esl, "backoff");
    fs.dropAll();
    const s = await down;
    assert.match(s.lastError ?? "", /closed|reset|disconnect/i);
    await assert.rejects(esl.api("ping"), EslUnavailableError);
    await nextStatus(esl, "connected");
    assert.equal(fs.connections, 2);
    assert.equal(fs.commands.filter((c) => c.kind === "event").length, 2, "subscribed again");
    assert.equal(await esl.api("ping"), "+OK pong\n");
  } finally {
    await esl.close();
    await fs.close();
  }
});

Deno.test("ESL commands pending when the connection drops are rejected, not left hanging", async () => {
  let release: (() => void) | undefined;
  const fs = startEslStandIn({ onApi: () => new Promise<string>((r) => (release = () => r("+OK late\n"))) });
  const esl = client(fs.port);
  try {
    esl.start();
    await esl.ready();
    const pending = esl.api("slow");
    const job = esl.bgapi("originate x");
    await fs.waitFor((c) => c.kind === "api");
    fs.dropAll();
    await assert.rejects(pending, EslUnavailableError);
    await assert.rejects(job, EslUnavailableError);
  } finally {
    release?.();
    await esl.close();
    await fs.close();
  }
});

Deno.test("an ESL api command without an answer times out, and later answers stay correlated", async () => {
  const held: Array<() => void> = [];
  const fs = startEslStandIn({
    onApi: (cmd) =>
      cmd === "hold" ? new Promise<string>((r) => held.push(() => r("+OK held\n"))) : `+OK ${cmd}\n`,
  });
  const esl = client(fs.port);
  try {
    esl.start();
    await esl.ready();
    await assert.rejects(esl.api("hold", 30), EslTimeoutError);
    const next = esl.api("after");
    held[0]();
    assert.equal(await next, "+OK after\n", "the late reply to the timed-out command is not misdelivered");
  } finally {
    await esl.close();
    await fs.close();
  }
});

Deno.test("ESL commands fail fast with a clear error while FreeSWITCH is unreachable", async () => {
  const port = freePort();
  const esl = client(port);
  try {
    await assert.rejects(esl.api("status"), (e: Error) => {
      assert.ok(e instanceof EslUnavailableError);
      assert.match(e.message, new RegExp(`127\\.0\\.0\\.1:${port} is idle`));
      return true;
    });
    esl.start();
    await nextStatus(esl, "backoff");
    assert.match(esl.status.lastError ?? "", /refused|connect/i);
    await assert.rejects(esl.bgapi("originate x"), (e: Error) => {
      assert.ok(e instanceof EslUnavailableError);
      assert.match(e.message, /Cannot run "originate"/);
      return true;
    });
    await assert.rejects(esl.ready(20), EslUnavailableError);
  } finally {
    await esl.close();
  }
});

Deno.test("ESL commands with line breaks are refused (no command injection)", async () => {
  const fs = startEslStandIn();
  const esl = client(fs.port);
  try {
    esl.start();
    await esl.ready();
    await assert.rejects(esl.api("uuid_kill x\n\napi shutdown"), /line break/);
    assert.throws(() => new EslClient({ host: "127.0.0.1", port: 1, password: "a\nb" }), /newline/);
  } finally {
    await esl.close();
    await fs.close();
  }
});

Deno.test("ESL parser handles every split point and several messages per chunk", () => {
  const enc = new TextEncoder();
  const body = "Event-Name: BACKGROUND_JOB\nJob-UUID: j%201\nContent-Length: 10\n\n+OK ünï\n";
  const wire = "Content-Type: auth/request\n\n" +
    "Content-Type: api/response\nContent-Length: 8\n\n+OK €\n" +
    `Content-Length: ${enc.encode(body).length}\nContent-Type: text/event-plain\n\n${body}`;
  const bytes = enc.encode(wire);
  for (let cut = 0; cut <= bytes.length; cut++) {
    const p = new EslParser();
    const msgs = [...p.push(bytes.subarray(0, cut)), ...p.push(bytes.subarray(cut))];
    assert.equal(msgs.length, 3, `cut at ${cut}`);
    assert.equal(msgs[0].contentType, "auth/request");
    assert.equal(msgs[1].body, "+OK €\n");
    const ev = parseEventPlain(msgs[2].body);
    assert.equal(ev.name, "BACKGROUND_JOB");
    assert.equal(ev.headers["Job-UUID"], "j 1");
    assert.equal(ev.body, "+OK ünï\n");
  }
  assert.throws(() => new EslParser().push(enc.encode("Content-Length: -5\n\n")), /Content-Length/);
  assert.equal(eslOk("+OK accepted"), true);
  assert.equal(eslErrorCause("-ERR USER_BUSY\n"), "USER_BUSY");
  assert.equal(eslErrorCause("+OK 1234\n"), "");
});
