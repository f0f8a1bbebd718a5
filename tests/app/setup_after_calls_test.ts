// One practice, one account: a real `tom serve` takes a call (Twilio stand-in) before anyone has run the
// first-run setup; the administrator then sets TOM up and must see that call, and the calls after it, in
// the account the setup made (before the fix setup made a second account and the administrator saw 0).
import assert from "node:assert/strict";
import { join } from "node:path";
import { loadConfig } from "../../infra/config.ts";
import { databasePath } from "../../app/commands/migrate.ts";
import { listAccounts, openStore } from "../../store/mod.ts";
import { encodeMulaw } from "../../gateway/audio/mod.ts";
import { tone } from "../../gateway/call/echo.ts";
import { Jar, login, postForm, type ServeChild, startServe, TWILIO_ENV, twilioCall } from "./_serve.ts";

const PASSWORD = "geheim-und-lang-genug";

/** One short inbound call from an unknown number, hung up by the caller. */
async function call(serve: ServeChild): Promise<void> {
  const client = await twilioCall(serve, "+4930123456");
  client.mediaMulaw(encodeMulaw(tone(440, 8000, 200, 8000)));
  await client.until(() => client.media.length > 0, "TOM's first audio");
  client.stop();
  await client.closed;
}

async function callIds(base: string, jar: Jar): Promise<string[]> {
  const res = await fetch(`${base}/api/calls`, { headers: { cookie: jar.header() } });
  assert.equal(res.status, 200);
  return (await res.json()).calls.map((c: { id: string }) => c.id);
}

Deno.test("a call before the first-run setup lands in the account the setup makes, and so do later calls", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "tom_setup_calls_" });
  const serve = await startServe(dataDir, TWILIO_ENV);
  try {
    await call(serve);

    const jar = new Jar();
    const setup = await postForm(serve.base, jar, "/setup", {
      code: Deno.readTextFileSync(join(dataDir, "secrets", "setup.code")).trim(),
      accountName: "Praxis Dr. Weber",
      kind: "clinical",
      adminName: "Anna Admin",
      email: "admin@praxis.test",
      password: PASSWORD,
      password2: PASSWORD,
    });
    await setup.body?.cancel();
    assert.equal(setup.status, 303, "setup done");
    await login(serve.base, jar, "admin@praxis.test", PASSWORD);
    assert.equal((await callIds(serve.base, jar)).length, 1, "the administrator sees the call before setup");

    await call(serve);
    assert.equal((await callIds(serve.base, jar)).length, 2, "and the call after it");

    const store = openStore(databasePath(loadConfig({ env: { TOM_DATA_DIR: dataDir } })));
    try {
      const accounts = listAccounts(store);
      assert.deepEqual(
        accounts.map((a) => [a.name, a.kind]),
        [["Praxis Dr. Weber", "clinical"]],
        "one account",
      );
    } finally {
      store.close();
    }
  } finally {
    await serve.stop();
    await serve.stderr;
    await Deno.remove(dataDir, { recursive: true });
  }
});
