import assert from "node:assert/strict";
import {
  attachRecording,
  callConsent,
  callStats,
  createAccount,
  createCall,
  createPerson,
  endCall,
  getCall,
  listCalls,
  markCallAnswered,
  StoreConflictError,
  StoreNotFoundError,
} from "../../store/mod.ts";
import { memoryStore, seedTenant, T0 } from "./_helpers.ts";

Deno.test("a call goes ringing -> active -> completed with talk time as duration", () => {
  const { store } = memoryStore();
  const { account, call } = seedTenant(store, "A", "+4917000000001");
  assert.equal(call.status, "ringing");
  assert.equal(markCallAnswered(store, account.id, call.id, T0 + 2000), true);
  assert.equal(markCallAnswered(store, account.id, call.id, T0 + 3000), false);
  assert.equal(endCall(store, account.id, call.id, { status: "completed", at: T0 + 62_000 }), true);
  assert.equal(endCall(store, account.id, call.id, { status: "failed", at: T0 + 63_000 }), false);
  const ended = getCall(store, account.id, call.id);
  assert.equal(ended?.status, "completed");
  assert.equal(ended?.answeredAt, T0 + 2000);
  assert.equal(ended?.endedAt, T0 + 62_000);
  assert.equal(ended?.durationMs, 60_000);
  store.close();
});

Deno.test("an unanswered call ends with a reason and zero talk time", () => {
  const { store } = memoryStore();
  const { account, call } = seedTenant(store, "A", "+4917000000001");
  endCall(store, account.id, call.id, {
    status: "no_answer",
    at: T0 + 30_000,
    failureReason: "Timeout 30 s",
  });
  const ended = getCall(store, account.id, call.id);
  assert.equal(ended?.durationMs, 0);
  assert.equal(ended?.failureReason, "Timeout 30 s");
  assert.throws(
    () => endCall(store, account.id, call.id, { status: "active" as "failed" }),
    /status must be one of/,
  );
  store.close();
});

Deno.test("createCall validates its input and refuses duplicate ids and unknown persons", () => {
  const { store } = memoryStore();
  const account = createAccount(store, { name: "A", kind: "private" });
  assert.throws(
    () => createCall(store, account.id, { direction: "sideways" as "inbound", transport: "twilio" }),
    TypeError,
  );
  assert.throws(
    () => createCall(store, account.id, { direction: "inbound", transport: "sip" as "twilio" }),
    TypeError,
  );
  createCall(store, account.id, { id: "call-1", direction: "inbound", transport: "browser" });
  assert.throws(
    () => createCall(store, account.id, { id: "call-1", direction: "inbound", transport: "browser" }),
    StoreConflictError,
  );
  assert.throws(
    () => createCall(store, account.id, { direction: "inbound", transport: "browser", personId: "nobody" }),
    StoreNotFoundError,
  );
  assert.throws(
    () =>
      createCall(store, account.id, {
        direction: "inbound",
        transport: "browser",
        policyVariantId: "v-none",
      }),
    StoreNotFoundError,
  );
  store.close();
});

Deno.test("recording is attached only with the person's consent; unknown callers consent to nothing", () => {
  const { store } = memoryStore();
  const { account, call } = seedTenant(store, "A", "+4917000000001");
  const shy = createPerson(store, account.id, {
    kind: "senior",
    displayName: "Shy",
    phoneE164: "+4917000000002",
  });
  const shyCall = createCall(store, account.id, {
    direction: "outbound",
    transport: "freeswitch",
    personId: shy.id,
  });
  const anonymous = createCall(store, account.id, { direction: "inbound", transport: "freeswitch" });
  assert.deepEqual(callConsent(store, account.id, call.id), { recording: true, transcript: true });
  assert.deepEqual(callConsent(store, account.id, shyCall.id), { recording: false, transcript: false });
  assert.deepEqual(callConsent(store, account.id, anonymous.id), { recording: false, transcript: false });
  assert.equal(attachRecording(store, account.id, call.id, "/data/rec/1.wav"), true);
  assert.equal(attachRecording(store, account.id, shyCall.id, "/data/rec/2.wav"), false);
  assert.equal(attachRecording(store, account.id, anonymous.id, "/data/rec/3.wav"), false);
  assert.equal(getCall(store, account.id, call.id)?.recorded, true);
  assert.equal(getCall(store, account.id, shyCall.id)?.recordingPath, null);
  store.close();
});

Deno.test("listCalls pages newest first and filters by person; callStats aggregates", () => {
  const { store, clock } = memoryStore();
  const { account, person, call } = seedTenant(store, "A", "+4917000000001");
  clock.advance(1000);
  const second = createCall(store, account.id, {
    direction: "outbound",
    transport: "twilio",
    personId: person.id,
  });
  clock.advance(1000);
  const anonymous = createCall(store, account.id, { direction: "inbound", transport: "twilio" });
  assert.deepEqual(listCalls(store, account.id).map((c) => c.id), [anonymous.id, second.id, call.id]);
  assert.deepEqual(listCalls(store, account.id, { personId: person.id }).map((c) => c.id), [
    second.id,
    call.id,
  ]);
  assert.deepEqual(listCalls(store, account.id, { since: T0 + 1000, limit: 1 }).map((c) => c.id), [
    anonymous.id,
  ]);
  markCallAnswered(store, account.id, call.id, T0);
  endCall(store, account.id, call.id, { status: "completed", at: T0 + 4000 });
  assert.deepEqual(callStats(store, account.id), {
    total: 3,
    completed: 1,
    avgDurationMs: 4000,
    avgSentimentScore: null,
  });
  store.close();
});

Deno.test("listCalls pages with a cursor: calls with the same start are neither skipped nor repeated", () => {
  const { store } = memoryStore();
  const account = createAccount(store, { name: "A", kind: "clinical" });
  const ids = ["c", "a", "e", "b", "d"];
  for (const [i, id] of ids.entries()) {
    createCall(store, account.id, {
      id,
      direction: "inbound",
      transport: "twilio",
      startedAt: T0 + (i < 3 ? 0 : 60),
    });
  }
  const seen: string[] = [];
  let after: { startedAt: number; id: string } | undefined;
  for (let page = listCalls(store, account.id, { limit: 2 }); page.length > 0;) {
    seen.push(...page.map((c) => c.id));
    after = page[page.length - 1];
    page = listCalls(store, account.id, { limit: 2, after });
  }
  assert.deepEqual(seen, ["b", "d", "a", "c", "e"]);
  store.close();
});
