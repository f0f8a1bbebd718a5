/**
 * Engine calls under a deadline: each next frame must arrive in time, an adapter that throws instead of
 * yielding an error frame is caught, and an adapter that ignores its AbortSignal cannot hang the call.
 * Everything ends as frames; nothing throws across stages.
 *
 * @module
 */
import type { EngineError, ErrorFrame } from "./types.ts";

/** Result of {@linkcode guarded}: the frames, then (once) an error frame if the engine failed. */
export async function* guarded<T extends { type: string }>(
  engine: EngineError["engine"],
  start: () => AsyncIterable<T>,
  opts: { signal: AbortSignal; abort: (reason: unknown) => void; firstMs: number; gapMs: number },
): AsyncGenerator<T | ErrorFrame> {
  let it: AsyncIterator<T>;
  try {
    it = start()[Symbol.asyncIterator]();
  } catch (e) {
    yield errorFrame(engine, "crashed", `Engine threw on start: ${String(e)}`);
    return;
  }
  let first = true;
  try {
    while (!opts.signal.aborted) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const limit = first ? opts.firstMs : opts.gapMs;
      const timeout = new Promise<"timeout">((resolve) => {
        timer = setTimeout(() => resolve("timeout"), limit);
      });
      const aborted = new Promise<"aborted">((resolve) => {
        if (opts.signal.aborted) resolve("aborted");
        opts.signal.addEventListener("abort", () => resolve("aborted"), { once: true });
      });
      let r: IteratorResult<T> | "timeout" | "aborted";
      try {
        const next = it.next();
        next.catch(() => {}); // a late rejection after a timeout must not go unhandled
        r = await Promise.race([next, timeout, aborted]);
      } catch (e) {
        yield errorFrame(engine, "crashed", `Engine failed: ${String(e)}`);
        return;
      } finally {
        clearTimeout(timer);
      }
      if (r === "aborted") return;
      if (r === "timeout") {
        opts.abort(new Error(`${engine} timed out`));
        yield errorFrame(engine, "timeout", `No ${first ? "first" : "next"} frame within ${limit} ms`);
        return;
      }
      if (r.done) return;
      first = false;
      yield r.value;
      if (r.value.type === "error") return;
    }
  } finally {
    // Let the adapter clean up, without waiting on one that hangs.
    try {
      it.return?.()?.catch?.(() => {});
    } catch {
      // ignore
    }
  }
}

/** An error frame. */
export function errorFrame(
  engine: EngineError["engine"],
  kind: EngineError["kind"],
  message: string,
): ErrorFrame {
  return { type: "error", error: { engine, kind, message, retryable: kind !== "rejected" } };
}
