/**
 * /readyz with Piper that cannot speak: TOM is ready (espeak-ng speaks) and the TTS check says it is
 * degraded and why, whether the check found it (binary missing) or the running engine did (Piper exited).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { readinessChecks } from "../../app/readiness.ts";
import { type EngineSpec, loadConfig } from "../../infra/mod.ts";
import { findBinary } from "../../infra/engines/files.ts";
import { openStore } from "../../store/mod.ts";

const espeak = await findBinary("espeak-ng");

Deno.test({
  name: "readyz: Piper missing or failed is ready but degraded, with the reason for staff",
  ignore: !espeak,
  async fn() {
    const dir = await Deno.makeTempDir();
    const store = openStore(":memory:");
    try {
      const config = loadConfig({ env: { TOM_DATA_DIR: dir } });
      const model = join(dir, "v.onnx");
      await Deno.writeFile(model, new Uint8Array([1]));
      await Deno.writeTextFile(`${model}.json`, "{}");
      const missing: EngineSpec = {
        name: "tts",
        kind: "piper",
        managed: false,
        bin: join(dir, "piper"),
        model,
      };
      const found = await readinessChecks(config, [missing], store, () => undefined)();
      const tts = found.find((c) => c.name === "tts");
      assert.equal(tts?.ok, true, String(tts?.reason));
      assert.match(String(tts?.degraded), /Piper nicht nutzbar \(binary not found: .*piper\).*espeak-ng/);

      // A piper binary that is there, but exited at once when the first sentence came (the engine says so).
      const present: EngineSpec = { ...missing, bin: espeak as string };
      const said = "Piper nicht nutzbar (Piper exited with code 1); es spricht die Ersatzstimme espeak-ng";
      const ran = await readinessChecks(config, [present], store, () => undefined, () => said)();
      assert.deepEqual(
        ran.filter((c) => c.name === "tts").map((c) => [c.ok, c.degraded]),
        [[true, said]],
      );
      const fine = await readinessChecks(config, [present], store, () => undefined, () => undefined)();
      assert.equal(fine.find((c) => c.name === "tts")?.degraded, undefined);
    } finally {
      store.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
