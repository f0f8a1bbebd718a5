/**
 * The AMI client (gateway/asterisk/ami.ts, ami_wire.ts) against a local stand-in that speaks the documented
 * AMI framing (banner, `Key: value` lines, empty line; `Response`/`ActionID`; list actions with
 * `EventList: start` ... `EventList: Complete`): login, correlation, list events, events to listeners,
 * reconnect after a drop, a peer that sends an endless line or no banner, header injection, close.
 * The real Asterisk is in tests/e2e/asterisk_transfer_test.ts.
 *
 * @module
 */
import assert from "node:assert/strict";
import { AmiClient, type AmiMessage, AmiUnavailableError } from "../../../gateway/asterisk/ami.ts";
import { AmiParser, encodeAction, MAX_AMI_LINE_BYTES } from "../../../gateway/asterisk/ami_wire.ts";
import { createLogger } from "../../../infra/mod.ts";

const log = createLogger({ salt: "s", level: "error", sink: () => {} });
const enc = new TextEncoder();

function block(fields: Record<string, string>): string {
  return Object.entries(fields).map(([k, v]) => `${k}: ${v}\r\n`).join("") + "\r\n";
}

/** A stand-in AMI server: banner, Login (secret "pw"), Ping, Status (a list), and a hook per action. */
function standIn(opts: { banner?: string; onConn?: (c: Deno.TcpConn) => void } = {}) {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const conns = new Set<Deno.TcpConn>();
  const actions: AmiMessage[] = [];
  const serve = (async () => {
    for await (const conn of listener) {
      conns.add(conn);
      (async () => {
        await conn.write(enc.encode(opts.banner ?? "Asterisk Call Manager/9.0.0\r\n"));
        opts.onConn?.(conn);
        const parser = new AmiParser();
        parser.push(enc.encode("Asterisk Call Manager/9.0.0\r\n"));
        const buf = new Uint8Array(4096);
        for (;;) {
          const n = await conn.read(buf).catch(() => null);
          if (n === null) break;
          for (const a of parser.push(buf.subarray(0, n))) {
            actions.push(a);
            const id = a.ActionID;
            let out = "";
            if (a.Action === "Login") {
              out = a.Secret === "pw"
                ? block({ Response: "Success", ActionID: id, Message: "Authentication accepted" })
                : block({ Response: "Error", ActionID: id, Message: "Authentication failed" });
            } else if (a.Action === "Status") {
              out = block({ Response: "Success", ActionID: id, EventList: "start" }) +
                block({ Event: "Hangup", Channel: "X/1", Cause: "16" }) + // unrelated event in between
                block({ Event: "Status", ActionID: id, Channel: "Local/a;2", Application: "AudioSocket" }) +
                block({ Event: "Status", ActionID: id, Channel: "Local/b;2", Application: "Dial" }) +
                block({ Event: "StatusComplete", ActionID: id, EventList: "Complete", Items: "2" });
            } else if (a.Action === "Ping") {
              // Split across writes, coalesced with an event.
              const text = block({ Response: "Success", ActionID: id, Ping: "Pong" }) +
                block({ Event: "DialEnd", Channel: "Local/a;2", DialStatus: "BUSY" });
              await conn.write(enc.encode(text.slice(0, 7)));
              out = text.slice(7);
            }
            if (out) await conn.write(enc.encode(out)).catch(() => 0);
          }
        }
        conns.delete(conn);
      })();
    }
  })();
  return {
    port: (listener.addr as Deno.NetAddr).port,
    actions,
    conns,
    dropAll() {
      for (const c of conns) c.close();
      conns.clear();
    },
    async close() {
      listener.close();
      for (const c of conns) c.close();
      await serve.catch(() => {});
    },
  };
}

async function until(f: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!f() && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
  assert.ok(f(), "condition not met in time");
}

Deno.test("AMI: login, ActionID correlation, list events, events to listeners", async () => {
  const s = standIn();
  const ami = new AmiClient({ host: "127.0.0.1", port: s.port, username: "tom", secret: "pw", log });
  try {
    assert.equal(await ami.ready(2000), true);
    const login = s.actions.find((a) => a.Action === "Login");
    assert.deepEqual(
      login && { u: login.Username, s: login.Secret, e: login.Events },
      { u: "tom", s: "pw", e: "on" },
    );
    const events: AmiMessage[] = [];
    ami.onEvent((e) => events.push(e));
    const [status, ping] = await Promise.all([
      ami.action({ Action: "Status" }),
      ami.action({ Action: "Ping" }),
    ]);
    assert.equal(status.response.Response, "Success");
    assert.deepEqual(status.events.map((e) => e.Channel), ["Local/a;2", "Local/b;2"]);
    assert.equal(ping.response.Ping, "Pong");
    assert.deepEqual(events.map((e) => e.Event), ["Hangup", "DialEnd"]);
    assert.notEqual(status.response.ActionID, ping.response.ActionID);
  } finally {
    await ami.close();
    await s.close();
  }
});

Deno.test("AMI: a wrong secret is reported; actions while down fail at once, not queued", async () => {
  const s = standIn();
  const ami = new AmiClient({ host: "127.0.0.1", port: s.port, username: "tom", secret: "bad", log });
  try {
    assert.equal(await ami.ready(2000), false);
    assert.match(ami.lastError ?? "", /login refused: Authentication failed/);
    await assert.rejects(ami.action({ Action: "Ping" }), AmiUnavailableError);
  } finally {
    await ami.close();
    await s.close();
  }
});

Deno.test("AMI: reconnects with backoff after a drop, and pending actions fail", async () => {
  const s = standIn();
  const ami = new AmiClient({
    host: "127.0.0.1",
    port: s.port,
    username: "tom",
    secret: "pw",
    log,
    minBackoffMs: 20,
  });
  try {
    assert.equal(await ami.ready(2000), true);
    s.dropAll();
    await until(() => ami.state !== "connected");
    await until(() => ami.state === "connected");
    assert.equal((await ami.action({ Action: "Ping" })).response.Ping, "Pong");
    assert.equal(s.actions.filter((a) => a.Action === "Login").length, 2);
  } finally {
    await ami.close();
    await s.close();
  }
  assert.equal(ami.state, "closed");
  await assert.rejects(ami.action({ Action: "Ping" }), AmiUnavailableError);
});

Deno.test("AMI: a peer sending an endless line or no banner is dropped, memory stays bounded", async () => {
  const huge = standIn({
    onConn: (c) => {
      // An endless header line: more than the cap, in pieces.
      const chunk = enc.encode("X".repeat(4096));
      (async () => {
        for (let i = 0; i < 64; i++) if ((await c.write(chunk).catch(() => -1)) < 0) return;
      })();
    },
  });
  const ami = new AmiClient({ host: "127.0.0.1", port: huge.port, username: "tom", secret: "pw", log });
  try {
    ami.start();
    await until(() => /line exceeds/.test(ami.lastError ?? ""));
    assert.notEqual(ami.state, "connected");
  } finally {
    await ami.close();
    await huge.close();
  }
  const p = new AmiParser();
  assert.deepEqual(p.push(enc.encode("SSH-2.0-OpenSSH\r\n")), []);
  assert.match(p.error?.message ?? "", /no AMI banner/);
  const q = new AmiParser();
  q.push(enc.encode("Asterisk Call Manager/9.0.0\r\n"));
  assert.deepEqual(q.push(enc.encode("A".repeat(MAX_AMI_LINE_BYTES + 10))), []);
  assert.match(q.error?.message ?? "", /line exceeds/);
});

Deno.test("AMI wire: repeated keys kept, values cannot inject a header or an action", () => {
  const p = new AmiParser();
  const [banner, m] = p.push(
    enc.encode("Asterisk Call Manager/9.0.0\r\nEvent: X\r\nChanVariable: a=1\r\nChanVariable: b=2\r\n\r\n"),
  );
  assert.equal(banner.Banner, "Asterisk Call Manager/9.0.0");
  assert.equal(m.ChanVariable, "a=1\nb=2");
  assert.throws(() => encodeAction({ Action: "Redirect", Exten: "21\r\nAction: Logoff" }), RangeError);
  assert.throws(() => encodeAction({ "Bad Key": "x" }), RangeError);
  assert.equal(
    new TextDecoder().decode(encodeAction({ Action: "Ping", ActionID: "1" })),
    "Action: Ping\r\nActionID: 1\r\n\r\n",
  );
});
