// GET /api/openapi.json: the API as OpenAPI 3.1.
import { VERSION } from "../../infra/mod.ts";
import { type ApiDoc, json } from "../../ui/mod.ts";
import { endpoints, openApi } from "../../ui/mod.ts";
import type { Handlers } from "../../ui/mod.ts";

export const doc: ApiDoc = {
  GET: { summary: "Diese Beschreibung als OpenAPI 3.1", returns: "OpenAPI-Dokument" },
};

export const handler: Handlers = {
  GET(ctx) {
    return json(openApi(endpoints(ctx.deps.routes ?? {}), VERSION));
  },
};
