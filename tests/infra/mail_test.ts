// infra/mail.ts against a real SMTP server process (tests/_rigs/smtp_server.ts), the mail keys of the
// configuration, and the egress sandbox: the relay's host:port is granted when e-mail is configured, nothing
// when it is not, and that one grant is enough to send.
import assert from "node:assert/strict";
import { ConfigError, loadConfig, redactConfig } from "../../infra/config.ts";
import { createMailTransport } from "../../infra/mail.ts";
import { allowedNetHosts, servePermissionFlags } from "../../infra/permissions.ts";
import { startSmtpServer } from "../_rigs/smtp_server.ts";
import { cleanEnv, freePort, ROOT } from "../_helpers.ts";

const mailEnv = (port: number, extra: Record<string, string> = {}) => ({
  TOM_MAIL_SMTP_HOST: "127.0.0.1",
  TOM_MAIL_SMTP_PORT: String(port),
  TOM_MAIL_SECURITY: "none",
  TOM_MAIL_FROM: "tom@praxis.example",
  TOM_MAIL_TO: "team@praxis.example, chefin@praxis.example",
  ...extra,
});

Deno.test("e-mail is off by default: no transport", () => {
  assert.equal(createMailTransport(loadConfig({ env: {} })), null);
});

Deno.test("mail keys: a relay without recipients or with a bad address is refused naming the variable", () => {
  assert.throws(() => loadConfig({ env: { TOM_MAIL_SMTP_HOST: "relay.praxis.example" } }), (e: unknown) => {
    assert.ok(e instanceof ConfigError);
    assert.match(e.message, /mail\.to \(TOM_MAIL_TO\): must name at least one recipient/);
    return true;
  });
  assert.throws(
    () => loadConfig({ env: { TOM_MAIL_SMTP_HOST: "relay.praxis.example", TOM_MAIL_TO: "kein-mail" } }),
    /TOM_MAIL_TO \(mail\.to\)/,
  );
  assert.throws(() => loadConfig({ env: { TOM_MAIL_SECURITY: "ssl3" } }), /TOM_MAIL_SECURITY/);
  assert.throws(() => loadConfig({ env: { TOM_MAIL_PUBLIC_URL: "ftp://x" } }), /TOM_MAIL_PUBLIC_URL/);
});

Deno.test("the relay password is a secret: redacted and never echoed in an error", () => {
  const c = loadConfig({ env: { ...mailEnv(2525), TOM_MAIL_USER: "tom", TOM_MAIL_PASSWORD: "geheim-123" } });
  assert.equal(redactConfig(c).mail.password, "<redacted>");
  assert.equal(c.mail.smtpPort, 2525);
  assert.equal(loadConfig({ env: {} }).mail.smtpPort, 587);
});

Deno.test("a message reaches a real SMTP server: envelope, subject, text, login", async () => {
  const server = await startSmtpServer(freePort());
  const transport = createMailTransport(
    loadConfig({ env: mailEnv(server.port, { TOM_MAIL_USER: "tom", TOM_MAIL_PASSWORD: "pw" }) }),
  );
  try {
    assert.ok(transport);
    await transport.send({
      subject: "Neues Anliegen in TOM",
      text: "Öffnen: https://tom.praxis.example/x\n",
    });
    const [mail] = await server.waitFor(1);
    assert.equal(mail.from, "tom@praxis.example");
    assert.deepEqual(mail.to, ["team@praxis.example", "chefin@praxis.example"]);
    assert.match(mail.raw, /^Subject: Neues Anliegen in TOM\r$/m);
    assert.match(mail.raw, /https:\/\/tom\.praxis\.example\/x/);
  } finally {
    transport?.close();
    await server.close();
  }
});

Deno.test("send rejects while no relay listens (the caller retries)", async () => {
  const transport = createMailTransport(loadConfig({ env: mailEnv(freePort()) }));
  assert.ok(transport);
  await assert.rejects(transport.send({ subject: "x", text: "y" }), /ECONNREFUSED|refused/i);
  transport.close();
});

Deno.test("egress: a configured relay adds its host:port and nothing else; no relay adds nothing", () => {
  const base = { TOM_LLM_KIND: "none", TOM_STT_KIND: "none" };
  const off = allowedNetHosts(loadConfig({ env: base }));
  const on = allowedNetHosts(loadConfig({
    env: { ...base, TOM_MAIL_SMTP_HOST: "relay.praxis.example", TOM_MAIL_TO: "team@praxis.example" },
  }));
  assert.deepEqual(on.filter((h) => !off.includes(h)), ["relay.praxis.example:587"]);
  assert.ok(!off.some((h) => h.includes("relay")));
  const ip = allowedNetHosts(loadConfig({
    env: {
      ...base,
      TOM_MAIL_SMTP_HOST: "192.168.10.5",
      TOM_MAIL_SMTP_PORT: "25",
      TOM_MAIL_TO: "team@praxis.example",
    },
  }));
  assert.deepEqual(ip.filter((h) => !off.includes(h)), ["192.168.10.5:25"]);
  const flags = servePermissionFlags(loadConfig({
    env: { ...base, TOM_MAIL_SMTP_HOST: "relay.praxis.example", TOM_MAIL_TO: "team@praxis.example" },
  }));
  assert.ok(flags.some((f) => f.startsWith("--allow-net=") && f.includes("relay.praxis.example:587")));
});

Deno.test("inside a sandbox granting only the relay's host:port, a mail to it by name goes through", async () => {
  const server = await startSmtpServer(freePort());
  try {
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--no-prompt",
        `--allow-net=localhost:${server.port}`,
        "--allow-read",
        "--allow-env",
        "--allow-sys",
        new URL("./fixtures/mail_sandboxed.ts", import.meta.url).pathname,
        String(server.port),
      ],
      env: cleanEnv(),
      clearEnv: true,
      cwd: ROOT,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stdout = new TextDecoder().decode(out.stdout);
    assert.match(stdout, /^SENT$/m, stdout + new TextDecoder().decode(out.stderr));
    const [mail] = await server.waitFor(1);
    assert.match(mail.raw, /^Subject: Sandbox\r$/m);
  } finally {
    await server.close();
  }
});
