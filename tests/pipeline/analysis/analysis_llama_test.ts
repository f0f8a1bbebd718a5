// The post-call analysis against the real llama-server with the synthetic model: the model writes
// gibberish, but json_schema-constrained decoding must still give schema-valid JSON every time.
import assert from "node:assert/strict";
import { engineSpecs } from "../../../infra/engines/specs.ts";
import { silentLogger } from "../../../infra/log.ts";
import { Supervisor } from "../../../infra/supervisor.ts";
import { createAccount } from "../../../store/accounts.ts";
import { enqueueAnalysis, getAnalysis } from "../../../store/call_analysis.ts";
import { createCall } from "../../../store/calls.ts";
import { setCallIdentity } from "../../../store/caller_identity.ts";
import { openStore } from "../../../store/db.ts";
import { getMemory } from "../../../store/memory.ts";
import { createPerson } from "../../../store/people.ts";
import { AnalysisWorker, analyzeTranscript } from "../../../pipeline/analysis/analysis.ts";
import { AnalysisWireSchema } from "../../../pipeline/analysis/schema.ts";
import { createJsonChat } from "../../../pipeline/engines/json_llm.ts";
import { mergeMemory } from "../../../pipeline/analysis/memory_merge.ts";
import { LLAMA_MISSING, testConfig } from "../../infra/fixtures/engines.ts";

const skip = LLAMA_MISSING !== undefined && Deno.env.get("CI") !== "true";
if (skip) console.error(`skipping llama-server analysis test: ${LLAMA_MISSING}`);

Deno.test({
  name: "analysis on the real llama-server: schema-valid JSON 5 times, merge idempotent, consent respected",
  ignore: skip,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const config = testConfig();
    const supervisor = new Supervisor(engineSpecs(config).filter((s) => s.name === "llm"), {
      log: silentLogger,
    });
    await supervisor.start();
    try {
      const chat = createJsonChat({ kind: "llama-server", url: config.llm.url, model: config.llm.modelName });
      const lines = [
        { speaker: "caller" as const, text: "Guten Tag, ich brauche ein neues Rezept für meinen Blutdruck." },
        { speaker: "assistant" as const, text: "Gern, die Praxis legt es Ihnen bis morgen bereit." },
      ];
      for (let i = 0; i < 5; i++) {
        const a = await analyzeTranscript(chat, lines);
        assert.equal(AnalysisWireSchema.safeParse(a).success, true);
      }
      // Through the worker: consent kept, memory merged; the same update again changes nothing.
      const store = openStore(":memory:");
      const account = createAccount(store, { name: "Praxis", kind: "clinical" });
      const yes = createPerson(store, account.id, {
        kind: "patient",
        displayName: "Hans Müller",
        phoneE164: "+4917012345678",
        consentTranscript: true,
      });
      const no = createPerson(store, account.id, {
        kind: "patient",
        displayName: "Erna Schmidt",
        phoneE164: "+4917012345679",
      });
      const c1 = createCall(store, account.id, {
        direction: "inbound",
        transport: "browser",
        personId: yes.id,
      });
      const c2 = createCall(store, account.id, {
        direction: "inbound",
        transport: "browser",
        personId: no.id,
      });
      setCallIdentity(store, account.id, c1.id, "verified");
      enqueueAnalysis(store, account.id, c1.id);
      enqueueAnalysis(store, account.id, c2.id);
      const worker = new AnalysisWorker(store, { chat, loadTranscript: () => Promise.resolve(lines) });
      const r = await worker.tick([account.id]);
      assert.equal(
        r.done,
        2,
        `tick: ${JSON.stringify(r)} ${getAnalysis(store, account.id, c1.id)?.lastError}`,
      );
      assert.equal(getMemory(store, account.id, no.id), undefined, "no consent, no memory");
      assert.deepEqual(getAnalysis(store, account.id, c2.id)?.summary, []);
      const m1 = getMemory(store, account.id, yes.id);
      assert.ok(m1);
      const update = getAnalysis(store, account.id, c1.id)?.memoryUpdate;
      assert.ok(update);
      const again = mergeMemory(m1.memory, AnalysisWireSchema.shape.memory.parse(update), {
        allowHealthNotes: true,
      });
      assert.deepEqual(again, m1.memory, "merging the same update twice changes nothing");
      store.close();
    } finally {
      await supervisor.stop();
    }
  },
});
