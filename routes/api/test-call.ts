// POST /api/test-call: a call id and a short-lived gateway token for WS /ws/stream/:callId.
import { mintCallToken } from "../../gateway/mod.ts";
import { type ApiDoc, json } from "../../ui/mod.ts";
import type { Handlers } from "../../ui/mod.ts";

export const doc: ApiDoc = {
  POST: {
    summary: "Testanruf vorbereiten: Anruf-ID und Token (5 Minuten gültig) für WS /ws/stream/:callId?token=…",
    returns: "{ callId, token, wsPath, expiresInSeconds }",
  },
};

const TTL_S = 300;

export const handler: Handlers = {
  async POST(ctx) {
    const { account } = ctx.need();
    const callId = `test-${crypto.randomUUID()}`;
    const ttl = Math.min(TTL_S, ctx.deps.config.jwt.maxTtlSeconds);
    const token = await mintCallToken(ctx.deps.jwtKey(), {
      callId,
      ttlSeconds: ttl,
      subject: `ui:${account.id}`,
    });
    ctx.audit("testcall.start", "call", callId);
    return json({ callId, token, wsPath: `/ws/stream/${callId}`, expiresInSeconds: ttl });
  },
};
