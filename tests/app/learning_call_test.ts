// The learning loop around real calls: the bandit's variant is recorded on the call and shapes it
// (greeting, prompt, barge-in parameters); the caller's rating after their goodbye becomes a feedback
// row, a reward with its components and a bandit update; the analysis is queued only with consent; the
// usage log gets one line per call without personal data.
import assert from "node:assert/strict";
import { loadConfig } from "../../infra/config.ts";
import { callLearning, type Learning } from "../../app/learning.ts";
import { silentLogger } from "../../infra/log.ts";
import { usageFile, usageLogger } from "../../app/usage_log.ts";
import {
  type CallSummary,
  CallUsage,
  fillNames,
  greetingNames,
  pipelineAnswerer,
  PipelineCall,
} from "../../pipeline/mod.ts";
import {
  applyVariant,
  DEFAULT_VARIANTS,
  mulberry32,
  PolicyBandit,
  RlMetrics,
  syncVariants,
} from "../../rl/mod.ts";
import {
  createAccount,
  createCall,
  createPerson,
  getAnalysis,
  getCall,
  getFeedback,
  getPractice,
  getReward,
  getVariant,
  listArms,
  openStore,
  type Store,
} from "../../store/mod.ts";
import {
  Caller,
  FakeLlm,
  FakeOutput,
  FakeStt,
  FakeTts,
  FakeVad,
  greetedCall,
  silentPhrases,
  until,
} from "../pipeline/_fakes.ts";

function learningOf(store: Store, seed = 7): Learning {
  syncVariants(store, DEFAULT_VARIANTS);
  const metrics = new RlMetrics();
  const bandit = new PolicyBandit(store, {
    baseVariant: DEFAULT_VARIANTS.baseVariant,
    random: mulberry32(seed),
    metrics,
  });
  return { variants: DEFAULT_VARIANTS, bandit, metrics, stop: () => Promise.resolve() };
}

interface Run {
  handler: unknown;
  out: FakeOutput;
  llm: FakeLlm;
  summary: CallSummary;
  callId: string;
  accountId: string;
}

async function runCall(
  store: Store,
  learning: Learning,
  o: { consent: boolean; texts: string[]; key?: string; env?: Record<string, string>; dataDir?: string },
): Promise<Run> {
  const config = loadConfig({ env: o.env ?? {} });
  const account = createAccount(store, { name: "Praxis", kind: "clinical" });
  const person = createPerson(store, account.id, {
    kind: "patient",
    displayName: "Erna Schulz",
    phoneE164: "+4930111222",
    consentTranscript: o.consent,
  });
  const call = createCall(store, account.id, {
    direction: "inbound",
    transport: "browser",
    personId: person.id,
  });
  const tts = new FakeTts();
  const phrases = silentPhrases(tts);
  const llm = new FakeLlm(["Gern, am Montag um zehn."]);
  let summary: CallSummary | undefined;
  const usage = o.dataDir ? usageLogger(o.dataDir, silentLogger) : undefined;
  const answer = pipelineAnswerer({
    stt: new FakeStt(o.texts),
    llm,
    tts,
    vad: () => new FakeVad(),
    log: silentLogger,
    store,
    phrases,
    learning: callLearning(config, learning, { store, log: silentLogger }),
    onCallEnd: async (s, owner) => {
      summary = s;
      await usage?.(s, owner);
    },
    // One scripted transcript per utterance: no extra STT of barge-in words (bargeInProbeMs: 0).
    options: { minSpeechMs: 60, endOfTurnSilenceMs: 300, tickMs: 10, ratingWaitMs: 500, bargeInProbeMs: 0 },
  });
  const { out, handler, ac } = await greetedCall(answer, {
    callId: call.id,
    accountId: call.accountId,
    personId: call.personId,
  });
  const caller = new Caller(handler);
  for (let i = 0; i < o.texts.length; i++) {
    const before = out.log.length;
    caller.say(600);
    await until(
      () => out.log.slice(before).some((r) => r.kind === "mark" && !r.name.includes("greeting")),
      `answer to utterance ${i + 1}`,
    );
  }
  if (o.key) handler.handle({ type: "dtmf", digit: o.key });
  await until(() => out.log.some((r) => r.kind === "hangup"), "hang-up", 10_000);
  handler.handle({ type: "stop", reason: "hung up" });
  ac.abort();
  await until(() => summary !== undefined, "summary");
  await until(() => getReward(store, account.id, call.id) !== undefined, "reward");
  return { handler, out, llm, summary: summary as CallSummary, callId: call.id, accountId: account.id };
}

Deno.test("a rated call: variant recorded and applied, feedback, reward with components, bandit update, analysis queued", async () => {
  const store = openStore(":memory:");
  const learning = learningOf(store);
  const r = await runCall(store, learning, {
    consent: true,
    texts: ["Ich brauche einen Termin.", "Danke, das war's."],
    key: "5",
  });
  const call = getCall(store, r.accountId, r.callId);
  assert.ok(call?.policyVariantId, "the call carries its variant");
  assert.equal(call?.banditContext, "clinical");
  const variant = getVariant(store, call.policyVariantId);
  assert.ok(variant);
  const applied = applyVariant(variant);
  // Its barge-in sensitivity set the call's VAD and turn thresholds.
  assert.ok(r.handler instanceof PipelineCall);
  for (const [k, v] of Object.entries(applied.pipeline)) {
    assert.equal(r.handler.options[k as keyof typeof applied.pipeline], v, k);
  }
  // The variant's policy text reached the LLM's system prompt.
  const names = greetingNames(getPractice(store, r.accountId));
  assert.ok(r.llm.requests[0][0].content.includes(fillNames(applied.policy, names).slice(0, 40)));
  const fb = getFeedback(store, r.accountId, r.callId);
  assert.equal(fb?.rating, 5);
  assert.equal(fb?.source, "dtmf");
  const reward = getReward(store, r.accountId, r.callId);
  assert.ok(reward);
  assert.equal(reward.variantId, call.policyVariantId);
  assert.equal(reward.applied, true);
  assert.equal(reward.rating, 5);
  assert.equal(reward.components.rating, 0.2);
  assert.equal(reward.components.resolution, 0.6);
  assert.deepEqual(reward.missing, []);
  const arm = listArms(store, "clinical").find((a) => a.variantId === call.policyVariantId);
  assert.equal(arm?.pulls, 1);
  assert.equal(getAnalysis(store, r.accountId, r.callId)?.status, "pending");
  assert.equal(learning.metrics.snapshot().feedbackTotal.dtmf, 1);
  store.close();
});

Deno.test("an unrated call without transcript consent: rating listed as missing, no analysis queued", async () => {
  const store = openStore(":memory:");
  const learning = learningOf(store);
  const r = await runCall(store, learning, { consent: false, texts: ["Tschüss"] });
  const reward = getReward(store, r.accountId, r.callId);
  assert.ok(reward);
  assert.ok(reward.missing.includes("rating"), `missing: ${reward.missing}`);
  assert.equal(reward.components.rating, 0);
  assert.equal(reward.rating, null);
  assert.equal(reward.source, "none");
  assert.equal(getFeedback(store, r.accountId, r.callId), undefined);
  assert.equal(getAnalysis(store, r.accountId, r.callId), undefined);
  store.close();
});

Deno.test("with TOM_RL_ASK_RATING=false a goodbye is answered with a goodbye and the call ends unrated", async () => {
  const store = openStore(":memory:");
  const r = await runCall(store, learningOf(store), {
    consent: false,
    texts: ["Auf Wiederhören"],
    env: { TOM_RL_ASK_RATING: "false" },
  });
  const said = r.out.log.flatMap((x) => (x.kind === "mark" ? [x.name.split(":")[2]] : []));
  assert.deepEqual(said, ["greeting", "goodbyeCaller"]);
  assert.equal(r.summary.ratingAsked, false);
  store.close();
});

Deno.test("the usage log gets one JSON line per call: engine time, audio seconds, no phone number", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tom-usage-" });
  const store = openStore(":memory:");
  try {
    const r = await runCall(store, learningOf(store), {
      consent: false,
      texts: ["Ich brauche einen Termin.", "Tschüss"],
      key: "3",
      dataDir: dir,
    });
    const text = await Deno.readTextFile(usageFile(dir, new Date()));
    const lines = text.trim().split("\n");
    assert.equal(lines.length, 1);
    const rec = JSON.parse(lines[0]);
    assert.equal(rec.call_id, r.callId);
    assert.equal(rec.account_id, r.accountId);
    assert.equal(rec.ending, "farewell");
    assert.equal(rec.turns, 1);
    assert.equal(rec.engine_requests.stt, 2);
    assert.equal(rec.engine_requests.llm, 1);
    assert.ok(rec.audio_in_s >= 2.6, `audio in ${rec.audio_in_s}`);
    assert.ok(rec.audio_out_s > 0);
    assert.ok(!text.includes("4930111222"), "no phone number");
    assert.ok(!text.includes("Erna"), "no name");
  } finally {
    store.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a usage log that cannot be written is reported once and never throws", async () => {
  const warnings: string[] = [];
  const log = { ...silentLogger, warn: (m: string) => void warnings.push(m) } as typeof silentLogger;
  const write = usageLogger("/proc/tom-no-such-dir", log);
  const summary: CallSummary = {
    callId: "c1",
    durationMs: 1000,
    ending: "hangup",
    turns: 0,
    bargeIns: 0,
    failedTurns: 0,
    repeats: 0,
    ratingAsked: false,
    usage: new CallUsage(),
    emergency: null,
    noted: [],
    words: [],
  };
  await write(summary, undefined);
  await write(summary, undefined);
  assert.deepEqual(warnings, ["could not write the usage log"]);
});
