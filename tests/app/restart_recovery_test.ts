// A real `tom serve` is SIGKILLed while a recorded Twilio call runs, then started again: the practice must
// no longer see that call as live (live view, `/api/calls?active=true`) and its recording must be a valid
// WAV whose header sizes match the file (not the streaming placeholder 0xFFFFFFFF a killed writer leaves).
import assert from "node:assert/strict";
import { join } from "node:path";
import { loadConfig } from "../../infra/config.ts";
import { databasePath } from "../../app/commands/migrate.ts";
import { createAccount, createPerson, createUser, getCall, openStore } from "../../store/mod.ts";
import { createApiToken } from "../../ui/data/api_tokens.ts";
import { INTERRUPTED_REASON, readWav } from "../../gateway/mod.ts";
import { encodeMulaw } from "../../gateway/audio/mod.ts";
import { tone } from "../../gateway/call/echo.ts";
import type { TwilioStreamClient } from "../gateway/fixtures/twilio_stream_client.ts";
import { startServe, TWILIO_ENV, twilioCall } from "./_serve.ts";

const PHONE = "+4917012345678";

/** A data directory with an account, an API token and a caller who consented to recording. */
function seed(dataDir: string): { accountId: string; token: string } {
  const store = openStore(databasePath(loadConfig({ env: { TOM_DATA_DIR: dataDir } })));
  try {
    const account = createAccount(store, { name: "Praxis Dr. Weber", kind: "clinical" });
    const user = createUser(store, account.id, {
      email: "admin@praxis.test",
      displayName: "Anna Admin",
      role: "admin",
      passwordHash: "not-used-by-this-test",
    });
    createPerson(store, account.id, {
      kind: "patient",
      displayName: "Erika Muster",
      phoneE164: PHONE,
      consentRecording: true,
    });
    return { accountId: account.id, token: createApiToken(store, account.id, user.id, "test").secret };
  } finally {
    store.close();
  }
}

async function activeCalls(base: string, token: string): Promise<{ id: string; status: string }[]> {
  const res = await fetch(`${base}/api/calls?active=true`, { headers: { authorization: `Bearer ${token}` } });
  assert.equal(res.status, 200);
  return (await res.json()).calls;
}

async function until(pred: () => boolean | Promise<boolean>, what: string, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await pred())) {
    if (Date.now() > end) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function headerSizes(file: string): { riff: number; data: number; size: number } {
  const bytes = Deno.readFileSync(file);
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return { riff: v.getUint32(4, true), data: v.getUint32(40, true), size: bytes.length };
}

Deno.test("after a SIGKILL mid-call and a restart, the call is no longer live and its recording is a valid WAV", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "tom_restart_" });
  const env = { ...TWILIO_ENV, TOM_RECORDING_ENABLED: "true" };
  const { accountId, token } = seed(dataDir);
  let serve = await startServe(dataDir, env);
  let client: TwilioStreamClient | undefined;
  try {
    client = await twilioCall(serve, PHONE);
    await until(async () => (await activeCalls(serve.base, token)).length === 1, "the call to be live");
    const [live] = await activeCalls(serve.base, token);
    const wav = join(dataDir, "recordings", accountId, `${live.id}.wav`);
    // Caller audio in real time until the recorder has streamed some of it to disk (it holds back 2 s for
    // late frames, then writes 250 ms pieces).
    const chunk = encodeMulaw(tone(440, 8000, 60, 8000)); // 60 ms every 50 ms: about real time
    await until(() => {
      client?.mediaMulaw(chunk);
      try {
        return Deno.statSync(wav).size > 44 + 16_000;
      } catch {
        return false;
      }
    }, "the recording to reach the disk");
    await new Promise((r) => setTimeout(r, 100));

    assert.equal((await serve.kill()).signal, "SIGKILL");
    client.close();
    const killed = headerSizes(wav);
    assert.equal(killed.data, 0xffff_ffff, "the killed writer left the streaming placeholder (precondition)");

    serve = await startServe(dataDir, env);
    assert.deepEqual(await activeCalls(serve.base, token), [], "no call is live after the restart");
    const res = await fetch(`${serve.base}/api/calls/${live.id}`, {
      headers: { authorization: `Bearer ${token}` },
    });
    const { call } = await res.json();
    assert.equal(call.status, "failed");
    assert.ok(call.endedAt, "the call has an end");
    const store = openStore(databasePath(loadConfig({ env: { TOM_DATA_DIR: dataDir } })));
    try {
      const row = getCall(store, accountId, live.id);
      assert.equal(row?.failureReason, INTERRUPTED_REASON);
      // Ended when TOM last heard of it (the recording's last write), not at the restart.
      assert.ok(row?.endedAt && row.endedAt <= (Deno.statSync(wav).mtime?.getTime() ?? 0));
    } finally {
      store.close();
    }

    const repaired = headerSizes(wav);
    assert.equal(repaired.size, killed.size - ((killed.size - 44) % 4), "only a torn last frame is cut");
    assert.equal(repaired.data, repaired.size - 44, "data size matches the file");
    assert.equal(repaired.riff, repaired.size - 8, "RIFF size matches the file");
    const audio = readWav(Deno.readFileSync(wav));
    assert.equal(audio.sampleRate, 16_000);
    assert.equal(audio.channels.length, 2);
    assert.equal(audio.channels[0].length, repaired.data / 4);
  } finally {
    client?.close();
    await serve.stop();
    await serve.stderr;
    await Deno.remove(dataDir, { recursive: true });
  }
});
