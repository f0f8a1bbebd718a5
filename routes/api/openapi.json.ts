// GET /api/openapi.json: the API as OpenAPI 3.1.
import { VERSION } from "../../infra/version.ts";
import { type ApiDoc, json } from "../../ui/api.ts";
import { endpoints, openApi } from "../../ui/api_docs.ts";
import { MANIFEST } from "../_manifest.ts";
import type { Handlers } from "../../ui/types.ts";

export const doc: ApiDoc = {
  GET: { summary: "Diese Beschreibung als OpenAPI 3.1", returns: "OpenAPI-Dokument" },
};

export const handler: Handlers = {
  GET() {
    return json(openApi(endpoints(MANIFEST), VERSION));
  },
};
