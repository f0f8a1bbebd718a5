// GET /api/calls/:id: one call with its transcript (decrypted, when stored), turn timings and analysis.
import { getAnalysis } from "../../../store/mod.ts";
import { readTranscript } from "../../../store/crypto/mod.ts";
import { type ApiDoc, found, json } from "../../../ui/mod.ts";
import { callJson } from "../../../ui/mod.ts";
import { getCallRow } from "../../../store/mod.ts";
import { listTurnMetrics } from "../../../store/mod.ts";
import type { Handlers } from "../../../ui/mod.ts";

export const doc: ApiDoc = {
  GET: {
    summary: "Ein Anruf mit Protokoll, Antwortzeiten pro Runde und Auswertung",
    returns: "{ call, transcript, turns, analysis }",
  },
};

export const handler: Handlers = {
  async GET(ctx) {
    const { account } = ctx.need();
    const store = ctx.deps.store;
    const call = found(getCallRow(store, account.id, ctx.params.id));
    const transcript = await readTranscript(store, ctx.deps.keyring, account.id, call.id);
    const a = getAnalysis(store, account.id, call.id);
    ctx.audit(transcript.length > 0 ? "transcript.view" : "call.view", "call", call.id, { api: true });
    return json({
      call: callJson(call),
      transcript,
      turns: listTurnMetrics(store, account.id, call.id),
      analysis: a?.status === "done"
        ? {
          sentimentLabel: a.sentimentLabel,
          sentimentScore: a.sentimentScore,
          reason: a.reason,
          summary: a.summary,
        }
        : null,
    });
  },
};
