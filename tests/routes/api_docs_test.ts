import assert from "node:assert/strict";
import { setupAndLogin, startTestUi } from "../ui/_harness.ts";

Deno.test("the API is documented as OpenAPI 3.1 with JSON Schemas from the zod validators", async () => {
  const t = await startTestUi();
  try {
    const c = await setupAndLogin(t);
    const doc = await (await c.fetch("/api/openapi.json")).json();
    assert.equal(doc.openapi, "3.1.0");
    const post = doc.paths["/api/people"].post;
    assert.equal(post.requestBody.content["application/json"].schema.properties.retentionDays.maximum, 365);
    assert.ok(doc.paths["/api/people/{id}"].delete.description.includes("nur Administratoren"));
    const page = await (await c.fetch("/api")).text();
    assert.match(page, /GET \/api\/calls/);
  } finally {
    await t.close();
  }
});

Deno.test("the test-call endpoint mints a short-lived token for a new browser call", async () => {
  const t = await startTestUi();
  try {
    const c = await setupAndLogin(t);
    const { csrf } = await c.page("/test-call");
    const res = await c.fetch("/api/test-call", {
      method: "POST",
      headers: { "x-csrf-token": csrf, "content-type": "application/json" },
      body: "{}",
    });
    assert.equal(res.status, 200);
    const body = await res.json();
    assert.match(body.callId, /^test-/);
    assert.equal(body.wsPath, `/ws/stream/${body.callId}`);
    const claims = JSON.parse(atob(body.token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/")));
    assert.equal(claims.call_id, body.callId);
    assert.ok(claims.exp - claims.iat <= 300);
    assert.match(claims.sub, /^ui:/);
  } finally {
    await t.close();
  }
});
