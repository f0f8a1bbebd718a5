/**
 * Test support for a reply's tool calls (pipeline/reply.ts runReply) against the real store: a fresh
 * in-memory store with its keyring in a temporary folder, one account and call; an accepted note is
 * stored sealed with createRequest, as the answerer does. The transport is the recording FakeOutput.
 *
 * @module
 */
import { join } from "node:path";
import { resolvePipelineOptions } from "../../pipeline/defaults.ts";
import type {
  ChatMessage,
  EngineError,
  LlmEngine,
  ToolSpec,
  TtsEngine,
} from "../../pipeline/engines/types.ts";
import { type ReplyWork, runReply } from "../../pipeline/reply.ts";
import { toNewRequest } from "../../pipeline/tools.ts";
import { Trace } from "../../pipeline/trace.ts";
import type { PipelineEvent } from "../../gateway/mod.ts";
import { createAccount, createCall, openStore, type RequestRecord } from "../../store/mod.ts";
import { createRequest, listRequests, TranscriptKeyring } from "../../store/crypto/mod.ts";
import { fakeContext, FakeOutput } from "./_fakes.ts";

type Ev<T extends PipelineEvent["type"]> = Extract<PipelineEvent, { type: T }>;

/** What one reply did. */
export interface ToolReply {
  failure: EngineError | null;
  w: ReplyWork;
  /** The requests in the store afterwards. */
  stored: RequestRecord[];
  calls: Ev<"tool_call">[];
  says: Ev<"say">[];
  /** A phrase was announced (`say`), synthesized (its `tts_audio`) and its audio queued. */
  spoken(phrase: string): boolean;
  /** Samples of audio queued on the transport. */
  audioSamples: number;
}

/** Run one reply with these tools offered; `maxTokens` and `temperature` as given (0: deterministic). */
export async function runToolReply(o: {
  messages: ChatMessage[];
  llm: LlmEngine;
  tts: TtsEngine;
  specs: ToolSpec[];
  maxTokens: number;
}): Promise<ToolReply> {
  const dir = await Deno.makeTempDir();
  const store = openStore(":memory:");
  const keyring = await TranscriptKeyring.open(join(dir, "transcripts.key"));
  const account = createAccount(store, { name: "Praxis Weber", kind: "clinical" });
  const call = createCall(store, account.id, { direction: "inbound", transport: "browser" });
  const out = new FakeOutput();
  const ac = new AbortController();
  const w: ReplyWork = {
    turn: 1,
    text: "",
    ac,
    sentences: [],
    queuedMs: 0,
    playedAtClear: null,
    spoken: [],
    trace: new Trace(performance.now(), () => performance.now()),
    outcome: { noted: [] },
  };
  try {
    const failure = await runReply(w, o.messages, {
      ctx: { ...fakeContext(out, ac), callId: call.id, accountId: account.id },
      llm: o.llm,
      tts: o.tts,
      options: resolvePipelineOptions({
        maxTokens: o.maxTokens,
        temperature: 0,
        llmFirstTokenTimeoutMs: 20_000,
        llmTokenGapMs: 20_000,
        ttsTimeoutMs: 20_000,
      }),
      now: () => performance.now(),
      isCurrent: () => true,
      onAudible: () => {},
      tools: {
        specs: o.specs,
        note: async (note) =>
          (await createRequest(store, keyring, account.id, toNewRequest(call.id, note))).id,
      },
    });
    const stored = await listRequests(store, keyring, account.id);
    const events = out.events();
    const of = <T extends PipelineEvent["type"]>(type: T) =>
      events.filter((e): e is Ev<T> => e.type === type);
    return {
      failure,
      w,
      stored,
      calls: of("tool_call"),
      says: of("say"),
      spoken: (phrase) =>
        of("say").some((e) => e.text === phrase) && of("tts_audio").some((e) => e.text === phrase) &&
        w.spoken.includes(phrase),
      audioSamples: out.log.reduce((n, r) => n + (r.kind === "audio" ? r.samples : 0), 0),
    };
  } finally {
    store.close();
    await Deno.remove(dir, { recursive: true });
  }
}
