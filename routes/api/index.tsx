/** @jsxImportSource preact */
/** @jsxRuntime automatic */
// The API documentation page (/api): every endpoint with its JSON Schemas.
import type { VNode } from "preact";
import { type Endpoint, endpoints } from "../../ui/mod.ts";
import { T } from "../../ui/mod.ts";
import type { Handlers, PageProps, RouteConfig } from "../../ui/mod.ts";

export const config: RouteConfig = { api: false };

export const handler: Handlers<Endpoint[]> = {
  GET(ctx) {
    return ctx.render(endpoints(ctx.deps.routes ?? {}), { title: T.api.title });
  },
};

export default function ApiDocs({ data }: PageProps<Endpoint[]>): VNode {
  return (
    <>
      <h1>{T.api.title}</h1>
      <p>{T.api.intro}</p>
      <p>
        <a href="/api/openapi.json">OpenAPI 3.1 (JSON)</a>
      </p>
      {data.map((e) => (
        <section class="card" key={`${e.method} ${e.path}`}>
          <h2>
            <code>{e.method} {e.path}</code>
          </h2>
          <p>{e.summary}{e.admin && ` (${T.api.adminOnly})`}</p>
          <p class="hint">{e.returns}</p>
          {e.query !== undefined && (
            <details>
              <summary>{T.api.query}</summary>
              <pre class="report" tabindex={0}>{JSON.stringify(e.query, null, 2)}</pre>
            </details>
          )}
          {e.body !== undefined && (
            <details>
              <summary>{T.api.body}</summary>
              <pre class="report" tabindex={0}>{JSON.stringify(e.body, null, 2)}</pre>
            </details>
          )}
        </section>
      ))}
    </>
  );
}
