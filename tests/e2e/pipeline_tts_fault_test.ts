// Fault test with the real engines for TTS: the real espeak-ng is SIGKILLed mid-sentence while it speaks
// the first answer. The caller hears the start of the sentence, then the pre-synthesized apology; the
// retried turn answers with real audio (espeak-ng is one process per sentence, so nothing restarts), and
// the next turn works.
import assert from "node:assert/strict";
import { silentLogger } from "../../infra/log.ts";
import { type PhraseName, PHRASES, pipelineAnswerer } from "../../pipeline/mod.ts";
import { PhraseCache, synthesizeAll } from "../../pipeline/phrases.ts";
import { createStt } from "../../pipeline/engines/stt.ts";
import { pcmBytes, startGateway, TestClient } from "../gateway/server_harness.ts";
import { ENGINES_MISSING, startEngines } from "./pipeline_engines.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const CI = Deno.env.get("CI") === "true";
if (ENGINES_MISSING && !CI) console.error(`skipping the TTS fault test: ${ENGINES_MISSING}`);

async function speak(client: TestClient, pcm: Int16Array, silenceMs: number): Promise<void> {
  const all = new Int16Array(pcm.length + silenceMs * 16);
  all.set(pcm);
  const t0 = performance.now();
  for (let i = 0, k = 0; i < all.length; i += 320, k++) {
    client.send(pcmBytes(all.subarray(i, i + 320)));
    const wait = t0 + (k + 1) * 20 - performance.now();
    if (wait > 0) await sleep(wait);
  }
}

/** The absolute path of the real espeak-ng (so the wrapper cannot call itself). */
function realEspeak(): string {
  for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
    const p = `${dir || "."}/espeak-ng`;
    try {
      if (Deno.statSync(p).isFile) return p;
    } catch { /* not here */ }
  }
  throw new Error("espeak-ng not found on PATH");
}

const q = (s: string) => `'${s.replaceAll("'", `'"'"'`)}'`;

/**
 * A stand-in for espeak-ng: runs the real one with the same arguments and text. While `armed` exists it
 * claims it (one `rm` wins), forwards only the first 8 KiB espeak-ng writes (the WAV header and ~0.2 s of
 * audio), SIGKILLs the real espeak-ng, logs its wait status to `log` and exits 137. The text is padded
 * so espeak-ng is certainly still speaking (blocked on the full FIFO) when the kill comes; the padding is
 * never forwarded.
 */
function wrapperScript(real: string, armed: string, log: string): string {
  return `#!/bin/sh
real=${q(real)}
if ! rm ${q(armed)} 2>/dev/null; then exec "$real" "$@"; fi
dir=$(mktemp -d) || exit 1
{ cat; i=0; while [ $i -lt 40 ]; do echo "Und so weiter und so weiter."; i=$((i + 1)); done; } > "$dir/text"
mkfifo "$dir/out"
"$real" "$@" < "$dir/text" > "$dir/out" &
pid=$!
exec 3< "$dir/out"
head -c 8192 <&3
kill -9 "$pid"
wait "$pid"
echo "$?" >> ${q(log)}
exec 3<&-
rm -rf "$dir"
exit 137
`;
}

Deno.test({
  name: "tts (espeak-ng) killed mid-sentence: apology, retry answers with audio, the next turn works",
  ignore: ENGINES_MISSING !== undefined && !CI,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    if (ENGINES_MISSING) throw new Error(`CI=true but the engines are missing: ${ENGINES_MISSING}`);
    const rejections: unknown[] = [];
    const onRejection = (e: PromiseRejectionEvent) => {
      e.preventDefault();
      rejections.push(e.reason);
    };
    globalThis.addEventListener("unhandledrejection", onRejection);
    const tmp = await Deno.makeTempDir({ prefix: "tom-tts-fault-" });
    const armed = `${tmp}/armed`;
    const log = `${tmp}/kills.log`;
    const wrapper = `${tmp}/espeak-ng-wrapper`;
    await Deno.writeTextFile(wrapper, wrapperScript(realEspeak(), armed, log));
    await Deno.chmod(wrapper, 0o755);
    const engines = await startEngines({ TOM_TTS_BIN: wrapper }, { sttTimeoutMs: 170_000 });
    let cleanup = () => engines.close();
    try {
      assert.equal(engines.config.tts.bin, wrapper);
      // Every phrase (the apology too) is synthesized before the kill switch is armed.
      const phrases = new PhraseCache(engines.tts);
      await phrases.warm();
      for (const name of Object.keys(PHRASES) as PhraseName[]) {
        assert.ok((phrases.get(name)?.length ?? 0) > 0, `phrase ${name} synthesized`);
      }
      const apologyMs = ((phrases.get("apology")?.length ?? 0) * 1000) / 16_000;
      const stt = createStt(engines.config, { timeoutMs: 170_000, cliFallback: false }) ?? engines.stt;
      const answer = pipelineAnswerer({
        stt,
        llm: engines.llm,
        tts: engines.tts,
        vad: () => engines.vad.createVad(),
        log: silentLogger,
        config: engines.config,
        phrases,
        options: {
          sttTimeoutMs: 180_000,
          llmFirstTokenTimeoutMs: 30_000,
          llmTokenGapMs: 30_000,
          ttsTimeoutMs: 30_000,
          retryDelayMs: 1_000,
          maxTokens: 24,
        },
      });
      const h = await startGateway({ answer });
      cleanup = async () => {
        await h.close();
        await engines.close();
      };
      const callId = `tts-fault-${crypto.randomUUID()}`;
      const client = new TestClient(`${h.ws}/ws/stream/${callId}?token=${await h.token(callId)}`);
      try {
        const utterance = await synthesizeAll(
          engines.tts,
          "Ich hätte gern einen Termin.",
          new AbortController().signal,
        );
        assert.ok(utterance && utterance.length > 0);
        await client.event("connected");
        client.send({ type: "start" });
        await client.until(() => client.events.some((e) => e.type === "mark"), "greeting", 60_000);

        // Arm the switch: the first sentence synthesized from now on (the first answer's) is killed.
        await Deno.writeTextFile(armed, "");
        await speak(client, utterance, 1_500);
        const ev = client.events;
        const errorAt = () => ev.findIndex((e) => e.type === "error" && e.code === "tts_crashed");
        await client.until(() => errorAt() >= 0, "the tts_crashed error", 200_000);
        const apologyAt = () =>
          ev.findIndex((e, i) => i > errorAt() && e.type === "tts_audio" && e.text === PHRASES.apology);
        await client.until(() => apologyAt() >= 0, "the apology", 30_000);
        // The real espeak-ng died by SIGKILL (wait status 137), once, and the switch is spent.
        assert.deepEqual((await Deno.readTextFile(log)).trim().split("\n"), ["137"]);
        await assert.rejects(Deno.stat(armed), Deno.errors.NotFound);
        // The caller heard the start of the killed sentence, then the whole pre-synthesized apology.
        const cut = ev.slice(0, errorAt()).filter((e) =>
          e.type === "tts_audio" && e.text !== PHRASES.greeting && e.text !== PHRASES.apology
        );
        assert.ok(cut.length > 0, "part of the first answer was played before the kill");
        const turn = cut[0].turn;
        const apology = ev[apologyAt()];
        assert.ok(Math.abs(Number(apology.durationMs) - apologyMs) < 1, "the whole cached apology");
        assert.ok(Number(apology.durationMs) > 500);

        // The retried turn answers with real audio.
        await client.until(() => ev.some((e) => e.type === "turn_end"), "the retried answer", 200_000);
        const firstEnd = ev.find((e) => e.type === "turn_end") ?? {};
        assert.equal(firstEnd.interrupted, false);
        assert.equal(firstEnd.turn, turn);
        const retried = ev.slice(apologyAt() + 1).filter((e) =>
          e.type === "tts_audio" && e.turn === firstEnd.turn &&
          !Object.values(PHRASES).includes(e.text as never)
        );
        const retriedMs = retried.reduce((n, e) => n + Number(e.durationMs), 0);
        assert.ok(retriedMs > 300, `the retried answer has audio (${retriedMs} ms)`);
        assert.ok(!ev.some((e) => e.type === "call_end"), "the call goes on");
        assert.equal(ev.filter((e) => e.type === "error").length, 1, "one failure only");

        // The next turn works.
        await client.until(() => ev.filter((e) => e.type === "mark").length >= 3, "answer played", 120_000)
          .catch(() => {});
        const ends = ev.filter((e) => e.type === "turn_end").length;
        const before = ev.length;
        await speak(client, utterance, 1_500);
        await client.until(
          () => ev.filter((e) => e.type === "turn_end").length > ends,
          "the next turn",
          200_000,
        );
        const next = ev.slice(before);
        assert.ok(
          next.some((e) => e.type === "tts_audio" && Number(e.durationMs) > 0),
          "the next turn answers with audio",
        );
        assert.ok(!next.some((e) => e.type === "error"), "the next turn has no error");
        client.send({ type: "stop" });
        await client.until(() => ev.some((e) => e.type === "call_end"), "call_end", 10_000);
      } finally {
        await client.close();
      }
    } finally {
      await cleanup();
      await Deno.remove(tmp, { recursive: true }).catch(() => {});
      await sleep(0);
      globalThis.removeEventListener("unhandledrejection", onRejection);
    }
    assert.deepEqual(rejections, [], "no unhandled rejection");
  },
});
