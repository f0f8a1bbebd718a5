import assert from "node:assert/strict";
import { parseDtmfRating, parseRating } from "../../../pipeline/rating/rating.ts";

const CASES: Array<[string, number | null]> = [
  ["fünf", 5],
  ["Fünf.", 5],
  ["5", 5],
  ["eins", 1],
  ["zwei", 2],
  ["zwo", 2],
  ["drei", 3],
  ["vier", 4],
  ["sehr gut", 5],
  ["gut", 4],
  ["drei Sterne", 3],
  ["ein Stern", 1],
  ["fünf Sterne, das war toll", 5],
  ["gar nicht zufrieden", 1],
  ["überhaupt nicht zufrieden", 1],
  ["vier Komma fünf", 5],
  ["4,5", 5],
  ["drei Komma zwei", 3],
  ["viereinhalb", 5],
  ["zwischen drei und vier", 4],
  ["Ich würde sagen vier", 4],
  ["Na ja, geht so", 3],
  ["mittelmäßig", 3],
  ["war in Ordnung", 3],
  ["nicht so gut", 2],
  ["nicht schlecht", 4],
  ["schlecht", 2],
  ["sehr schlecht", 1],
  ["katastrophal", 1],
  ["ausgezeichnet", 5],
  ["hervorragend, vielen Dank", 5],
  ["sehr zufrieden", 5],
  ["zufrieden", 4],
  ["ganz gut eigentlich", 4],
  ["unzufrieden", 2],
  ["Ich gebe Ihnen eine Vier", 4],
  ["volle fünf von fünf", 5],
  ["Perfekt!", 5],
  ["keine Ahnung", null],
  ["das weiß ich nicht", null],
  ["nein danke", null],
  ["zehn", null],
  ["sechs", null],
  ["", null],
  ["Wie bitte?", null],
];

for (const [text, want] of CASES) {
  Deno.test(`rating: "${text}" is ${want ?? "no rating"}`, () => {
    assert.equal(parseRating(text)?.rating ?? null, want);
  });
}

Deno.test("rating keeps the fractional value of 'vier Komma fünf' and rounds half up", () => {
  assert.deepEqual(parseRating("vier Komma fünf"), { rating: 5, value: 4.5, via: "number" });
  assert.deepEqual(parseRating("sehr gut"), { rating: 5, value: 5, via: "phrase" });
});

Deno.test("DTMF keys 1 to 5 are ratings, other keys are not", () => {
  for (const d of ["1", "2", "3", "4", "5"]) {
    assert.deepEqual(parseDtmfRating(d), { rating: Number(d), value: Number(d), via: "dtmf" });
  }
  for (const d of ["0", "6", "9", "*", "#", "12", ""]) assert.equal(parseDtmfRating(d), null);
});
