import assert from "node:assert/strict";
import {
  appendTranscriptTurn,
  attachRecording,
  completeAnalysis,
  createCall,
  createPerson,
  enqueueAnalysis,
  getAnalysis,
  getCall,
  listTranscript,
  purgeExpiredCallData,
} from "../../store/mod.ts";
import { bytes, memoryStore, seedTenant, T0 } from "./_helpers.ts";

const DAY = 86_400_000;

Deno.test("call data older than the person's retention_days is purged; younger data and call rows stay", () => {
  const { store, clock } = memoryStore();
  const { account, call: oldCall } = seedTenant(store, "A", "+4917000000001"); // retention 30 days
  const patient = createPerson(store, account.id, {
    kind: "patient",
    displayName: "Long",
    phoneE164: "+4917000000002",
    consentTranscript: true,
    retentionDays: 365,
  });
  const keptCall = createCall(store, account.id, {
    direction: "inbound",
    transport: "browser",
    personId: patient.id,
  });
  clock.advance(20 * DAY);
  const recentCall = createCall(store, account.id, {
    direction: "inbound",
    transport: "browser",
    personId: oldCall.personId,
  });
  for (const call of [oldCall, keptCall, recentCall]) {
    appendTranscriptTurn(store, account.id, {
      callId: call.id,
      turnIndex: 0,
      speaker: "caller",
      ciphertext: bytes(1),
      iv: bytes(2),
      keyId: "k",
    });
    enqueueAnalysis(store, account.id, call.id);
    completeAnalysis(store, account.id, call.id, {
      sentimentLabel: "neutral",
      sentimentScore: 0,
      confidence: 0.5,
      reason: "-",
      summary: [],
    });
  }
  attachRecording(store, account.id, oldCall.id, "/data/rec/old.wav");

  assert.deepEqual(purgeExpiredCallData(store, account.id, T0 + 30 * DAY), {
    transcriptTurns: 0,
    analyses: 0,
    recordingPaths: [],
  });
  assert.deepEqual(purgeExpiredCallData(store, account.id, T0 + 31 * DAY), {
    transcriptTurns: 1,
    analyses: 1,
    recordingPaths: ["/data/rec/old.wav"],
  });
  assert.deepEqual(listTranscript(store, account.id, oldCall.id), []);
  assert.equal(getAnalysis(store, account.id, oldCall.id), undefined);
  assert.equal(getCall(store, account.id, oldCall.id)?.recordingPath, null);
  assert.ok(getCall(store, account.id, oldCall.id));
  assert.equal(listTranscript(store, account.id, keptCall.id).length, 1);
  assert.equal(listTranscript(store, account.id, recentCall.id).length, 1);
  store.close();
});

Deno.test("calls without a person fall back to the default retention", () => {
  const { store } = memoryStore();
  const { account } = seedTenant(store, "A", "+4917000000001");
  const anonymous = createCall(store, account.id, { direction: "inbound", transport: "twilio" });
  enqueueAnalysis(store, account.id, anonymous.id);
  assert.equal(
    purgeExpiredCallData(store, account.id, T0 + 8 * DAY, { defaultRetentionDays: 7 }).analyses,
    1,
  );
  assert.throws(() => purgeExpiredCallData(store, account.id, T0, { defaultRetentionDays: 0 }), /got 0/);
  store.close();
});
