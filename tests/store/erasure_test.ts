import assert from "node:assert/strict";
import { join } from "node:path";
import {
  appendTranscriptTurn,
  attachRecording,
  completeAnalysis,
  createCall,
  createPerson,
  endCall,
  enqueueAnalysis,
  erasePerson,
  getAnalysis,
  getCall,
  getFeedback,
  getMemory,
  getPerson,
  listTranscript,
  openStore,
  recordFeedback,
  saveMemory,
} from "../../store/mod.ts";
import { bytes, memoryStore, seedTenant } from "./_helpers.ts";

Deno.test("erasing a person removes their memory, transcripts, analyses and recordings; calls stay anonymous", () => {
  const { store } = memoryStore();
  const { account, person, call } = seedTenant(store, "A", "+4917000000001");
  const other = createPerson(store, account.id, {
    kind: "senior",
    displayName: "Other",
    phoneE164: "+4917000000002",
    consentTranscript: true,
  });
  const otherCall = createCall(store, account.id, {
    direction: "outbound",
    transport: "twilio",
    personId: other.id,
  });
  for (const c of [call, otherCall]) {
    appendTranscriptTurn(store, account.id, {
      callId: c.id,
      turnIndex: 0,
      speaker: "caller",
      ciphertext: bytes(1),
      iv: bytes(2),
      keyId: "k1",
    });
    enqueueAnalysis(store, account.id, c.id);
    completeAnalysis(store, account.id, c.id, {
      sentimentLabel: "positiv",
      sentimentScore: 0.5,
      confidence: 0.9,
      reason: "freundlich",
      summary: ["Garten"],
    });
    endCall(store, account.id, c.id, { status: "completed" });
    recordFeedback(store, account.id, { callId: c.id, rating: 5, source: "dtmf" });
  }
  assert.equal(attachRecording(store, account.id, call.id, "/data/rec/a.wav"), true);
  saveMemory(store, account.id, person.id, { facts: ["Hat Enkelin Lisa"] }, 0);
  saveMemory(store, account.id, other.id, { facts: ["Hund Bello"] }, 0);

  assert.deepEqual(erasePerson(store, account.id, person.id), {
    personId: person.id,
    anonymisedCalls: 1,
    recordingPaths: ["/data/rec/a.wav"],
  });
  assert.equal(getPerson(store, account.id, person.id), undefined);
  assert.equal(getMemory(store, account.id, person.id), undefined);
  assert.deepEqual(listTranscript(store, account.id, call.id), []);
  assert.equal(getAnalysis(store, account.id, call.id), undefined);
  const anonymous = getCall(store, account.id, call.id);
  assert.equal(anonymous?.personId, null);
  assert.equal(anonymous?.recordingPath, null);
  assert.equal(anonymous?.status, "completed");
  assert.equal(getFeedback(store, account.id, call.id)?.rating, 5);
  // The other person's data is untouched.
  assert.equal(listTranscript(store, account.id, otherCall.id).length, 1);
  assert.equal(getAnalysis(store, account.id, otherCall.id)?.status, "done");
  assert.deepEqual(getMemory(store, account.id, other.id)?.memory, { facts: ["Hund Bello"] });
  assert.equal(erasePerson(store, account.id, person.id), undefined);
  store.close();
});

Deno.test("a raw DELETE of a person erases their call data too (enforced by the schema)", () => {
  const { store } = memoryStore();
  const { account, person, call } = seedTenant(store, "A", "+4917000000001");
  appendTranscriptTurn(store, account.id, {
    callId: call.id,
    turnIndex: 0,
    speaker: "assistant",
    ciphertext: bytes(1),
    iv: bytes(2),
    keyId: "k1",
  });
  enqueueAnalysis(store, account.id, call.id);
  store.db.prepare("DELETE FROM people WHERE id = ?").run(person.id);
  const count = (table: string) =>
    (store.db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
  assert.equal(count("transcripts"), 0);
  assert.equal(count("call_analysis"), 0);
  assert.equal(count("calls"), 1);
  store.close();
});

Deno.test("an erasure leaves no earlier memory of the person in the free pages of the database file", () => {
  const dir = Deno.makeTempDirSync({ prefix: "tom-erase-free-" });
  const path = join(dir, "tom.db");
  const store = openStore(path);
  try {
    const { account, person } = seedTenant(store, "A", "+4917000000001");
    // About 12 KB of facts: the sealed memory fills overflow pages of its own (pages are 4 KiB).
    const facts = Array.from({ length: 300 }, (_, i) => `Fakt ${i}: Blutdruck morgens messen`);
    saveMemory(store, account.id, person.id, { facts }, 0);
    const sealed = () =>
      (store.db.prepare("SELECT memory_json AS m FROM memory_state WHERE person_id = ?").get(person.id) as {
        m: string;
      }).m;
    const first = sealed();
    // The analysis of a later call replaces it: the first version's overflow pages go to the free list
    // (with secure_delete FAST they kept their bytes until reused; the erasure below never touches them).
    saveMemory(store, account.id, person.id, { facts: facts.slice(1) }, 1);
    erasePerson(store, account.id, person.id);
    // Eight 48-character slices of the first sealed version, spread over it (random ciphertext: a slice
    // found in the file can only be a leftover of it).
    const probes = Array.from({ length: 8 }, (_, i) => {
      const at = Math.floor((first.length - 48) * (i + 1) / 9);
      return first.slice(at, at + 48);
    });
    const latin1 = (p: string) => {
      try {
        return new TextDecoder("latin1").decode(Deno.readFileSync(p));
      } catch (e) {
        if (e instanceof Deno.errors.NotFound) return "";
        throw e;
      }
    };
    const onDisk = latin1(path) + latin1(`${path}-wal`);
    assert.deepEqual(probes.filter((p) => onDisk.includes(p)), [], "no slice of the old memory on disk");
  } finally {
    store.close();
    Deno.removeSync(dir, { recursive: true });
  }
});
