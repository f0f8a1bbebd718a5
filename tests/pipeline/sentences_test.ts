import assert from "node:assert/strict";
import {
  CLAUSE_START,
  SentenceSplitter,
  type SentenceSplitterOptions,
  splitSentences,
} from "../../pipeline/sentences.ts";

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
function streamed(
  text: string,
  sizes: number[],
  options: SentenceSplitterOptions = { commaSplitAfter: 0 },
): string[][] {
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

/**
 * Clause start: [text, expected pieces] with `firstClause` on and comma splitting otherwise off. The caller
 * hears the first piece while the LLM still writes the rest, so only the first piece may end at a clause.
 */
const CLAUSES: [string, string[]][] = [
  // A long first sentence starts at its first comma, semicolon, colon or dash.
  ["Ich habe für Sie nachgesehen, am Montag ist noch etwas frei.", [
    "Ich habe für Sie nachgesehen,",
    "am Montag ist noch etwas frei.",
  ]],
  ["Das ist leider nicht möglich, weil die Praxis geschlossen ist.", [
    "Das ist leider nicht möglich,",
    "weil die Praxis geschlossen ist.",
  ]],
  ["Die Praxis hat heute geschlossen; morgen sind wir ab acht Uhr da.", [
    "Die Praxis hat heute geschlossen;",
    "morgen sind wir ab acht Uhr da.",
  ]],
  ["Bitte bringen Sie Folgendes mit: Ihre Versichertenkarte und den Überweisungsschein.", [
    "Bitte bringen Sie Folgendes mit:",
    "Ihre Versichertenkarte und den Überweisungsschein.",
  ]],
  ["Der Arzt ist heute im Haus – er hat aber keinen freien Termin mehr.", [
    "Der Arzt ist heute im Haus –",
    "er hat aber keinen freien Termin mehr.",
  ]],
  ["Der Arzt ist heute im Haus - er hat aber keinen freien Termin mehr.", [
    "Der Arzt ist heute im Haus -",
    "er hat aber keinen freien Termin mehr.",
  ]],
  ["Ich notiere Ihren Rückrufwunsch, damit das Team sich meldet, und zwar heute noch.", [
    "Ich notiere Ihren Rückrufwunsch,",
    "damit das Team sich meldet, und zwar heute noch.",
  ]],
  // Only the first piece: the second sentence keeps its commas.
  ["Guten Tag. Ich habe für Sie nachgesehen, am Montag ist noch etwas frei.", [
    "Guten Tag.",
    "Ich habe für Sie nachgesehen, am Montag ist noch etwas frei.",
  ]],
  ["Ich habe das nachgesehen, es ist frei. Wir haben Montag, Dienstag und Mittwoch, jeweils vormittags.", [
    "Ich habe das nachgesehen,",
    "es ist frei.",
    "Wir haben Montag, Dienstag und Mittwoch, jeweils vormittags.",
  ]],
  // A short head stays whole (fewer than four words or 20 characters).
  ["Ja, gerne, das mache ich für Sie.", ["Ja, gerne, das mache ich für Sie."]],
  ["Also gut, dann notiere ich das.", ["Also gut, dann notiere ich das."]],
  ["Kein Problem, ich helfe Ihnen gern weiter.", ["Kein Problem, ich helfe Ihnen gern weiter."]],
  ["Verstehe, Sie möchten einen Termin.", ["Verstehe, Sie möchten einen Termin."]],
  ["Vielen herzlichen Dank, Frau Müller, bis bald.", ["Vielen herzlichen Dank, Frau Müller,", "bis bald."]],
  ["Ja, Herr Schmidt, das ist notiert, wir rufen zurück.", [
    "Ja, Herr Schmidt, das ist notiert,",
    "wir rufen zurück.",
  ]],
  // Not inside numbers.
  ["Die Wartezeit beträgt etwa 1,5 Stunden, bitte haben Sie Geduld.", [
    "Die Wartezeit beträgt etwa 1,5 Stunden,",
    "bitte haben Sie Geduld.",
  ]],
  ["Die Sprechstunde ist montags von 8 - 12 Uhr und nachmittags von 14 - 18 Uhr.", [
    "Die Sprechstunde ist montags von 8 - 12 Uhr und nachmittags von 14 - 18 Uhr.",
  ]],
  ["Frei wären noch die Termine um 8, 9 und 10 Uhr am Dienstag.", [
    "Frei wären noch die Termine um 8, 9 und 10 Uhr am Dienstag.",
  ]],
  ["Der Termin ist am Montag um 14:30 Uhr, bitte kommen Sie pünktlich.", [
    "Der Termin ist am Montag um 14:30 Uhr,",
    "bitte kommen Sie pünktlich.",
  ]],
  ["Das kostet in der Regel 12,50 Euro pro Monat und wird jährlich abgerechnet.", [
    "Das kostet in der Regel 12,50 Euro pro Monat und wird jährlich abgerechnet.",
  ]],
  // Not after an abbreviation.
  ["Die Praxis ist geöffnet Mo. - Fr. von acht bis zwölf Uhr, außer an Feiertagen.", [
    "Die Praxis ist geöffnet Mo. - Fr. von acht bis zwölf Uhr,",
    "außer an Feiertagen.",
  ]],
  ["Sie können uns gerne erreichen, z. B.: per Telefon oder per E-Mail.", [
    "Sie können uns gerne erreichen,",
    "z. B.: per Telefon oder per E-Mail.",
  ]],
  ["Bringen Sie bitte Unterlagen mit wie z. B., falls vorhanden, den Arztbrief.", [
    "Bringen Sie bitte Unterlagen mit wie z. B., falls vorhanden,",
    "den Arztbrief.",
  ]],
  ["Wir haben Rezepte, Überweisungen usw., die Sie abholen können.", [
    "Wir haben Rezepte, Überweisungen usw., die Sie abholen können.",
  ]],
  ["Bei Dr. Weber ist am Montag etwas frei, am Dienstag leider nicht.", [
    "Bei Dr. Weber ist am Montag etwas frei,",
    "am Dienstag leider nicht.",
  ]],
  ["Termine gibt es am 3. Mai und am 5. Mai, jeweils am Vormittag.", [
    "Termine gibt es am 3. Mai und am 5. Mai,",
    "jeweils am Vormittag.",
  ]],
  // A lone last word stays with its sentence.
  ["Das ist dann am Montag um neun Uhr, oder?", ["Das ist dann am Montag um neun Uhr, oder?"]],
  ["Sie möchten also einen Termin am Montag, richtig?", [
    "Sie möchten also einen Termin am Montag, richtig?",
  ]],
  ["Einen kleinen Moment noch, bitte.", ["Einen kleinen Moment noch, bitte."]],
  ["Ich habe Ihren Wunsch an das Team weitergegeben, danke!", [
    "Ich habe Ihren Wunsch an das Team weitergegeben, danke!",
  ]],
  ["Der Arzt sagt, „kommen Sie morgen vorbei“.", ["Der Arzt sagt, „kommen Sie morgen vorbei“."]],
  ["Die Praxis ruft Sie morgen früh zurück, „versprochen“.", [
    "Die Praxis ruft Sie morgen früh zurück, „versprochen“.",
  ]],
  // Quotes and brackets after the boundary.
  ["Die Ärztin hat gesagt, „Sie sollen bitte morgen anrufen“.", [
    "Die Ärztin hat gesagt,",
    "„Sie sollen bitte morgen anrufen“.",
  ]],
  ["Ich trage Sie gern für Montag ein, (wenn das passt) um neun Uhr.", [
    "Ich trage Sie gern für Montag ein,",
    "(wenn das passt) um neun Uhr.",
  ]],
  // Short answers and answers without any boundary are untouched.
  ["Gern geschehen.", ["Gern geschehen."]],
  ["Wir rufen Sie heute Nachmittag zurück.", ["Wir rufen Sie heute Nachmittag zurück."]],
  ["Das ist leider nicht möglich,", ["Das ist leider nicht möglich,"]],
];

for (const [text, expected] of CLAUSES) {
  Deno.test(`sentences: clause start ${JSON.stringify(text)}`, () => {
    assert.deepEqual(splitSentences(text, { commaSplitAfter: 0, firstClause: CLAUSE_START }), expected);
  });
}

Deno.test("sentences: clause start gives the same pieces fed 1, 2, 3 or 7 characters at a time", () => {
  for (const [text, expected] of CLAUSES) {
    for (const sizes of [[1], [2], [3], [7], [1, 4, 2]]) {
      const got = streamed(text, sizes, { commaSplitAfter: 0, firstClause: CLAUSE_START }).flat();
      assert.deepEqual(got, expected, `${JSON.stringify(text)} by ${sizes}`);
    }
  }
});

Deno.test("sentences: the first clause goes to the TTS once the next word shows it is not the last", () => {
  const s = new SentenceSplitter({ commaSplitAfter: 0, firstClause: CLAUSE_START });
  assert.deepEqual(s.push("Ich habe für Sie nachgesehen, "), []);
  assert.deepEqual(s.push("am"), []); // "am?" would keep it whole
  assert.deepEqual(s.push(" "), ["Ich habe für Sie nachgesehen,"]);
  assert.deepEqual(s.push("Montag ist frei, ganz sicher. "), []);
  assert.deepEqual(s.flush(), ["am Montag ist frei, ganz sicher."]);
});

Deno.test("sentences: without firstClause the first sentence waits for its full stop", () => {
  const text = "Ich habe für Sie nachgesehen, am Montag ist noch etwas frei.";
  assert.deepEqual(splitSentences(text), [text]);
});
