import assert from "node:assert/strict";
import { join } from "node:path";
import { CONFIG_KEYS, ConfigError, envName, loadConfig, redactConfig } from "../../infra/config.ts";
import { runTom } from "../_helpers.ts";

Deno.test("an empty environment is a valid configuration with loopback defaults", () => {
  const c = loadConfig({ env: { HOME: "/home/x" }, cwd: "/srv/tom" });
  assert.equal(c.http.host, "127.0.0.1");
  assert.equal(c.http.port, 8080);
  assert.equal(c.audiosocket.port, 9092);
  assert.equal(c.dataDir, "/srv/tom/data");
  assert.equal(c.enginesDir, "/home/x/.cache/tom/engines");
  assert.equal(c.stt.bin, "/home/x/.cache/tom/engines/bin/whisper-server");
  assert.equal(c.egress.allowAll, false);
  assert.deepEqual(c.jwt.algorithms, ["HS256"]);
});

Deno.test("every key has an environment variable named after its path", () => {
  assert.equal(envName("http.port"), "TOM_HTTP_PORT");
  assert.equal(envName("egress.allowHosts"), "TOM_EGRESS_ALLOW_HOSTS");
  assert.equal(envName("dataDir"), "TOM_DATA_DIR");
  assert.ok(CONFIG_KEYS.includes("llm.url"));
  assert.equal(new Set(CONFIG_KEYS.map(envName)).size, CONFIG_KEYS.length);
});

Deno.test("environment values are parsed into numbers, booleans and lists", () => {
  const c = loadConfig({
    env: {
      TOM_HTTP_PORT: "9000",
      TOM_EGRESS_ALLOW_ALL: "yes",
      TOM_EGRESS_ALLOW_HOSTS: "a.example, b.example:443",
    },
  });
  assert.equal(c.http.port, 9000);
  assert.equal(c.egress.allowAll, true);
  assert.deepEqual(c.egress.allowHosts, ["a.example", "b.example:443"]);
});

function problems(env: Record<string, string>, file?: string): string {
  try {
    loadConfig({ env, file });
  } catch (e) {
    assert.ok(e instanceof ConfigError);
    return e.message;
  }
  assert.fail("expected a ConfigError");
}

Deno.test("an invalid value names the variable, the key and what is wrong", () => {
  const msg = problems({ TOM_HTTP_PORT: "80a" });
  assert.match(msg, /TOM_HTTP_PORT \(http\.port\): .*number/);
  assert.match(msg, /got "80a"/);
  assert.match(problems({ TOM_HTTP_PORT: "70000" }), /TOM_HTTP_PORT.*65535/);
  assert.match(problems({ TOM_LLM_KIND: "gpt" }), /TOM_LLM_KIND \(llm\.kind\)/);
  assert.match(problems({ TOM_STT_URL: "ftp://x" }), /TOM_STT_URL.*http\(s\) URL/);
  assert.match(problems({ TOM_RETENTION_DAYS: "400" }), /TOM_RETENTION_DAYS.*365/);
});

Deno.test("a short JWT secret is refused without echoing it", () => {
  const secret = "hunter2-not-long-enough";
  const msg = problems({ TOM_JWT_SECRET: secret });
  assert.match(msg, /TOM_JWT_SECRET \(jwt\.secret\): must be at least 32 bytes/);
  assert.ok(!msg.includes(secret), "the secret must not appear in the message");
});

Deno.test("an unknown TOM_ variable is refused with a suggestion", () => {
  assert.match(
    problems({ TOM_HTTP_PROT: "1" }),
    /TOM_HTTP_PROT: unknown setting \(did you mean TOM_HTTP_PORT\?\)/,
  );
});

Deno.test("the config file is read, the environment wins, and a broken file is named", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const file = join(dir, "tom.json");
    await Deno.writeTextFile(
      file,
      JSON.stringify({ http: { port: 8181, host: "0.0.0.0" }, log: { level: "debug" } }),
    );
    const c = loadConfig({ env: { TOM_HTTP_PORT: "8282" }, file });
    assert.equal(c.http.port, 8282);
    assert.equal(c.http.host, "0.0.0.0");
    assert.equal(c.log.level, "debug");
    await Deno.writeTextFile(file, JSON.stringify({ http: { port: "x" } }));
    assert.match(problems({}, file), /http\.port \(TOM_HTTP_PORT\)/);
    await Deno.writeTextFile(file, "{ not json");
    assert.match(problems({}, file), new RegExp(`config file ${file}: `));
    assert.match(problems({}, join(dir, "missing.json")), /missing\.json: .*No such file/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("redactConfig hides secrets", () => {
  const secret = "s".repeat(40);
  const c = redactConfig(loadConfig({ env: { TOM_JWT_SECRET: secret, TOM_LOG_HASH_SALT: "pepper" } }));
  assert.ok(!JSON.stringify(c).includes(secret));
  assert.ok(!JSON.stringify(c).includes("pepper"));
  assert.equal(c.jwt.secret, "<redacted>");
});

Deno.test("tom serve with an invalid value exits 2 naming the key, before doing anything", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const r = await runTom(["serve"], { TOM_HTTP_PORT: "eighty", TOM_DATA_DIR: dir });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /Invalid configuration:\n\s+TOM_HTTP_PORT \(http\.port\)/);
    assert.deepEqual([...Deno.readDirSync(dir)], [], "nothing written on a config error");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("Asterisk AMI: loopback only, a secret when enabled, the secret never printed", () => {
  const c = loadConfig({ env: {} });
  assert.deepEqual(
    [
      c.asterisk.amiEnabled,
      c.asterisk.amiHost,
      c.asterisk.amiPort,
      c.asterisk.amiUser,
      c.asterisk.transferContext,
    ],
    [false, "127.0.0.1", 5038, "tom", "tom-transfer"],
  );
  assert.match(problems({ TOM_ASTERISK_AMI_HOST: "192.168.1.5" }), /TOM_ASTERISK_AMI_HOST.*loopback/);
  assert.match(problems({ TOM_ASTERISK_AMI_HOST: "127.0.0.1.evil.example" }), /loopback/);
  assert.match(problems({ TOM_ASTERISK_AMI_ENABLED: "true" }), /TOM_ASTERISK_AMI_SECRET/);
  const on = loadConfig({ env: { TOM_ASTERISK_AMI_ENABLED: "true", TOM_ASTERISK_AMI_SECRET: "s3cret-ami" } });
  assert.equal(on.asterisk.amiSecret, "s3cret-ami");
  assert.ok(!JSON.stringify(redactConfig(on)).includes("s3cret-ami"));
});
