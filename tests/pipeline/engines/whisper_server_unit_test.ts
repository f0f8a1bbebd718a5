import assert from "node:assert/strict";
import { FairQueue } from "../../../pipeline/engines/queue.ts";
import { WhisperServerStt } from "../../../pipeline/engines/whisper_server.ts";
import { pcm16ToWav } from "../../../pipeline/engines/stt_wav.ts";
import type { SttFrame } from "../../../pipeline/engines/types.ts";
import { collect, readWav } from "./stt_fixtures.ts";

const PCM = new Int16Array([0, 1000, -1000, 32767, -32768]);

function answering(status: number, body: string, seen: FormData[] = []): typeof fetch {
  return ((_u: unknown, init?: RequestInit) => {
    seen.push(init?.body as FormData);
    return Promise.resolve(new Response(body, { status }));
  }) as typeof fetch;
}

async function one(stt: WhisperServerStt): Promise<SttFrame> {
  const frames = await collect(stt.transcribe(PCM, { signal: new AbortController().signal, callId: "a" }));
  assert.equal(frames.length, 1);
  return frames[0];
}

Deno.test("the WAV sent to whisper-server is 16 kHz mono PCM16 with the samples intact", () => {
  const wav = pcm16ToWav(PCM);
  assert.equal(wav.length, 44 + PCM.length * 2);
  const back = readWav(wav);
  assert.equal(back.sampleRate, 16_000);
  assert.deepEqual([...back.pcm], [...PCM]);
});

Deno.test("the multipart request names file, json format, language and temperature 0; text is trimmed", async () => {
  const seen: FormData[] = [];
  const stt = new WhisperServerStt({
    url: "http://127.0.0.1:1/",
    fetch: answering(200, '{"text":" Hallo\\n"}', seen),
  });
  const f = await one(stt);
  assert.ok(f.type === "final");
  assert.equal(f.text, "Hallo");
  assert.equal(f.language, "de");
  const form = seen[0];
  assert.equal(form.get("response_format"), "json");
  assert.equal(form.get("language"), "de");
  assert.equal(form.get("temperature"), "0");
  const file = form.get("file") as File;
  assert.equal(file.size, 44 + PCM.length * 2);
});

Deno.test("whisper-server answers become error frames of the right kind", async () => {
  const kind = async (status: number, body: string) => {
    const f = await one(new WhisperServerStt({ url: "http://127.0.0.1:1", fetch: answering(status, body) }));
    assert.ok(f.type === "error");
    return [f.error.kind, f.error.retryable];
  };
  assert.deepEqual(await kind(500, "oops"), ["crashed", true]);
  assert.deepEqual(await kind(503, "loading"), ["unavailable", true]);
  assert.deepEqual(await kind(400, "Invalid request"), ["rejected", false]);
  assert.deepEqual(await kind(200, '{"error":"failed to read audio"}'), ["bad_response", true]);
  assert.deepEqual(await kind(200, "not json"), ["bad_response", true]);
  assert.deepEqual(await kind(200, '{"segments":[]}'), ["bad_response", true]);
});

Deno.test("a full queue refuses with a retryable rejected frame", async () => {
  const queue = new FairQueue({ maxWaiting: 0 });
  const held = await queue.acquire("x", new AbortController().signal);
  const stt = new WhisperServerStt({
    url: "http://127.0.0.1:1",
    queue,
    fetch: answering(200, '{"text":"x"}'),
  });
  const f = await one(stt);
  assert.ok(f.type === "error" && f.error.kind === "rejected" && f.error.retryable);
  held?.release();
});

Deno.test("a consumer that stops pulling after the queued frame does not hold the engine", async () => {
  const queue = new FairQueue();
  const held = await queue.acquire("other", new AbortController().signal);
  const stt = new WhisperServerStt({
    url: "http://127.0.0.1:1",
    queue,
    fetch: answering(200, '{"text":"x"}'),
  });
  const it = stt.transcribe(PCM, { signal: new AbortController().signal, callId: "a" })
    [Symbol.asyncIterator]();
  const first = it.next();
  held?.release();
  const r = await first;
  assert.equal(r.value?.type, "queued");
  // Not pulling any further: the request still finishes and frees the slot.
  for (let i = 0; i < 400 && queue.active > 0; i++) await new Promise((r) => setTimeout(r, 5));
  assert.equal(queue.active, 0);
  assert.equal((await it.next()).value?.type, "final");
  assert.equal((await it.next()).done, true);
});
