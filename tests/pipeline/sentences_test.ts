import assert from "node:assert/strict";
import { SentenceSplitter, splitSentences } from "../../pipeline/sentences.ts";

/** [text, expected sentences] with comma splitting off, so only sentence boundaries count. */
const TABLE: [string, string[]][] = [
  ["Guten Tag. Wie kann ich helfen?", ["Guten Tag.", "Wie kann ich helfen?"]],
  ["Hallo! Schön, dass Sie anrufen.", ["Hallo!", "Schön, dass Sie anrufen."]],
  ["Wirklich?! Das ist ja toll.", ["Wirklich?!", "Das ist ja toll."]],
  ["Dr. Weber ist heute nicht da.", ["Dr. Weber ist heute nicht da."]],
  ["Prof. Dr. Schmidt hat morgen Zeit. Soll ich buchen?", [
    "Prof. Dr. Schmidt hat morgen Zeit.",
    "Soll ich buchen?",
  ]],
  ["Das geht z. B. am Montag. Passt das?", ["Das geht z. B. am Montag.", "Passt das?"]],
  ["Das geht z.B. am Montag. Passt das?", ["Das geht z.B. am Montag.", "Passt das?"]],
  ["Wir sind d. h. ab morgen wieder da.", ["Wir sind d. h. ab morgen wieder da."]],
  ["Es gibt u. a. Kaffee. Und Kuchen.", ["Es gibt u. a. Kaffee.", "Und Kuchen."]],
  ["Äpfel, Birnen usw. Dann gehen wir.", ["Äpfel, Birnen usw.", "Dann gehen wir."]],
  ["Äpfel, Birnen usw. sind gesund.", ["Äpfel, Birnen usw. sind gesund."]],
  ["Er kommt bzw. sie kommt. Gut.", ["Er kommt bzw. sie kommt.", "Gut."]],
  ["Es dauert ca. 10 Minuten.", ["Es dauert ca. 10 Minuten."]],
  ["Das ist Zimmer Nr. 5. Bitte klopfen.", ["Das ist Zimmer Nr. 5.", "Bitte klopfen."]],
  ["Wir sind in der Hauptstr. 12 zu finden.", ["Wir sind in der Hauptstr. 12 zu finden."]],
  ["Unsere Tel. Nummer ist bekannt.", ["Unsere Tel. Nummer ist bekannt."]],
  ["Hr. Meier und Fr. Müller kommen.", ["Hr. Meier und Fr. Müller kommen."]],
  ["Geöffnet Mo. bis Fr. von 8 bis 16 Uhr.", ["Geöffnet Mo. bis Fr. von 8 bis 16 Uhr."]],
  ["Geöffnet Mo.–Fr. ab 8 Uhr.", ["Geöffnet Mo.–Fr. ab 8 Uhr."]],
  ["Am Di. 14 Uhr ist frei.", ["Am Di. 14 Uhr ist frei."]],
  ["Termin am 15. Jan. um 9 Uhr.", ["Termin am 15. Jan. um 9 Uhr."]],
  ["Der Termin ist am 3. Mai.", ["Der Termin ist am 3. Mai."]],
  ["Der Termin ist am 3. Mai. Passt das?", ["Der Termin ist am 3. Mai.", "Passt das?"]],
  ["Am 1. Januar 2027 beginnt es.", ["Am 1. Januar 2027 beginnt es."]],
  ["Die Praxis ist im 2. Stock. Der Aufzug ist links.", [
    "Die Praxis ist im 2. Stock.",
    "Der Aufzug ist links.",
  ]],
  ["Sie wohnen im der 2. Stock.", ["Sie wohnen im der 2. Stock."]],
  ["Zum 1. Mal hier? Willkommen.", ["Zum 1. Mal hier?", "Willkommen."]],
  ["Das kostet 25. Danach reden wir.", ["Das kostet 25.", "Danach reden wir."]],
  ["Das war 2026. Jetzt ist 2027.", ["Das war 2026.", "Jetzt ist 2027."]],
  ["Der Termin ist um 14.30 Uhr.", ["Der Termin ist um 14.30 Uhr."]],
  ["Der Termin ist um 14:30 Uhr. Bis dann.", ["Der Termin ist um 14:30 Uhr.", "Bis dann."]],
  ["Das Datum ist der 3.5.2027. Gut.", ["Das Datum ist der 3.5.2027.", "Gut."]],
  ["Das kostet 4,5 Prozent mehr.", ["Das kostet 4,5 Prozent mehr."]],
  ["Es sind 12,50 Euro. Danke.", ["Es sind 12,50 Euro.", "Danke."]],
  ["Besuchen Sie www.beispiel.de. Dort steht alles.", ["Besuchen Sie www.beispiel.de.", "Dort steht alles."]],
  ["Also... ich weiß nicht.", ["Also... ich weiß nicht."]],
  ["Also … Moment. Ja.", ["Also …", "Moment.", "Ja."]],
  ["Er sagte: „Ich komme.“ Dann ging er.", ["Er sagte: „Ich komme.“", "Dann ging er."]],
  ['Sie fragte "Wann?" und wartete.', ['Sie fragte "Wann?" und wartete.']],
  ["Peter M. Müller ruft an.", ["Peter M. Müller ruft an."]],
  ["Erstens:\n1. Schritt eins.\n2. Schritt zwei.", ["Erstens:", "1. Schritt eins.", "2. Schritt zwei."]],
  ["Zeile eins\nZeile zwei", ["Zeile eins", "Zeile zwei"]],
  ["Das sind ca. 3 Mio. Euro. Viel Geld.", ["Das sind ca. 3 Mio. Euro.", "Viel Geld."]],
  ["Es dauert 10 Min. Danach sind Sie dran.", ["Es dauert 10 Min.", "Danach sind Sie dran."]],
  ["Preise inkl. MwSt. und zzgl. Versand.", ["Preise inkl. MwSt. und zzgl. Versand."]],
  ["Das ist i. d. R. kein Problem.", ["Das ist i. d. R. kein Problem."]],
  ["Wir sind i. d. R. da. Gut.", ["Wir sind i. d. R. da.", "Gut."]],
  ["Vgl. Seite 3. Dort steht es.", ["Vgl. Seite 3.", "Dort steht es."]],
  ["Ohne Punkt am Ende", ["Ohne Punkt am Ende"]],
  ["   Leerzeichen   überall.   Ja  ", ["Leerzeichen überall.", "Ja"]],
  ["", []],
];

for (const [text, expected] of TABLE) {
  Deno.test(`sentences: ${JSON.stringify(text)}`, () => {
    assert.deepEqual(splitSentences(text, { commaSplitAfter: 0 }), expected);
  });
}

/** Feed text in pieces of the given sizes (like LLM tokens). */
function streamed(text: string, sizes: number[], options = { commaSplitAfter: 0 }): string[][] {
  const s = new SentenceSplitter(options);
  const out: string[][] = [];
  let at = 0;
  let n = 0;
  while (at < text.length) {
    const size = sizes[n++ % sizes.length];
    out.push(s.push(text.slice(at, at + size)));
    at += size;
  }
  out.push(s.flush());
  return out;
}

Deno.test("sentences: every table row gives the same result fed 1, 2, 3 or 7 characters at a time", () => {
  for (const [text, expected] of TABLE) {
    for (const sizes of [[1], [2], [3], [7], [1, 4, 2]]) {
      assert.deepEqual(streamed(text, sizes).flat(), expected, `${JSON.stringify(text)} by ${sizes}`);
    }
  }
});

Deno.test("sentences: a sentence comes out as soon as the next word's first letter shows it ended", () => {
  const s = new SentenceSplitter({ commaSplitAfter: 0 });
  assert.deepEqual(s.push("Guten Tag."), []); // could still be "Tag.de" or a lower-case continuation
  assert.deepEqual(s.push(" "), []);
  assert.deepEqual(s.push("W"), ["Guten Tag."]);
  assert.deepEqual(s.push("ie geht es?"), []);
  assert.deepEqual(s.flush(), ["Wie geht es?"]);
});

Deno.test("sentences: LLM tokens word by word give whole sentences, not cut at abbreviations", () => {
  const s = new SentenceSplitter();
  const out: string[] = [];
  for (
    const t of ["Guten ", "Tag. ", "Dr. ", "Weber ", "ist ", "am ", "3. ", "Mai ", "da! ", "Bis ", "bald"]
  ) {
    out.push(...s.push(t));
  }
  out.push(...s.flush());
  assert.deepEqual(out, ["Guten Tag.", "Dr. Weber ist am 3. Mai da!", "Bis bald"]);
});

Deno.test("sentences: a number and period waits for the whole next word (month or not)", () => {
  const s = new SentenceSplitter({ commaSplitAfter: 0 });
  assert.deepEqual(s.push("Wir sehen uns am 3. M"), []);
  assert.deepEqual(s.push("ai"), []);
  assert.deepEqual(s.push(" um 9 Uhr. Gut"), ["Wir sehen uns am 3. Mai um 9 Uhr."]);
  const t = new SentenceSplitter({ commaSplitAfter: 0 });
  assert.deepEqual(t.push("Es kostet 25. Dan"), []);
  assert.deepEqual(t.push("ach "), ["Es kostet 25."]);
});

Deno.test("sentences: long sentences are cut at a comma after commaSplitAfter characters", () => {
  const text = "Ich habe für Sie nachgesehen, und am Montag hätte Dr. Weber noch einen Termin frei, " +
    "allerdings erst am Nachmittag, gegen 15 Uhr.";
  assert.deepEqual(splitSentences(text, { commaSplitAfter: 40 }), [
    "Ich habe für Sie nachgesehen, und am Montag hätte Dr. Weber noch einen Termin frei,",
    "allerdings erst am Nachmittag, gegen 15 Uhr.",
  ]);
  assert.deepEqual(splitSentences(text, { commaSplitAfter: 0 }), [text]);
  assert.deepEqual(splitSentences("Das kostet 4,5 Prozent, also wenig.", { commaSplitAfter: 10 }), [
    "Das kostet 4,5 Prozent,",
    "also wenig.",
  ]);
});

Deno.test("sentences: the first piece can be cut earlier than the rest (faster first audio)", () => {
  const text = "Ja, das geht, ich trage Sie ein, einen Moment, bitte. Gut, erledigt, bis dann, tschüss.";
  assert.deepEqual(splitSentences(text, { commaSplitAfter: 0, firstSplitAfter: 10 }), [
    "Ja, das geht,",
    "ich trage Sie ein, einen Moment, bitte.",
    "Gut, erledigt, bis dann, tschüss.",
  ]);
});

Deno.test("sentences: a runaway piece without punctuation is cut at a space after maxChars", () => {
  const text = Array.from({ length: 80 }, (_, i) => `wort${i}`).join(" ");
  const out = splitSentences(text, { commaSplitAfter: 0, maxChars: 100 });
  assert.ok(out.length >= 5);
  for (const s of out) assert.ok(s.length <= 101, s);
  assert.equal(out.join(" "), text);
});

Deno.test("sentences: reset drops what was held back; bad options are rejected", () => {
  const s = new SentenceSplitter();
  s.push("Halber Satz ohne");
  s.reset();
  assert.deepEqual(s.flush(), []);
  assert.throws(() => new SentenceSplitter({ commaSplitAfter: -1 }), RangeError);
  assert.throws(() => new SentenceSplitter({ maxChars: 5 }), RangeError);
});

Deno.test("sentences: splitting cost (measured, not asserted)", () => {
  const text = TABLE.map(([t]) => t).join(" ");
  const n = 200;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) streamed(text, [4]);
  const ms = (performance.now() - t0) / n;
  console.log(
    `splitter: ${text.length} chars in 4-char tokens: ${ms.toFixed(2)} ms (${
      (ms * 1000 / text.length).toFixed(2)
    } us/char)`,
  );
});
