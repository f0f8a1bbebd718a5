import assert from "node:assert/strict";
import {
  type ClosingInput,
  closingStart,
  closingStep,
  FEEDBACK_GOODBYE,
  FEEDBACK_REASK,
} from "../../../pipeline/rating/closing.ts";
import { FEEDBACK_QUESTION, FEEDBACK_THANKS } from "../../../pipeline/rating/rating.ts";

function run(inputs: ClosingInput[]) {
  let state = closingStart();
  const said: string[] = [];
  let done = false;
  for (const i of [{ type: "start" } as const, ...inputs]) {
    const step = closingStep(state, i);
    state = step.state;
    if (step.say) said.push(step.say);
    done = step.done;
  }
  return { state, said, done };
}

Deno.test("closing: a spoken rating is thanked and ends the call", () => {
  const r = run([{ type: "transcript", text: "sehr gut" }]);
  assert.deepEqual(r.said, [FEEDBACK_QUESTION, FEEDBACK_THANKS]);
  assert.equal(r.state.result?.rating, 5);
  assert.equal(r.state.source, "voice");
  assert.equal(r.done, true);
});

Deno.test("closing: a DTMF key is a rating", () => {
  const r = run([{ type: "dtmf", digit: "2" }]);
  assert.equal(r.state.result?.rating, 2);
  assert.equal(r.state.source, "dtmf");
});

Deno.test("closing: an unclear answer gets one re-ask, then a goodbye without rating", () => {
  const r = run([{ type: "transcript", text: "Wie bitte?" }, { type: "transcript", text: "hm" }]);
  assert.deepEqual(r.said, [FEEDBACK_QUESTION, FEEDBACK_REASK, FEEDBACK_GOODBYE]);
  assert.equal(r.state.result, null);
  assert.equal(r.done, true);
  const ok = run([{ type: "dtmf", digit: "9" }, { type: "transcript", text: "drei" }]);
  assert.equal(ok.state.result?.rating, 3);
});

Deno.test("closing: silence or hang-up ends without a rating", () => {
  const t = run([{ type: "timeout" }]);
  assert.deepEqual(t.said, [FEEDBACK_QUESTION, FEEDBACK_GOODBYE]);
  assert.equal(t.state.source, "none");
  const h = run([{ type: "hangup" }]);
  assert.equal(h.done, true);
  assert.equal(h.state.result, null);
});
