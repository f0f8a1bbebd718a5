import assert from "node:assert/strict";
import { normalizeGermanNumber, spokenNumber } from "../../pipeline/phone_de.ts";

/** [input, E.164 or undefined when refused, a word of the refusal]. */
const TABLE: Array<[string, string | undefined, string?]> = [
  ["0171 2345678", "+491712345678"],
  ["0171/234 56-78", "+491712345678"],
  ["+49 171 2345678", "+491712345678"],
  ["+49 (0) 171 2345678", "+491712345678"],
  ["+49 0171 2345678", "+491712345678"],
  ["0049 171 2345678", "+491712345678"],
  ["(030) 123 456 78", "+493012345678"],
  ["030-12345678", "+493012345678"],
  ["089.12.34.56", "+4989123456"],
  ["null eins sieben eins zwo drei vier fünf sechs sieben acht", "+491712345678"],
  ["+43 1 2345678", "+4312345678"],
  ["0043 664 1234567", "+436641234567"],
  ["2345678", undefined, "Vorwahl"],
  ["0171 ABC 5678", undefined, "Ziffern"],
  ["", undefined, "keine Telefonnummer"],
  ["112", undefined, "Notruf"],
  ["0110", undefined, "Notruf"],
  ["01234", undefined, "zu kurz"],
  ["0171 2345678 9012345", undefined, "zu lang"],
  ["+1 23", undefined, "Länge"],
  ["+49 00 171", undefined, "0"],
  ["Rufen Sie mich an", undefined, "Ziffern"],
];

Deno.test("normalizeGermanNumber: a table of German, foreign and non-numbers", () => {
  for (const [input, e164, word] of TABLE) {
    const r = normalizeGermanNumber(input);
    if (e164 !== undefined) assert.deepEqual(r, { ok: true, e164 }, input);
    else {
      assert.equal(r.ok, false, `${input} must be refused, got ${JSON.stringify(r)}`);
      assert.ok(!r.ok && r.reason.includes(word ?? ""), `${input}: ${!r.ok && r.reason}`);
    }
  }
});

Deno.test("spokenNumber reads German numbers nationally in digit groups, others with the country code", () => {
  const cases: Array<[string, string]> = [
    ["+491712345678", "0171 234 56 78"],
    ["+493012345678", "030 12 34 56 78"],
    ["+4989123456", "089 12 34 56"],
    ["+492111234567", "0211 123 45 67"],
    ["+49432112345", "04321 123 45"],
    ["+436641234567", "+43 66 41 23 45 67"],
    ["+4312345678", "+43 12 34 56 78"],
  ];
  for (const [e164, spoken] of cases) assert.equal(spokenNumber(e164), spoken, e164);
});
