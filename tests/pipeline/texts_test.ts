import assert from "node:assert/strict";
import { heardText } from "../../pipeline/heard.ts";
import { buildMessages, buildSystemPrompt, DEFAULT_POLICY } from "../../pipeline/prompt.ts";
import { fillNames } from "../../pipeline/disclosure.ts";
import { isBackchannel, PHRASES } from "../../pipeline/texts.ts";
import { DEFAULT_PIPELINE_OPTIONS, resolvePipelineOptions } from "../../pipeline/defaults.ts";

Deno.test("German backchannels are recognised, real answers are not", () => {
  for (const t of ["ja", "Ja.", "mhm", "Genau!", "okay", "hm", "ja, genau", "", "  "]) {
    assert.ok(isBackchannel(t), t);
  }
  for (const t of ["Nein", "Ja, aber morgen", "Stopp", "Ich habe Fieber", "ja ja ja ja"]) {
    assert.ok(!isBackchannel(t), t);
  }
});

Deno.test("the phrases TOM says by itself are German and non-empty", () => {
  for (const [k, v] of Object.entries(PHRASES)) assert.ok(v.length > 10 && /[a-zäöüß]/.test(v), k);
  assert.match(PHRASES.callbackOffer, /zurück/);
});

Deno.test("heard text: whole sentences played, then the played share of the next one", () => {
  const s = [{ text: "Guten Tag.", ms: 1000 }, { text: "Der Termin ist am Montag um neun.", ms: 2000 }];
  assert.equal(heardText(s, 0), "");
  assert.equal(heardText(s, 1000), "Guten Tag.");
  assert.equal(heardText(s, 2000), "Guten Tag. Der Termin ist …");
  assert.equal(heardText(s, 5000), "Guten Tag. Der Termin ist am Montag um neun.");
});

Deno.test("the system prompt carries the policy and, when given, the caller's memory", () => {
  assert.equal(buildSystemPrompt(), fillNames(DEFAULT_POLICY));
  const p = buildSystemPrompt(undefined, {
    displayName: "Hans Müller",
    kind: "patient",
    memory: { hund: "Bello" },
  });
  assert.match(p, /Hans Müller/);
  assert.match(p, /Bello/);
  const m = buildMessages("sys", [{ caller: "a", assistant: "b" }, { caller: "c", assistant: "" }], "d", 1);
  assert.deepStrictEqual(m.map((x) => x.role + ":" + x.content), ["system:sys", "user:c", "user:d"]);
});

Deno.test("options are checked when the pipeline is built", () => {
  assert.equal(resolvePipelineOptions().endOfTurnSilenceMs, DEFAULT_PIPELINE_OPTIONS.endOfTurnSilenceMs);
  assert.throws(() => resolvePipelineOptions({ vadThreshold: 2 }), RangeError);
});
