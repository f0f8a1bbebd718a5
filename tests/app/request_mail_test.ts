// app/request_mail.ts: the e-mail notice of a new request says only that something new is waiting and
// links to it, checked on the mail a real SMTP server process received; a relay that is down costs one
// warning, the notice is retried and arrives once a server listens on that port; the queue is bounded.
import assert from "node:assert/strict";
import { loadConfig } from "../../infra/config.ts";
import { createLogger, type Logger } from "../../infra/log.ts";
import { createMailTransport, type MailMessage, type MailTransport } from "../../infra/mail.ts";
import { type NoticeRequest, startRequestMail } from "../../app/request_mail.ts";
import { startSmtpServer } from "../_rigs/smtp_server.ts";
import { freePort } from "../_helpers.ts";

const PUBLIC = "https://tom.praxis.example";

function config(port: number, extra: Record<string, string> = {}) {
  return loadConfig({
    env: {
      TOM_MAIL_SMTP_HOST: "127.0.0.1",
      TOM_MAIL_SMTP_PORT: String(port),
      TOM_MAIL_SECURITY: "none",
      TOM_MAIL_FROM: "tom@praxis.example",
      TOM_MAIL_TO: "team@praxis.example",
      TOM_MAIL_PUBLIC_URL: PUBLIC,
      ...extra,
    },
  });
}

function collectingLogger(): { log: Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  return { log: createLogger({ salt: "s", level: "debug", sink: (l) => lines.push(JSON.parse(l)) }), lines };
}

/** Poll until `cond` holds (a hung test fails after 30 s; no assertion on how long it took). */
async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 3000 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(cond(), `timed out waiting for ${what}`);
}

/** A request as the store holds it: the notice must use none of its personal fields. */
const STORED = {
  id: "3f2b8c1e-7a9d-4e21-9c0f-5b6a7d8e9f10",
  kind: "prescription",
  urgency: "urgent" as const,
  callerName: "Erika Mustermann",
  callbackNumber: "+4930123456789",
  summary: "Rezept für Metformin, Blutzucker seit Tagen über 300",
};

Deno.test("mail off: startRequestMail returns null", () => {
  assert.equal(startRequestMail(loadConfig({ env: {} }), collectingLogger().log), null);
});

Deno.test("the notice a real SMTP server receives: subject and link only, no name, number, kind or health data", async () => {
  const server = await startSmtpServer(freePort());
  const mail = startRequestMail(config(server.port), collectingLogger().log);
  assert.ok(mail);
  try {
    const stored: NoticeRequest = STORED;
    mail.notify("acct-1", stored);
    mail.notify("acct-1", { id: "req-2", kind: "callback", urgency: "normal" });
    const [urgent, normal] = await server.waitFor(2);
    assert.deepEqual(urgent.to, ["team@praxis.example"]);
    assert.match(urgent.raw, /^Subject: Neues Anliegen \(dringend\) in TOM\r$/m);
    assert.match(normal.raw, /^Subject: Neues Anliegen in TOM\r$/m);
    const body = (raw: string) => raw.slice(raw.indexOf("\r\n\r\n")).replace(/=\r\n/g, "");
    assert.ok(body(urgent.raw).includes(`${PUBLIC}/requests/${STORED.id}`), urgent.raw);
    assert.ok(body(normal.raw).includes(`${PUBLIC}/requests/req-2`), normal.raw);
    for (const raw of [urgent.raw, normal.raw]) {
      for (const personal of ["Erika", "Mustermann", "Metformin", "Blutzucker", "Rezept", "prescription"]) {
        assert.ok(!raw.includes(personal), `"${personal}" leaked into the mail:\n${raw}`);
      }
      for (const digits of ["123456789", "4930", "030 123", "0301234"]) {
        assert.ok(!raw.replace(/\s/g, " ").includes(digits), `number ${digits} leaked:\n${raw}`);
      }
    }
  } finally {
    await mail.close();
    await server.close();
  }
});

Deno.test("relay down: request notices are kept, one warning, retried until a server listens, one info", async () => {
  const port = freePort();
  const cfg = config(port);
  const real = createMailTransport(cfg);
  assert.ok(real);
  let attempts = 0;
  const counting: MailTransport = {
    send: (m: MailMessage) => {
      attempts++;
      return real.send(m);
    },
    close: () => real.close(),
  };
  const { log, lines } = collectingLogger();
  const mail = startRequestMail(cfg, log, { transport: counting, retryMinMs: 20, retryMaxMs: 100 });
  assert.ok(mail);
  let server;
  try {
    assert.doesNotThrow(() => mail.notify("acct-1", STORED));
    mail.notify("acct-1", { id: "req-2", kind: "callback", urgency: "normal" });
    await until(() => attempts >= 4, "four failed attempts");
    const warnings = () => lines.filter((l) => l.level === "warn");
    assert.equal(warnings().length, 1, JSON.stringify(lines));
    assert.match(String(warnings()[0].message), /mail relay unreachable/);
    server = await startSmtpServer(port);
    const received = await server.waitFor(2);
    assert.match(received[0].raw, /^Subject: Neues Anliegen \(dringend\) in TOM\r$/m);
    assert.match(received[1].raw, /^Subject: Neues Anliegen in TOM\r$/m);
    await until(() => lines.some((l) => l.message === "mail relay reachable again"), "the recovery line");
    const info = lines.find((l) => l.message === "mail relay reachable again");
    assert.equal(info?.sentLate, 2);
    assert.equal(info?.dropped, 0);
    assert.equal(warnings().length, 1, "exactly one warning per outage");
  } finally {
    await mail.close();
    await server?.close();
  }
});

Deno.test("queue bound: beyond maxPending the oldest notice is dropped and counted; close stops retrying", async () => {
  let up = false;
  const sent: MailMessage[] = [];
  let attempts = 0;
  const transport: MailTransport = {
    send(m) {
      attempts++;
      if (!up) return Promise.reject(new Error("connect ECONNREFUSED"));
      sent.push(m);
      return Promise.resolve();
    },
    close() {},
  };
  const { log, lines } = collectingLogger();
  const mail = startRequestMail(config(25), log, {
    transport,
    retryMinMs: 10,
    retryMaxMs: 20,
    maxPending: 3,
  });
  assert.ok(mail);
  for (let i = 1; i <= 5; i++) mail.notify("acct-1", { id: `r${i}`, kind: "other", urgency: "normal" });
  await until(() => attempts >= 3, "retries");
  assert.equal(lines.filter((l) => l.level === "warn").length, 2, "outage + queue full, once each");
  up = true;
  await until(() => sent.length === 3, "the queued notices");
  assert.deepEqual(sent.map((m) => m.text.match(/requests\/(\w+)/)?.[1]), ["r3", "r4", "r5"]);
  await until(() => lines.some((l) => l.message === "mail relay reachable again"), "recovery");
  assert.equal(lines.find((l) => l.message === "mail relay reachable again")?.dropped, 2);

  up = false;
  mail.notify("acct-1", { id: "r6", kind: "other", urgency: "urgent" });
  await until(() => attempts >= sent.length + 5, "failing again");
  await mail.close();
  const after = attempts;
  mail.notify("acct-1", { id: "r7", kind: "other", urgency: "urgent" });
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(attempts, after, "no retry and no new send after close");
});
