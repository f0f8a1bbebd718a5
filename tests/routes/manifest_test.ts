import assert from "node:assert/strict";
import { manifestSource, routeFiles } from "../../ui/gen_manifest.ts";
import { routePath } from "../../ui/router.ts";
import { ROOT } from "../_helpers.ts";
import { MANIFEST } from "../../routes/_manifest.ts";

Deno.test("routes/_manifest.ts lists every route file (run: deno run -A ui/gen_manifest.ts)", () => {
  const current = Deno.readTextFileSync(`${ROOT}/routes/_manifest.ts`);
  assert.equal(current, manifestSource(routeFiles()));
});

Deno.test("file paths become route paths as in Fresh", () => {
  assert.equal(routePath("./routes/index.tsx"), "/");
  assert.equal(routePath("./routes/people/index.tsx"), "/people");
  assert.equal(routePath("./routes/people/[id]/index.tsx"), "/people/:id");
  assert.equal(routePath("./routes/people/[id]/export.ts"), "/people/:id/export");
  assert.equal(routePath("./routes/api/openapi.json.ts"), "/api/openapi.json");
});

Deno.test("every route has a handler or a page, and every API route is documented", () => {
  for (const [file, mod] of Object.entries(MANIFEST)) {
    assert.ok(mod.handler || mod.default, file);
    if (routePath(file).startsWith("/api/")) assert.ok(mod.doc, `${file} has no doc`);
  }
});
