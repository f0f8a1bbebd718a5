/**
 * The call registry's maximum of concurrent calls (`maxCalls`, `TOM_MAX_CALLS`): full at the maximum, a
 * further call refused with {@linkcode CallsFullError}, free again once a call ends; 0 means no limit.
 *
 * @module
 */
import assert from "node:assert/strict";
import { CallRegistry, CallsFullError } from "../../infra/call_registry.ts";
import { loadConfig } from "../../infra/config.ts";

const call = (id: string) => ({ id, end: () => Promise.resolve() });

Deno.test("the registry is full at its maximum, refuses a further call, and takes one again after an end", () => {
  const calls = new CallRegistry({ max: 2 });
  const first = calls.add(call("a"));
  assert.equal(calls.full, false);
  calls.add(call("b"));
  assert.equal(calls.full, true);
  assert.throws(() => calls.add(call("c")), CallsFullError);
  assert.equal(calls.size, 2);
  assert.equal(calls.started, 2);
  first();
  assert.equal(calls.full, false);
  calls.add(call("c"));
  assert.equal(calls.size, 2);
});

Deno.test("maxCalls 0 (the default) is no limit; TOM_MAX_CALLS sets it and is validated", () => {
  const unlimited = new CallRegistry();
  for (let i = 0; i < 500; i++) unlimited.add(call(String(i)));
  assert.equal(unlimited.full, false);
  assert.equal(loadConfig({ env: {}, cwd: "/tmp" }).maxCalls, 0);
  assert.equal(loadConfig({ env: { TOM_MAX_CALLS: "8" }, cwd: "/tmp" }).maxCalls, 8);
  assert.throws(() => loadConfig({ env: { TOM_MAX_CALLS: "-1" }, cwd: "/tmp" }), /TOM_MAX_CALLS|maxCalls/);
});
