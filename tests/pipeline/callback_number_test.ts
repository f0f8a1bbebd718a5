import assert from "node:assert/strict";
import {
  numberDialogue,
  type NumberEvent,
  type NumberStep,
  spokenDigits,
  yesNo,
} from "../../pipeline/callback_number.ts";
import { PHRASES } from "../../pipeline/texts.ts";

/** [what STT heard, the digits or null]. */
const SPOKEN: Array<[string, string | null]> = [
  ["null eins sieben eins zwei drei vier fünf sechs sieben acht", "01712345678"],
  ["Null, eins, sieben, eins. Zwo, drei, vier.", "0171234"],
  ["0171 234 56 78", "01712345678"],
  ["0171/2345678", "01712345678"],
  ["0171-234 56-78", "01712345678"],
  ["030.123.456.78", "03012345678"],
  ["Meine Nummer ist 0171 2345678, danke", "01712345678"],
  ["plus neunundvierzig eins sieben eins", "+49171"],
  ["plus vier neun eins sieben eins", "+49171"],
  ["+49 171 2345678", "+491712345678"],
  ["+49171 2345678", "+491712345678"],
  ["doppel-null neunundvierzig", "0049"],
  ["doppelnull vier neun", "0049"],
  ["Doppel null vier neun", "0049"],
  ["null eins sieben eins doppel fünf", "017155"],
  ["doppel 5", "55"],
  ["doppelte sieben", "77"],
  ["dreifach null", "000"],
  ["zweimal die drei", "33"],
  ["zwei mal die drei", "33"],
  ["dreimal null", "000"],
  ["null dreißig, zwölf, vierunddreißig, sechsundfünfzig", "030123456"],
  ["null dreissig elf zwanzig", "0301120"],
  ["null eins sieben eins, zweihundertvierunddreißig, sechsundfünfzig, achtundsiebzig", "01712345678"],
  ["hundertfünf", "105"],
  ["einhundertzehn", "110"],
  ["null fuenf", "05"],
  ["äh, null, äh, eins sieben eins", "0171"],
  ["neunzehn", "19"],
  ["einundzwanzig", "21"],
  ["Ja, gerne.", null],
  ["Nein, eine andere Nummer", null],
  ["", null],
  ["plus", null],
  ["Doppelhaushälfte", null],
  ["die eine, nicht die andere", null],
  ["eins plus zwei", "12"],
];

Deno.test("spokenDigits: digit words, numerals, plus, doppel, repeats and number words", () => {
  for (const [text, want] of SPOKEN) assert.equal(spokenDigits(text), want, text);
});

const ANSWERS: Array<[string, "yes" | "no" | null]> = [
  ["ja", "yes"],
  ["Ja.", "yes"],
  ["Genau!", "yes"],
  ["richtig", "yes"],
  ["Stimmt.", "yes"],
  ["Ja gerne", "yes"],
  ["korrekt", "yes"],
  ["Ja, das passt.", "yes"],
  ["in Ordnung", "yes"],
  ["Jawohl", "yes"],
  ["nein", "no"],
  ["Nee.", "no"],
  ["Ne, lieber nicht", "no"],
  ["Nö", "no"],
  ["falsch", "no"],
  ["andere Nummer", "no"],
  ["Ja, aber lieber eine andere Nummer", "no"],
  ["Das stimmt nicht", "no"],
  ["nicht richtig", "no"],
  ["Bitte nicht diese", "no"],
  ["Wie bitte?", null],
  ["Moment mal", null],
  ["", null],
  ["Neue Nummer", null],
];

Deno.test("yesNo: German yes and no, a no wins over a yes", () => {
  for (const [text, want] of ANSWERS) assert.equal(yesNo(text), want, text);
});

/** Feed events, return each step. */
function run(callerId: string | null, events: NumberEvent[], maxTries?: number): NumberStep[] {
  const d = numberDialogue({ callerId, maxTries });
  return events.map((e) => d.step(e));
}
const said = (text: string): NumberEvent => ({ type: "transcript", text });
const keys = (s: string): NumberEvent[] => [...s].map((digit) => ({ type: "dtmf", digit }));
const start: NumberEvent = { type: "start" };
const timeout: NumberEvent = { type: "timeout" };

Deno.test("the caller ID is offered in digit groups and confirmed with a yes", () => {
  const [ask, yes, after] = run("+491712345678", [start, said("Ja, genau."), timeout]);
  assert.equal(
    ask.say,
    "Sollen wir Sie unter der Nummer 0171 234 56 78 zurückrufen? Sagen Sie bitte ja, oder nennen Sie mir eine andere Nummer.",
  );
  assert.equal(ask.done, false);
  assert.deepStrictEqual(yes, { done: true, number: "+491712345678", via: "caller_id" });
  assert.deepStrictEqual(after, yes);
});

Deno.test("the caller ID is rejected, then another number is spoken", () => {
  const steps = run("+493012345678", [
    start,
    said("Nein, lieber aufs Handy."),
    said("null eins sieben eins, 234 56 78"),
  ]);
  assert.equal(steps[1].say, PHRASES.askNumber);
  assert.equal(steps[1].done, false);
  assert.deepStrictEqual(steps[2], { done: true, number: "+491712345678", via: "spoken" });
});

Deno.test("another number said instead of yes is taken at once", () => {
  const steps = run("+493012345678", [start, said("Nehmen Sie die 0171 2345678")]);
  assert.deepStrictEqual(steps[1], { done: true, number: "+491712345678", via: "spoken" });
});

Deno.test("without a caller ID TOM asks; a keyed number ended with # is taken", () => {
  const steps = run(null, [start, ...keys("01711234567#")]);
  assert.equal(steps[0].say, PHRASES.askNumber);
  for (const s of steps.slice(1, -1)) assert.deepStrictEqual(s, { done: false });
  assert.deepStrictEqual(steps.at(-1), { done: true, number: "+491711234567", via: "keyed" });
});

Deno.test("a key while the caller ID is offered starts an entry; 0049 keyed is German", () => {
  const steps = run("+493012345678", [start, { type: "dtmf", digit: "00491711234567#" }]);
  assert.deepStrictEqual(steps[1], { done: true, number: "+491711234567", via: "keyed" });
});

Deno.test("* clears the entry and asks again without counting a try", () => {
  const steps = run(null, [start, ...keys("0171*"), ...keys("12#"), ...keys("01711234567#")], 2);
  assert.equal(steps[5].say, PHRASES.askNumber);
  assert.equal(steps[8].say, PHRASES.askNumberAgain, "12 is no number: the first try");
  assert.deepStrictEqual(steps.at(-1), { done: true, number: "+491711234567", via: "keyed" });
});

Deno.test("too few digits are asked again, then a good number is taken", () => {
  const steps = run(null, [start, said("null eins sieben eins"), said("0171 2345678")]);
  assert.deepStrictEqual(steps[1], { say: PHRASES.askNumberAgain, done: false });
  assert.deepStrictEqual(steps[2], { done: true, number: "+491712345678", via: "spoken" });
});

Deno.test("a number split over two turns is joined", () => {
  const steps = run(null, [start, said("null eins sieben eins"), said("zwei drei vier fünf sechs sieben")]);
  assert.deepStrictEqual(steps[2], { done: true, number: "+49171234567", via: "spoken" });
});

Deno.test("two failed answers end without a number and without words", () => {
  const steps = run(null, [
    start,
    said("Das weiß ich nicht auswendig"),
    said("eins zwei drei"),
    said("0171 2345678"),
  ]);
  assert.deepStrictEqual(steps[1], { say: PHRASES.askNumberAgain, done: false });
  assert.deepStrictEqual(steps[2], { done: true, number: null });
  assert.deepStrictEqual(steps[3], { done: true, number: null }, "done stays done");
});

Deno.test("silence twice ends without a number; the question is repeated once", () => {
  const offered = run("+491712345678", [start, timeout, timeout]);
  assert.equal(offered[1].say, offered[0].say);
  assert.deepStrictEqual(offered[2], { done: true, number: null });
  const asked = run(null, [start, timeout, timeout]);
  assert.equal(asked[1].say, PHRASES.askNumber);
  assert.deepStrictEqual(asked[2], { done: true, number: null });
});

Deno.test("more than 20 keys make the entry invalid; one try, then a good entry", () => {
  const steps = run(null, [start, ...keys("0".repeat(25) + "#"), ...keys("030123456#")]);
  for (const s of steps.slice(1, 26)) assert.deepStrictEqual(s, { done: false });
  assert.deepStrictEqual(steps[26], { say: PHRASES.askNumberAgain, done: false });
  assert.deepStrictEqual(steps.at(-1), { done: true, number: "+4930123456", via: "keyed" });
});

Deno.test("a timeout ends a pending entry as # would; speech during keying is ignored", () => {
  const steps = run(null, [start, ...keys("01711234567"), said("piep"), timeout]);
  assert.deepStrictEqual(steps[12], { done: false });
  assert.deepStrictEqual(steps[13], { done: true, number: "+491711234567", via: "keyed" });
});

Deno.test("an unclear answer to the offer repeats it; a caller ID that is no number is not offered", () => {
  const steps = run("+491712345678", [start, said("Wie bitte?"), said("ja")]);
  assert.equal(steps[1].say, steps[0].say);
  assert.equal(steps[2].via, "caller_id");
  assert.equal(run("anonymous", [start])[0].say, PHRASES.askNumber);
  assert.deepStrictEqual(run(null, [said("ja")]), [{ done: false }], "nothing before start");
  assert.throws(() => numberDialogue({ callerId: null, maxTries: 0 }), RangeError);
});
