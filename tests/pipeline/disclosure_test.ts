import assert from "node:assert/strict";
import { DEFAULT_ASSISTANT, disclosesAi, fillNames, greetingNames } from "../../pipeline/disclosure.ts";
import { GREETING_TEMPLATE, PHRASES } from "../../pipeline/texts.ts";
import { berlinPractice } from "./_practice.ts";

Deno.test("the default greeting discloses the AI and the noting of requests", () => {
  assert.ok(disclosesAi(GREETING_TEMPLATE), GREETING_TEMPLATE);
  assert.equal(PHRASES.greeting, fillNames(GREETING_TEMPLATE), "PHRASES.greeting is the neutral filling");
  assert.ok(disclosesAi(PHRASES.greeting, greetingNames()));
});

Deno.test("a greeting is filled with the practice's names, neutral ones without a practice", () => {
  const names = greetingNames(berlinPractice());
  assert.deepStrictEqual(names, { assistant: "Anna", practice: "Hausarztpraxis Dr. Weber" });
  assert.equal(
    fillNames(GREETING_TEMPLATE, names),
    "Guten Tag, hier ist Anna, die KI-Assistenz der Hausarztpraxis Dr. Weber. " +
      "Ihre Anliegen notiere ich für das Praxisteam. Wie kann ich Ihnen helfen?",
  );
  assert.ok(disclosesAi(fillNames(GREETING_TEMPLATE, names), names));
  assert.deepStrictEqual(greetingNames(), { assistant: DEFAULT_ASSISTANT, practice: "Praxis" });
  assert.deepStrictEqual(greetingNames({ name: "Dr. Lang", assistantName: " " }), {
    assistant: "TOM",
    practice: "Praxis Dr. Lang",
  });
});

Deno.test("greetings without the disclosure are refused", () => {
  for (
    const g of [
      "Guten Tag, hier ist Tom, der Telefonassistent der Praxis. Wie kann ich Ihnen helfen?",
      "Praxis, hier ist {assistant}. Wie kann ich helfen?",
      "Hier ist {assistant}, die KI-Assistenz der {practice}. Wie kann ich helfen?", // nothing noted
      "Hier ist {assistant} der {practice}. Ihre Anliegen notiere ich für das Praxisteam.", // no AI
      "Hier ist die KI-Assistenz der {practice}. Ihre Anliegen notiere ich für das Praxisteam.", // no name
      "Hier ist {assistant}, Ihr KIosk der {practice}. Ich notiere alles für das Team.", // "KI" only in a word
    ]
  ) assert.ok(!disclosesAi(g), g);
  assert.ok(disclosesAi("{practice}: {assistant}, künstliche Intelligenz. Ich notiere es für das Team."));
});
