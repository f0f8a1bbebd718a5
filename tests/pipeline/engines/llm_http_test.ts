import assert from "node:assert/strict";
import {
  errorMessageOf,
  isConnectFailure,
  lines,
  statusFailure,
} from "../../../pipeline/engines/llm_http.ts";

function stream(chunks: string[]): ReadableStream<Uint8Array> {
  const enc = new TextEncoder();
  return new ReadableStream({
    start(c) {
      for (const ch of chunks) c.enqueue(enc.encode(ch));
      c.close();
    },
  });
}

async function all(chunks: string[]): Promise<string[]> {
  const out: string[] = [];
  for await (const l of lines(stream(chunks))) out.push(l);
  return out;
}

Deno.test("lines are reassembled however the chunks are cut, with LF, CRLF and a CR at a chunk end", async () => {
  assert.deepEqual(await all(["a\nb", "c\r", "\nd\re\n\nlast"]), ["a", "bc", "d", "e", "", "last"]);
  assert.deepEqual(await all(["x\r", "\r\n"]), ["x", ""]);
  assert.deepEqual(await all(["ü".slice(0, 1), "\n"]), ["ü"]);
  assert.deepEqual(await all([]), []);
});

Deno.test("a consumer that stops early cancels the stream", async () => {
  let cancelled = false;
  const s = new ReadableStream<Uint8Array>({
    pull(c) {
      c.enqueue(new TextEncoder().encode("line\n"));
    },
    cancel() {
      cancelled = true;
    },
  });
  for await (const _ of lines(s)) break;
  assert.equal(cancelled, true);
});

Deno.test("error bodies, statuses and connect failures are classified", () => {
  assert.equal(errorMessageOf('{"error":"model not found"}'), "model not found");
  assert.equal(errorMessageOf('{"error":{"code":503,"message":"Loading model"}}'), "Loading model");
  assert.equal(errorMessageOf('{"text":"x"}'), undefined);
  assert.equal(errorMessageOf("not json"), undefined);
  assert.equal(statusFailure("llm", "u", 503, "").kind, "unavailable");
  assert.equal(statusFailure("llm", "u", 429, "").retryable, true);
  assert.equal(statusFailure("llm", "u", 404, "").retryable, false);
  assert.equal(statusFailure("stt", "u", 500, "").kind, "crashed");
  assert.ok(
    isConnectFailure(
      new TypeError("error sending request: tcp connect error: Connection refused (os error 111)"),
    ),
  );
  assert.ok(!isConnectFailure(new TypeError("connection closed before message completed")));
});
