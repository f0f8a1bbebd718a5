// Account scoping: for every aggregate, account B's functions never see, change or delete account A's
// rows, even when given A's ids.
import assert from "node:assert/strict";
import {
  appendAudit,
  appendTranscriptTurn,
  attachRecording,
  callConsent,
  callStats,
  completeAnalysis,
  createCall,
  createUser,
  deleteFeedback,
  deleteMemory,
  deleteTranscript,
  deleteUser,
  endCall,
  enqueueAnalysis,
  erasePerson,
  failAnalysis,
  feedbackByVariant,
  findCallByExternalId,
  findPersonByPhone,
  findUserByEmail,
  getAnalysis,
  getCall,
  getFeedback,
  getMemory,
  getPasswordHash,
  getPerson,
  getUser,
  listAudit,
  listCalls,
  listDueAnalyses,
  listPeople,
  listTranscript,
  listUsers,
  markCallAnswered,
  purgeExpiredCallData,
  recordFeedback,
  saveMemory,
  sentimentTrend,
  setCallPolicy,
  setPasswordHash,
  setUserDisabled,
  StoreNotFoundError,
  updatePerson,
  upsertVariant,
} from "../../store/mod.ts";
import { bytes, memoryStore, seedTwoTenants, T0 } from "./_helpers.ts";

function setup() {
  const { store, clock } = memoryStore();
  const { a, b } = seedTwoTenants(store);
  return { store, clock, a, b };
}

Deno.test("users: account B cannot see, change or delete account A's users", () => {
  const { store, a, b } = setup();
  const user = createUser(store, a.account.id, {
    email: "Admin@Praxis.de",
    displayName: "Admin",
    role: "admin",
    passwordHash: "hash-a",
  });
  assert.equal(user.email, "admin@praxis.de");
  assert.equal(getUser(store, b.account.id, user.id), undefined);
  assert.equal(findUserByEmail(store, b.account.id, "admin@praxis.de"), undefined);
  assert.equal(getPasswordHash(store, b.account.id, user.id), undefined);
  assert.deepEqual(listUsers(store, b.account.id), []);
  assert.equal(setPasswordHash(store, b.account.id, user.id, "hash-b"), false);
  assert.equal(setUserDisabled(store, b.account.id, user.id, true), false);
  assert.equal(deleteUser(store, b.account.id, user.id), false);
  assert.deepEqual(getUser(store, a.account.id, user.id), user);
  assert.equal(getPasswordHash(store, a.account.id, user.id), "hash-a");
  // The same email may exist in another account.
  createUser(store, b.account.id, {
    email: "admin@praxis.de",
    displayName: "B",
    role: "staff",
    passwordHash: "h",
  });
  assert.equal(findUserByEmail(store, a.account.id, "ADMIN@praxis.de")?.id, user.id);
  store.close();
});

Deno.test("people: account B cannot see, change or erase account A's people", () => {
  const { store, a, b } = setup();
  assert.equal(getPerson(store, b.account.id, a.person.id), undefined);
  assert.equal(findPersonByPhone(store, b.account.id, a.person.phoneE164)?.id, b.person.id);
  assert.deepEqual(listPeople(store, b.account.id).map((p) => p.id), [b.person.id]);
  assert.equal(updatePerson(store, b.account.id, a.person.id, { displayName: "Hijacked" }), undefined);
  assert.equal(erasePerson(store, b.account.id, a.person.id), undefined);
  assert.deepEqual(getPerson(store, a.account.id, a.person.id), a.person);
  store.close();
});

Deno.test("calls: account B cannot see or change account A's calls, nor link A's person", () => {
  const { store, a, b } = setup();
  const external = createCall(store, a.account.id, {
    direction: "inbound",
    transport: "twilio",
    externalId: "CA1",
  });
  assert.equal(getCall(store, b.account.id, a.call.id), undefined);
  assert.equal(findCallByExternalId(store, b.account.id, "twilio", "CA1"), undefined);
  assert.equal(findCallByExternalId(store, a.account.id, "twilio", "CA1")?.id, external.id);
  assert.deepEqual(listCalls(store, b.account.id).map((c) => c.id), [b.call.id]);
  assert.equal(markCallAnswered(store, b.account.id, a.call.id), false);
  assert.equal(endCall(store, b.account.id, a.call.id, { status: "failed" }), false);
  assert.equal(setCallPolicy(store, b.account.id, a.call.id, null, "x"), false);
  assert.equal(callConsent(store, b.account.id, a.call.id), undefined);
  assert.equal(attachRecording(store, b.account.id, a.call.id, "/tmp/x.wav"), false);
  assert.equal(callStats(store, b.account.id).total, 1);
  assert.throws(
    () =>
      createCall(store, b.account.id, { direction: "outbound", transport: "twilio", personId: a.person.id }),
    StoreNotFoundError,
  );
  assert.deepEqual(getCall(store, a.account.id, a.call.id), a.call);
  store.close();
});

Deno.test("transcripts: account B cannot add to, read or delete account A's transcripts", () => {
  const { store, a, b } = setup();
  const turn = { turnIndex: 0, speaker: "caller" as const, ciphertext: bytes(9), iv: bytes(8), keyId: "k" };
  appendTranscriptTurn(store, a.account.id, { ...turn, callId: a.call.id });
  assert.throws(
    () => appendTranscriptTurn(store, b.account.id, { ...turn, callId: a.call.id }),
    StoreNotFoundError,
  );
  assert.deepEqual(listTranscript(store, b.account.id, a.call.id), []);
  assert.equal(deleteTranscript(store, b.account.id, a.call.id), 0);
  assert.equal(listTranscript(store, a.account.id, a.call.id).length, 1);
  // Even raw SQL cannot attach a row of account B to a call of account A (composite foreign key).
  assert.throws(
    () =>
      store.db.prepare(`INSERT INTO transcripts (id, account_id, call_id, turn_index, speaker, ciphertext, iv,
        key_id, created_at) VALUES ('t', ?, ?, 5, 'caller', x'01', x'01', 'k', 0)`).run(
        b.account.id,
        a.call.id,
      ),
    /FOREIGN KEY constraint failed/,
  );
  store.close();
});

Deno.test("analysis: account B cannot queue, read, complete or fail account A's analyses", () => {
  const { store, a, b } = setup();
  enqueueAnalysis(store, a.account.id, a.call.id);
  const result = {
    sentimentLabel: "negativ",
    sentimentScore: -1,
    confidence: 1,
    reason: "x",
    summary: [],
  } as const;
  assert.throws(() => enqueueAnalysis(store, b.account.id, a.call.id), StoreNotFoundError);
  assert.equal(getAnalysis(store, b.account.id, a.call.id), undefined);
  assert.deepEqual(listDueAnalyses(store, b.account.id, T0 + 1), []);
  assert.equal(completeAnalysis(store, b.account.id, a.call.id, result), false);
  assert.equal(failAnalysis(store, b.account.id, a.call.id, "x", null), false);
  assert.equal(getAnalysis(store, a.account.id, a.call.id)?.status, "pending");
  completeAnalysis(store, a.account.id, a.call.id, {
    ...result,
    sentimentLabel: "positiv",
    sentimentScore: 1,
  });
  assert.deepEqual(sentimentTrend(store, b.account.id, { since: 0 }), []);
  assert.equal(sentimentTrend(store, a.account.id, { since: 0 }).length, 1);
  store.close();
});

Deno.test("memory: account B cannot read, overwrite or delete account A's memory", () => {
  const { store, a, b } = setup();
  saveMemory(store, a.account.id, a.person.id, { facts: ["A"] }, 0);
  assert.equal(getMemory(store, b.account.id, a.person.id), undefined);
  assert.throws(() => saveMemory(store, b.account.id, a.person.id, { facts: ["B"] }, 0), StoreNotFoundError);
  assert.throws(() => saveMemory(store, b.account.id, a.person.id, { facts: ["B"] }, 1), StoreNotFoundError);
  assert.equal(deleteMemory(store, b.account.id, a.person.id), false);
  assert.deepEqual(getMemory(store, a.account.id, a.person.id)?.memory, { facts: ["A"] });
  store.close();
});

Deno.test("feedback: account B cannot rate, read or delete account A's feedback", () => {
  const { store, a, b } = setup();
  upsertVariant(store, { id: "v1a", name: "Base" });
  setCallPolicy(store, a.account.id, a.call.id, "v1a", "default");
  recordFeedback(store, a.account.id, { callId: a.call.id, rating: 4, source: "voice" });
  assert.throws(
    () => recordFeedback(store, b.account.id, { callId: a.call.id, rating: 1, source: "dtmf" }),
    StoreNotFoundError,
  );
  assert.equal(getFeedback(store, b.account.id, a.call.id), undefined);
  assert.deepEqual(feedbackByVariant(store, b.account.id), []);
  assert.equal(deleteFeedback(store, b.account.id, a.call.id), false);
  assert.equal(getFeedback(store, a.account.id, a.call.id)?.rating, 4);
  assert.deepEqual(feedbackByVariant(store, a.account.id), [{ variantId: "v1a", ratings: 1, avgRating: 4 }]);
  store.close();
});

Deno.test("audit: account B never lists account A's audit entries", () => {
  const { store, a, b } = setup();
  appendAudit(store, a.account.id, {
    actorUserId: null,
    action: "person.view",
    subjectType: "person",
    subjectId: a.person.id,
  });
  assert.deepEqual(listAudit(store, b.account.id), []);
  assert.deepEqual(listAudit(store, b.account.id, { subjectType: "person", subjectId: a.person.id }), []);
  assert.equal(listAudit(store, a.account.id).length, 1);
  store.close();
});

Deno.test("retention: purging account B never touches account A's data", () => {
  const { store, a, b } = setup();
  const turn = { turnIndex: 0, speaker: "caller" as const, ciphertext: bytes(1), iv: bytes(1), keyId: "k" };
  appendTranscriptTurn(store, a.account.id, { ...turn, callId: a.call.id });
  appendTranscriptTurn(store, b.account.id, { ...turn, callId: b.call.id });
  const farFuture = T0 + 400 * 86_400_000;
  assert.equal(purgeExpiredCallData(store, b.account.id, farFuture).transcriptTurns, 1);
  assert.equal(listTranscript(store, a.account.id, a.call.id).length, 1);
  store.close();
});
