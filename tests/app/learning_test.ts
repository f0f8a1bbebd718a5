// The learning loop and the usage log wired into the real appliance (`startAppliance`, in-process, the
// pipeline answering stage with the real espeak-ng; STT and LLM point at a server that cannot answer, so
// the call only hears TOM's greeting): a browser call gets a policy variant recorded on its row and, after
// the caller hangs up, a reward with "rating" and "resolution" listed as missing, one usage-log line, and
// the feedback counter on /metrics.
import assert from "node:assert/strict";
import { join } from "node:path";
import { loadConfig } from "../../infra/config.ts";
import { startAppliance } from "../../app/serve.ts";
import { usageFile } from "../../app/usage_log.ts";
import { findBinary } from "../../infra/engines/files.ts";
import { hmacKey, mintCallToken } from "../../gateway/auth/token.ts";
import { applyVariant } from "../../rl/mod.ts";
import { getCall, getPractice, getReward, getVariant, listAccounts, listVariants } from "../../store/mod.ts";
import { disclosesAi, fillNames, greetingNames, PHRASES } from "../../pipeline/mod.ts";
import { freePort } from "../_helpers.ts";
import { pcmBytes, TestClient } from "../gateway/server_harness.ts";

const SECRET = "appliance-learning-test-secret-0123456789";

const noEspeak = (await findBinary("espeak-ng")) === undefined;
if (noEspeak && Deno.env.get("CI") !== "true") {
  console.error("skipping: espeak-ng missing (deno task engines)");
}

Deno.test({
  name:
    "appliance: a call runs under a recorded variant; hang-up gives a reward with missing signals and a usage line",
  ignore: noEspeak && Deno.env.get("CI") !== "true",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "tom-appliance-rl-" });
    const dead = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen() {} },
      () => new Response("", { status: 503 }),
    );
    const url = `http://127.0.0.1:${dead.addr.port}`;
    const config = loadConfig({
      env: {
        HOME: dir,
        TOM_DATA_DIR: join(dir, "data"),
        TOM_ENGINES_DIR: join(dir, "engines"),
        TOM_HTTP_PORT: String(freePort()),
        TOM_AUDIOSOCKET_PORT: String(freePort()),
        TOM_MANAGE_ENGINES: "false",
        TOM_STT_URL: url,
        TOM_LLM_URL: url,
        TOM_RL_ANALYSIS: "false",
        TOM_JWT_SECRET: SECRET,
        TOM_LOG_LEVEL: "error",
      },
      cwd: dir,
    });
    const app = await startAppliance(config);
    try {
      const base = `127.0.0.1:${app.addr.port}`;
      const token = await mintCallToken(hmacKey(SECRET), { callId: "rl-call-1" });
      const c = new TestClient(`ws://${base}/ws/stream/rl-call-1?token=${token}`);
      await c.event("connected");
      c.send({ type: "start" });
      await c.event("streaming_started");
      // One second of a quiet line while TOM greets.
      for (let i = 0; i < 50; i++) c.send(pcmBytes(new Int16Array(320).fill(i % 2 === 0 ? 30 : -30)));
      const greeting = await c.event("tts_audio", 60_000);
      await c.until(() => c.frames.length > 0, "greeting audio", 30_000);
      await c.close();

      const accountId = listAccounts(app.store)[0].id;
      const deadline = Date.now() + 20_000;
      while (!getReward(app.store, accountId, "rl-call-1")) {
        assert.ok(Date.now() < deadline, "no reward recorded for the call");
        await new Promise((r) => setTimeout(r, 50));
      }
      const call = getCall(app.store, accountId, "rl-call-1");
      assert.ok(call?.policyVariantId, "the call carries its policy variant");
      assert.equal(call.banditContext, "clinical");
      const variant = getVariant(app.store, call.policyVariantId);
      assert.ok(variant);
      // TOM greeted with the variant's greeting filled with the practice's names, or (not synthesized yet)
      // with the default one; either discloses the AI.
      const names = greetingNames(getPractice(app.store, accountId));
      const greetings = new Set([fillNames(applyVariant(variant).greeting, names), PHRASES.greeting]);
      assert.ok(greetings.has(String(greeting.text)), `greeting ${greeting.text}`);
      assert.ok(
        disclosesAi(
          String(greeting.text),
          String(greeting.text) === PHRASES.greeting ? greetingNames() : names,
        ),
      );
      assert.equal(listVariants(app.store).length, 12);

      const reward = getReward(app.store, accountId, "rl-call-1");
      assert.ok(reward);
      assert.equal(reward.source, "none");
      assert.ok(
        reward.missing.includes("rating") && reward.missing.includes("resolution"),
        reward.missing.join(),
      );
      assert.equal(reward.variantId, call.policyVariantId);
      assert.equal(reward.applied, true);

      const lines = (await Deno.readTextFile(usageFile(config.dataDir, new Date()))).trim().split("\n");
      const rec = lines.map((l) => JSON.parse(l)).find((r) => r.call_id === "rl-call-1");
      assert.ok(rec, "usage line for the call");
      assert.equal(rec.ending, "hangup");
      assert.ok(rec.audio_in_s >= 0.9 && rec.audio_in_s <= 1.1, `audio in ${rec.audio_in_s}`);
      assert.ok(rec.audio_out_s > 0, "the greeting was sent");

      const metrics = await (await fetch(`http://${base}/metrics`)).text();
      assert.match(metrics, /tom_rl_feedback_total\{source="none"\} 1/);
      assert.match(metrics, /tom_rl_policy_pulls_total\{variant="[^"]+"\} 1/);
    } finally {
      await app.shutdown("test over");
      await dead.shutdown();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
