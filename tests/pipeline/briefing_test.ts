/**
 * The briefing of a warm transfer (pipeline/briefing.ts): what the staff member hears before the caller is
 * put through, in German, with the caller's name when known and the call's summary cut short.
 *
 * @module
 */
import assert from "node:assert/strict";
import { briefingText, transferBriefing } from "../../pipeline/briefing.ts";
import type { TtsEngine } from "../../pipeline/engines/types.ts";

Deno.test("briefingText: who calls and why, in German", () => {
  assert.equal(
    briefingText({
      name: "Erika Muster",
      nameBasis: "checked",
      reason: "dtmf_0",
      summary: "Möchte einen Termin verschieben.",
    }),
    "Hier ist TOM, der Telefonassistent. Ich verbinde Sie mit Erika Muster. Der Anrufer hat die Null gedrückt. " +
      "Anliegen: Möchte einen Termin verschieben.",
  );
  // Caller ID is not identity: a name found by the number alone is said as such.
  assert.equal(
    briefingText({ name: "Erika Muster", nameBasis: "number", reason: "dtmf_0", summary: "" }),
    "Hier ist TOM, der Telefonassistent. Ich verbinde Sie mit einem Anrufer. Die Rufnummer gehört zu " +
      "Erika Muster, das ist nicht überprüft. Der Anrufer hat die Null gedrückt.",
  );
  assert.equal(
    briefingText({ name: "Erika Muster", nameBasis: "said", reason: "tool", summary: "" }),
    "Hier ist TOM, der Telefonassistent. Ich verbinde Sie mit einem Anrufer, der sich Erika Muster nennt. " +
      "Der Anrufer möchte mit jemandem aus dem Team sprechen.",
  );
  const unknown = briefingText({ reason: "caller_asked", summary: "" });
  assert.equal(
    unknown,
    "Hier ist TOM, der Telefonassistent. Ich verbinde Sie mit einem Anrufer. " +
      "Der Anrufer möchte mit jemandem aus dem Team sprechen.",
  );
  const long = briefingText({ reason: "tool", summary: "Rezept ".repeat(60) });
  assert.ok(long.length < 320, "a long summary is cut short (the rest is on the live page)");
  assert.match(long, /Anliegen: Rezept( Rezept)* …$/);
});

Deno.test("transferBriefing speaks the text with the call's TTS when asked", async () => {
  const said: string[] = [];
  const tts = {
    sampleRate: 16_000,
    async *synthesize(text: string) {
      said.push(text);
      yield { type: "audio", pcm: new Int16Array(160) };
      yield { type: "done" };
    },
  } as unknown as TtsEngine;
  const b = transferBriefing("Hier ist TOM.", tts, 1000);
  assert.deepEqual(said, [], "nothing is made before the staff member answered");
  const pcm = await b.audio(AbortSignal.timeout(2000));
  assert.deepEqual(said, ["Hier ist TOM."]);
  assert.ok(pcm.length > 0);
});
