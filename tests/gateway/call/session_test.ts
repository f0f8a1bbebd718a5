/**
 * What the session decides about a caller (issue 15): a match of the caller ID (E.164: phone_test.ts)
 * alone is only `number_match`; `placed` is a call TOM dialled itself.
 */
import assert from "node:assert/strict";
import { callIdentity } from "../../../gateway/call/session.ts";

Deno.test("identity at the start: a number match is never more than number_match; TOM's own call is placed", () => {
  assert.equal(callIdentity("inbound", null), "unknown");
  assert.equal(callIdentity("inbound", "p1"), "number_match");
  assert.equal(callIdentity("outbound", "p1"), "placed");
  assert.equal(callIdentity("outbound", null), "unknown");
});
