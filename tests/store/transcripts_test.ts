import assert from "node:assert/strict";
import {
  appendTranscriptTurn,
  createCall,
  createPerson,
  deleteTranscript,
  listTranscript,
  StoreConflictError,
} from "../../store/mod.ts";
import { bytes, memoryStore, seedTenant } from "./_helpers.ts";

const turn = (callId: string, turnIndex: number) => ({
  callId,
  turnIndex,
  speaker: turnIndex % 2 === 0 ? "caller" as const : "assistant" as const,
  ciphertext: bytes(turnIndex, 1, 2, 3),
  iv: bytes(...new Array(12).fill(turnIndex)),
  keyId: "key-2024",
});

Deno.test("encrypted turns are stored with consent and read back in order, bytes intact", () => {
  const { store } = memoryStore();
  const { account, call } = seedTenant(store, "A", "+4917000000001");
  appendTranscriptTurn(store, account.id, { ...turn(call.id, 1), interrupted: true });
  const first = appendTranscriptTurn(store, account.id, turn(call.id, 0));
  assert.ok(first);
  const stored = listTranscript(store, account.id, call.id);
  assert.deepEqual(stored.map((t) => [t.turnIndex, t.speaker, t.interrupted]), [[0, "caller", false], [
    1,
    "assistant",
    true,
  ]]);
  assert.deepEqual(stored[0]?.ciphertext, bytes(0, 1, 2, 3));
  assert.deepEqual(stored[0], first);
  assert.throws(() => appendTranscriptTurn(store, account.id, turn(call.id, 0)), StoreConflictError);
  assert.equal(deleteTranscript(store, account.id, call.id), 2);
  store.close();
});

Deno.test("without transcript consent (or for an unknown caller) nothing is stored", () => {
  const { store } = memoryStore();
  const { account } = seedTenant(store, "A", "+4917000000001");
  const shy = createPerson(store, account.id, {
    kind: "senior",
    displayName: "Shy",
    phoneE164: "+4917000000002",
    consentRecording: true,
  });
  const shyCall = createCall(store, account.id, {
    direction: "inbound",
    transport: "browser",
    personId: shy.id,
  });
  const anonymous = createCall(store, account.id, { direction: "inbound", transport: "browser" });
  assert.equal(appendTranscriptTurn(store, account.id, turn(shyCall.id, 0)), null);
  assert.equal(appendTranscriptTurn(store, account.id, turn(anonymous.id, 0)), null);
  assert.equal((store.db.prepare("SELECT count(*) AS n FROM transcripts").get() as { n: number }).n, 0);
  store.close();
});

Deno.test("appendTranscriptTurn validates speaker, index and bytes", () => {
  const { store } = memoryStore();
  const { account, call } = seedTenant(store, "A", "+4917000000001");
  assert.throws(() => appendTranscriptTurn(store, account.id, { ...turn(call.id, -1) }), /turnIndex/);
  assert.throws(
    () => appendTranscriptTurn(store, account.id, { ...turn(call.id, 0), speaker: "bot" as "caller" }),
    /speaker must be one of caller, assistant/,
  );
  assert.throws(
    () => appendTranscriptTurn(store, account.id, { ...turn(call.id, 0), ciphertext: new Uint8Array() }),
    /ciphertext must be a non-empty Uint8Array/,
  );
  store.close();
});
