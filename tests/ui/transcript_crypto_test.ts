import assert from "node:assert/strict";
import { join } from "node:path";
import { createAccount, createCall, createPerson, openStore } from "../../store/mod.ts";
import {
  keyIdOf,
  readTranscript,
  rekeyTranscripts,
  storeTranscriptTurn,
  TranscriptKeyring,
  turnAad,
} from "../../store/crypto/mod.ts";

async function setup() {
  const dir = await Deno.makeTempDir({ prefix: "tom-keys-" });
  const store = openStore(":memory:");
  const file = join(dir, "secrets", "transcripts.key");
  store.useKeyFile(file); // one key file for the store (people's names and numbers) and the transcripts
  const account = createAccount(store, { name: "A", kind: "clinical" });
  const person = createPerson(store, account.id, {
    kind: "patient",
    displayName: "P",
    phoneE164: "+4930111222",
    consentTranscript: true,
  });
  const call = createCall(store, account.id, {
    direction: "inbound",
    transport: "browser",
    personId: person.id,
  });
  return { dir, store, account, call, file };
}

Deno.test("the keyring creates a 0600 key file of 32 random bytes and reopens it with the same id", async () => {
  const { dir, store, file } = await setup();
  try {
    const ring = await TranscriptKeyring.open(file);
    assert.equal((Deno.statSync(file).mode ?? 0) & 0o777, 0o600);
    const raw = Uint8Array.from(atob(Deno.readTextFileSync(file).trim()), (c) => c.charCodeAt(0));
    assert.equal(raw.length, 32);
    assert.equal(ring.currentKeyId, keyIdOf(raw));
    assert.equal((await TranscriptKeyring.open(file)).currentKeyId, ring.currentKeyId);
  } finally {
    store.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a sealed utterance decrypts only with its own account, call, turn and speaker", async () => {
  const { dir, store, file } = await setup();
  try {
    const ring = await TranscriptKeyring.open(file);
    const b = { accountId: "a", callId: "c", turnIndex: 1, speaker: "caller" as const };
    const sealed = await ring.seal(new TextEncoder().encode("Hallo"), turnAad(b));
    assert.equal(new TextDecoder().decode(await ring.open(sealed, turnAad(b))), "Hallo");
    await assert.rejects(() => ring.open(sealed, turnAad({ ...b, accountId: "b" })), /failed authentication/);
    await assert.rejects(() => ring.open(sealed, turnAad({ ...b, turnIndex: 2 })), /failed authentication/);
    const tampered = { ...sealed, ciphertext: sealed.ciphertext.map((x, i) => (i === 0 ? x ^ 1 : x)) };
    await assert.rejects(() => ring.open(tampered, turnAad(b)), /failed authentication/);
    assert.equal(sealed.iv.length, 12);
  } finally {
    store.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("rotation re-encrypts every row, drops the old key, and survives a restart in between", async () => {
  const { dir, store, account, call, file } = await setup();
  try {
    const ring = await TranscriptKeyring.open(file);
    for (let i = 0; i < 5; i++) {
      await storeTranscriptTurn(store, ring, account.id, {
        callId: call.id,
        turnIndex: i,
        speaker: i % 2 ? "caller" : "assistant",
        text: `Satz ${i}`,
      });
    }
    const old = ring.currentKeyId;
    const next = await ring.rotate();
    assert.notEqual(next, old);
    // Crash before re-encryption: a reopened keyring still reads the old rows.
    const reopened = await TranscriptKeyring.open(file);
    assert.deepEqual(reopened.retiredKeyIds, [old]);
    assert.equal((await readTranscript(store, reopened, account.id, call.id))[3].text, "Satz 3");
    const r = await rekeyTranscripts(store, reopened, { batch: 2 });
    assert.equal(r.rewritten, 5);
    assert.deepEqual(r.droppedKeys, [old]);
    assert.deepEqual(reopened.retiredKeyIds, []);
    assert.deepEqual((await TranscriptKeyring.open(file)).retiredKeyIds, []);
    assert.deepEqual((await readTranscript(store, reopened, account.id, call.id)).map((t) => t.text), [
      "Satz 0",
      "Satz 1",
      "Satz 2",
      "Satz 3",
      "Satz 4",
    ]);
  } finally {
    store.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a key file of the wrong size is refused with its path", async () => {
  const { dir, store, file } = await setup();
  try {
    Deno.mkdirSync(join(dir, "secrets"), { recursive: true });
    Deno.writeTextFileSync(file, btoa("short"));
    await assert.rejects(() => TranscriptKeyring.open(file), /expected 32 bytes of base64/);
  } finally {
    store.close();
    await Deno.remove(dir, { recursive: true });
  }
});
