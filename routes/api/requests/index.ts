// GET /api/requests?status=&kind=: the account's requests (decrypted), open first, emergencies and urgent
// on top, newest first. Staff and administrators alike; every list is audited.
import { z } from "zod";
import { listRequests, REQUEST_KINDS, REQUEST_STATUSES } from "../../../store/mod.ts";
import { type ApiDoc, json, query, requestJson } from "../../../ui/mod.ts";
import type { Handlers } from "../../../ui/mod.ts";

const RequestsQuery = z.object({
  status: z.enum(REQUEST_STATUSES).optional(),
  kind: z.enum(REQUEST_KINDS).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(200),
});

export const doc: ApiDoc = {
  GET: {
    summary: "Anliegen des Kontos (offene zuerst, Notfälle und dringende oben, neueste zuerst)",
    query: RequestsQuery,
    returns: "{ requests: Request[] }",
  },
};

export const handler: Handlers = {
  async GET(ctx) {
    const { account } = ctx.need();
    const q = query(ctx, RequestsQuery);
    const requests = await listRequests(ctx.deps.store, ctx.deps.keyring, account.id, q);
    ctx.audit("request.list", "request", null, {
      count: requests.length,
      status: q.status ?? "",
      kind: q.kind ?? "",
      api: true,
    });
    return json({ requests: requests.map(requestJson) });
  },
};
