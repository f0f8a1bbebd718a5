// PLUMBING test of the after-call pass for missed requests against the REAL llama-server with the
// synthetic model. The model writes gibberish, so only the shape is asserted: the json_schema-constrained
// answer parses as `{ requests: [...] }` within the bound, every item went through validation (kept as a
// note or dropped with a reason), and no error. The synthetic model left alone answers an empty list, so the
// schema is sent with exactly one item (minItems = maxItems = 1) to make it write an item that validation
// must then judge, and no more (gibberish items are long and slow on a CPU). The decisions are tested with a scripted model in
// missed_requests_test.ts.
import assert from "node:assert/strict";
import { engineSpecs } from "../../../infra/engines/specs.ts";
import { silentLogger } from "../../../infra/log.ts";
import { Supervisor } from "../../../infra/supervisor.ts";
import {
  findMissedRequests,
  MISSED_REQUESTS_JSON_SCHEMA,
  missedRequestMessages,
} from "../../../pipeline/analysis/missed_requests.ts";
import { createJsonChat, type JsonChat } from "../../../pipeline/engines/json_llm.ts";
import { validateToolCall } from "../../../pipeline/tools.ts";
import { LLAMA_MISSING, testConfig } from "../../infra/fixtures/engines.ts";

/** The schema with exactly one request, so the gibberish model writes one item. */
function exactlyOne(schema: Record<string, unknown>): Record<string, unknown> {
  const props = schema.properties as Record<string, Record<string, unknown>>;
  return { ...schema, properties: { requests: { ...props.requests, minItems: 1, maxItems: 1 } } };
}

const skip = LLAMA_MISSING !== undefined && Deno.env.get("CI") !== "true";
if (skip) console.error(`skipping llama-server missed-requests test: ${LLAMA_MISSING}`);

Deno.test({
  name: "missed requests on the real llama-server (plumbing): constrained JSON has the schema's shape",
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
      const real = createJsonChat({ kind: "llama-server", url: config.llm.url, model: config.llm.modelName });
      const chat: JsonChat = (messages, schema, signal) => real(messages, exactlyOne(schema), signal);
      const words = [
        { speaker: "caller" as const, text: "Ich brauche ein Rezept für Ramipril und bitte einen Rückruf." },
        { speaker: "assistant" as const, text: "Das Rezept habe ich notiert." },
      ];
      const noted = [{
        kind: "prescription" as const,
        urgency: "normal" as const,
        callerName: "",
        callbackNumber: null,
        forWhom: "",
        preferredTimes: "",
        medication: "Ramipril",
        summary: "Rezept Ramipril",
      }];
      for (let i = 0; i < 2; i++) {
        // The raw answer: JSON with a bounded list of objects that carry at least kind and summary.
        const raw = JSON.parse(
          await chat(missedRequestMessages(words, noted), MISSED_REQUESTS_JSON_SCHEMA),
        ) as { requests: Record<string, unknown>[] };
        assert.ok(Array.isArray(raw.requests));
        assert.ok(raw.requests.length === 1);
        for (const item of raw.requests) {
          assert.equal(typeof item.kind, "string");
          assert.equal(typeof item.summary, "string");
          const v = validateToolCall("note_request", item);
          assert.ok(v.ok || v.reason.length > 0, "validation answers for every item");
        }
        // Through the module: no error, every item accounted for, everything kept is a valid note.
        const r = await findMissedRequests(chat, words, noted, { callerId: "+4930111222" });
        assert.equal(r.error, undefined, `error: ${r.error}`);
        const judged = r.notes.length + r.dropped.length + r.skipped;
        assert.equal(judged, 1, "the item was kept, dropped or skipped");
        for (const n of r.notes) assert.ok(n.summary.length > 0 && n.summary.length <= 300);
      }
    } finally {
      await supervisor.stop();
    }
  },
});
