import assert from "node:assert/strict";
import { DEFAULT_PIPELINE_OPTIONS, resolvePipelineOptions } from "../../pipeline/defaults.ts";
import { listVariants, upsertVariant } from "../../store/bandit.ts";
import { openStore } from "../../store/db.ts";
import {
  applyVariant,
  DEFAULT_VARIANTS,
  GREETING_TEMPLATES,
  GreetingTemplateSchema,
  parseVariants,
  syncVariants,
} from "../../rl/variants.ts";
import { disclosesAi, fillNames, greetingNames } from "../../pipeline/disclosure.ts";

Deno.test("12 variants ship by default, with unique ids and the base among them", () => {
  assert.equal(DEFAULT_VARIANTS.variants.length, 12);
  assert.equal(new Set(DEFAULT_VARIANTS.variants.map((v) => v.id)).size, 12);
  assert.equal(DEFAULT_VARIANTS.baseVariant, "v1a");
});

Deno.test("every shipped variant maps to a prompt, a greeting and valid pipeline options", () => {
  for (const v of DEFAULT_VARIANTS.variants) {
    const p = applyVariant(v);
    assert.match(p.policy, /\{assistant\}, die KI-Telefonassistenz der \{practice\}/);
    assert.match(p.policy, /112/);
    assert.ok(p.greeting.length > 10);
    resolvePipelineOptions(p.pipeline);
  }
});

Deno.test("every shipped variant's greeting discloses the AI, filled or not", () => {
  const names = { assistant: "Anna", practice: "Hausarztpraxis Dr. Weber" };
  for (const v of DEFAULT_VARIANTS.variants) {
    const { greeting } = applyVariant(v);
    assert.ok(disclosesAi(greeting), `${v.id}: ${greeting}`);
    assert.ok(disclosesAi(fillNames(greeting, names), names), v.id);
    assert.ok(disclosesAi(fillNames(greeting), greetingNames()), v.id);
    assert.doesNotMatch(fillNames(greeting, names), /[{}]/);
  }
  for (const g of Object.values(GREETING_TEMPLATES)) assert.ok(disclosesAi(g), g);
});

Deno.test("the variant schema refuses a greeting without the AI disclosure", () => {
  const r = GreetingTemplateSchema.safeParse("Praxis, hier ist Tom. Wie kann ich helfen?");
  assert.ok(!r.success);
  assert.match(r.error.issues[0].message, /disclose the AI/);
  assert.ok(GreetingTemplateSchema.safeParse(GREETING_TEMPLATES.brief).success);
});

Deno.test("barge-in sensitivity changes the VAD and turn thresholds", () => {
  const slots = DEFAULT_VARIANTS.variants[0].slots;
  const low = applyVariant({ id: "x", slots: { ...slots, barge_in_sensitivity: "low" } }).pipeline;
  const mid = applyVariant({ id: "x", slots: { ...slots, barge_in_sensitivity: "medium" } }).pipeline;
  const high = applyVariant({ id: "x", slots: { ...slots, barge_in_sensitivity: "high" } }).pipeline;
  assert.equal(mid.bargeInMinMs, DEFAULT_PIPELINE_OPTIONS.bargeInMinMs);
  assert.equal(mid.vadThreshold, DEFAULT_PIPELINE_OPTIONS.vadThreshold);
  assert.ok(
    (low.bargeInMinMs ?? 0) > (mid.bargeInMinMs ?? 0) && (mid.bargeInMinMs ?? 0) > (high.bargeInMinMs ?? 0),
  );
  assert.ok((low.vadThreshold ?? 0) > (high.vadThreshold ?? 0));
  assert.ok((low.endOfTurnSilenceMs ?? 0) > (high.endOfTurnSilenceMs ?? 0));
});

Deno.test("tone, length and inquiry mode change the policy text", () => {
  const s = DEFAULT_VARIANTS.variants[0].slots;
  const a = applyVariant({ id: "a", slots: s }).policy;
  assert.notEqual(a, applyVariant({ id: "b", slots: { ...s, tone: "professional" } }).policy);
  assert.notEqual(a, applyVariant({ id: "b", slots: { ...s, length: "medium" } }).policy);
  assert.notEqual(a, applyVariant({ id: "b", slots: { ...s, inquiry_mode: "confirming" } }).policy);
});

Deno.test("an invalid variants file is refused with every problem named", () => {
  const v = DEFAULT_VARIANTS.variants[0];
  assert.throws(
    () => parseVariants({ version: 1, baseVariant: "zz", variants: [v, v] }),
    /duplicate variant id v1a.*baseVariant zz/,
  );
  assert.throws(
    () =>
      parseVariants({
        version: 1,
        baseVariant: "v1a",
        variants: [{ ...v, slots: { ...v.slots, tone: "loud" } }],
      }),
    /variants\.0\.slots\.tone/,
  );
  assert.throws(() => parseVariants({ version: 1, baseVariant: "v1a", variants: [{ ...v, extra: 1 }] }));
});

Deno.test("syncVariants writes the file into the store and disables variants no longer in it", () => {
  const store = openStore(":memory:");
  upsertVariant(store, { id: "old", name: "Alt" });
  syncVariants(store, DEFAULT_VARIANTS);
  const all = listVariants(store);
  assert.equal(all.length, 13);
  assert.equal(all.find((v) => v.id === "old")?.enabled, false);
  assert.equal(listVariants(store, { activeOnly: true }).length, 12);
  store.close();
});

Deno.test("chooseCallPolicy turns the bandit's choice into prompt, greeting and pipeline parameters", async () => {
  const { PolicyBandit } = await import("../../rl/bandit.ts");
  const { chooseCallPolicy } = await import("../../rl/policy_choice.ts");
  const { mulberry32 } = await import("../../rl/random.ts");
  const store = openStore(":memory:");
  assert.equal(
    chooseCallPolicy(store, new PolicyBandit(store, { baseVariant: "v1a" }), "clinical"),
    undefined,
  );
  syncVariants(store, DEFAULT_VARIANTS);
  const bandit = new PolicyBandit(store, { baseVariant: "v1a", random: mulberry32(9) });
  const p = chooseCallPolicy(store, bandit, "clinical");
  assert.equal(p?.variantId, "v1a", "the first call goes to the base variant (new arms are capped)");
  assert.equal(p?.context, "clinical");
  assert.ok(p?.policy.includes("{assistant}"));
  assert.equal(typeof p?.pipeline.bargeInMinMs, "number");
  store.close();
});
