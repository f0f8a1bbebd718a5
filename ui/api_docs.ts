// The API's documentation, collected from the `doc` export of each API route (zod -> JSON Schema).
import { z } from "zod";
import { routePath } from "./router.ts";
import type { ApiDoc } from "./api.ts";
import { T } from "./texts_de.ts";

/** One documented endpoint. */
export interface Endpoint {
  method: string;
  path: string;
  summary: string;
  returns: string;
  admin: boolean;
  body?: unknown;
  query?: unknown;
}

function schema(s: z.ZodType | undefined): unknown {
  if (!s) return undefined;
  try {
    return z.toJSONSchema(s, { io: "input", unrepresentable: "any" });
  } catch {
    return { description: "siehe Quelltext" };
  }
}

/** Every documented API endpoint, by path. */
export function endpoints(
  manifest: Record<string, { doc?: ApiDoc; config?: { auth?: string } }>,
): Endpoint[] {
  const out: Endpoint[] = [];
  for (const [file, mod] of Object.entries(manifest)) {
    if (!mod.doc) continue;
    const path = routePath(file);
    for (const [method, d] of Object.entries(mod.doc)) {
      if (!d) continue;
      out.push({
        method,
        path,
        summary: d.summary,
        returns: d.returns,
        admin: d.admin === true || mod.config?.auth === "admin",
        body: schema(d.body),
        query: schema(d.query),
      });
    }
  }
  return out.sort((a, b) => a.path.localeCompare(b.path) || a.method.localeCompare(b.method));
}

/** An OpenAPI 3.1 document of the endpoints. */
export function openApi(eps: Endpoint[], version: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const e of eps) {
    const p = e.path.replace(/:(\w+)/g, "{$1}");
    const params = [...e.path.matchAll(/:(\w+)/g)].map((m) => ({
      name: m[1],
      in: "path",
      required: true,
      schema: { type: "string" },
    }));
    const q = e.query as { properties?: Record<string, unknown> } | undefined;
    for (const [name, s] of Object.entries(q?.properties ?? {})) {
      params.push({ name, in: "query", required: false, schema: s as { type: string } });
    }
    (paths[p] ??= {})[e.method.toLowerCase()] = {
      summary: e.summary,
      description: `${e.returns}${e.admin ? ` (${T.api.adminOnly})` : ""}`,
      parameters: params,
      ...(e.body
        ? { requestBody: { required: true, content: { "application/json": { schema: e.body } } } }
        : {}),
      responses: {
        "200": { description: e.returns },
        "400": { description: "Ungültige Eingabe" },
        "401": { description: "Anmeldung erforderlich" },
        "403": { description: "Keine Berechtigung oder CSRF-Token fehlt" },
        "404": { description: "Nicht gefunden" },
      },
      security: [{ session: [] }, { bearer: [] }],
    };
  }
  return {
    openapi: "3.1.0",
    info: { title: "TOM admin API", version },
    components: {
      securitySchemes: {
        session: {
          type: "apiKey",
          in: "cookie",
          name: "tom_sid",
          description: "Sitzung; Änderungen brauchen X-CSRF-Token",
        },
        bearer: { type: "http", scheme: "bearer", description: "API-Token (tomapi_…) aus den Einstellungen" },
      },
    },
    paths,
  };
}
