/**
 * The German red-flag matcher (issue 14, item 6) against a table of callers' phrasings: emergencies in
 * colloquial, inflected and whisper-like forms (no punctuation, wrong case, "ae"/"ss" spellings), and
 * non-emergencies that must not fire. Prints the average match time; never asserts on it.
 */
import assert from "node:assert/strict";
import { RED_FLAG_LABELS, type RedFlag, redFlag } from "../../pipeline/red_flags.ts";
import { redFlag as fromMod } from "../../pipeline/mod.ts";

const TABLE: ReadonlyArray<readonly [string, RedFlag | null]> = [
  // chest pain
  ["Ich habe seit einer Stunde starke Schmerzen in der Brust.", "chest_pain"],
  ["brustschmerzen und mir ist übel", "chest_pain"],
  ["Es drückt so auf der Brust, das strahlt in den linken Arm aus", "chest_pain"],
  ["ich hab so ein Engegefühl in der Brust", "chest_pain"],
  ["ich glaube mein vater hat einen herzinfarkt", "chest_pain"],
  ["Meine Brust tut so weh", "chest_pain"],
  ["es drueckt auf der brust und ich schwitze", "chest_pain"],
  ["BRUST SCHMERZEN seit heute morgen", "chest_pain"],
  // breathing
  ["Mein Mann bekommt keine Luft!", "breathing"],
  ["meine frau kriegt kaum luft", "breathing"],
  ["Ich habe Atemnot.", "breathing"],
  ["er kann nicht mehr atmen", "breathing"],
  ["sie ringt nach Luft", "breathing"],
  ["Hilfe er erstickt", "breathing"],
  ["ich kann kaum noch atmen und huste", "breathing"],
  ["meine Mutter hat plötzlich Luftnot", "breathing"],
  // unconscious
  ["Mein Mann ist bewusstlos", "unconscious"],
  ["Sie ist ohnmächtig geworden", "unconscious"],
  ["oma ist nicht mehr ansprechbar", "unconscious"],
  ["er reagiert nicht mehr", "unconscious"],
  ["Er ist umgekippt und wacht nicht auf", "unconscious"],
  ["ich krieg ihn nicht wach", "unconscious"],
  ["ich weiss nicht er ist bewusstlos glaube ich", "unconscious"],
  // stroke
  ["Der Mundwinkel hängt bei meiner Frau", "stroke"],
  ["sein gesicht haengt auf einer seite", "stroke"],
  ["Er kann den Arm nicht mehr heben", "stroke"],
  ["mein Vater ist plötzlich gelähmt", "stroke"],
  ["sie hat eine verwaschene Sprache", "stroke"],
  ["er lallt ploetzlich und hat nichts getrunken", "stroke"],
  ["Ich glaube, das ist ein Schlaganfall.", "stroke"],
  ["hatte vor zwei Jahren einen Schlaganfall und jetzt hängt wieder der Mundwinkel", "stroke"],
  // bleeding
  ["Die Wunde blutet sehr stark", "bleeding"],
  ["es hört nicht auf zu bluten", "bleeding"],
  ["er hat viel Blut verloren", "bleeding"],
  ["mein mann spuckt blut", "bleeding"],
  // suicidal
  ["Ich will mir das Leben nehmen.", "suicidal"],
  ["ich will nicht mehr leben", "suicidal"],
  ["Meine Tochter redet von Selbstmord", "suicidal"],
  ["ich bring mich um", "suicidal"],
  ["er hat gesagt er will sich umbringen", "suicidal"],
  ["ich habe Suizidgedanken", "suicidal"],
  // poisoning
  ["Meine Tochter hat Tabletten geschluckt", "poisoning"],
  ["er hat zu viele tabletten genommen", "poisoning"],
  ["Das Kind hat Putzmittel getrunken", "poisoning"],
  ["ich glaube ich bin vergiftet", "poisoning"],
  ["sie hat eine ganze Packung Schlaftabletten genommen", "poisoning"],
  // anaphylaxis
  ["Nach dem Wespenstich schwillt die Zunge an", "anaphylaxis"],
  ["mein Hals schwillt zu", "anaphylaxis"],
  ["Er hat einen allergischen Schock", "anaphylaxis"],
  ["anaphylaktische reaktion nach nuessen", "anaphylaxis"],
  // child not breathing
  ["Mein Baby atmet nicht", "child_not_breathing"],
  ["das kind ist blau angelaufen", "child_not_breathing"],
  ["unser Kleiner bekommt keine Luft", "child_not_breathing"],
  // seizure
  ["Mein Sohn hat einen Krampfanfall", "seizure"],
  ["sie krampft am ganzen körper", "seizure"],
  ["das Baby hat Fieberkrämpfe", "seizure"],
  // declared emergency
  ["Es ist ein Notfall, bitte schnell", "declared_emergency"],
  ["soll ich den krankenwagen rufen", "declared_emergency"],
  // subjects, whisper forms, negation that does not deny
  ["Ich habe kein Fieber, aber keine Luft", "breathing"],
  ["kein fieber keine luft", "breathing"],
  ["hallo ja guten tag mein mann der bekommt keine luft mehr was soll ich machen", "breathing"],
  ["Ich hatte vor drei Tagen Brustschmerzen", "chest_pain"],
  ["Ihr Mundwinkel hing kurz, jetzt ist alles wieder gut", "stroke"],
  ["Brustschmerzen? Nein, keine.", "chest_pain"],
  // must not fire
  ["Ich möchte einen Termin wegen Rückenschmerzen", null],
  ["Ich brauche ein Rezept für mein Asthmaspray", null],
  ["Wann kann ich zur Blutabnahme kommen?", null],
  ["ich moechte eine blutdruckmessung", null],
  ["Ist mein Blutbild schon da?", null],
  ["Meine Tabletten sind alle, ich brauche ein neues Rezept", null],
  ["Ich habe Krampfadern und möchte einen Termin", null],
  ["Ich interessiere mich für die Herzinfarkt-Vorsorge", null],
  ["Termin zur Brustkrebsvorsorge bitte", null],
  ["Ich bin mir dessen bewusst, danke", null],
  ["die Lähmung nach dem Unfall ist besser", null],
  ["Schlaganfall vor zwei Jahren, jetzt brauche ich die Nachsorge", null],
  ["ich hatte letzte Woche Brustschmerzen, jetzt ist alles gut", null],
  ["Ich habe keine Brustschmerzen", null],
  ["ich habe keine atemnot", null],
  ["Er ist nicht bewusstlos, nur müde", null],
  ["Der Luftfilter in der Praxis ist laut", null],
  ["ich habe eine Lebensmittelvergiftung glaube ich", null],
  ["Ich habe meine Tabletten heute schon geschluckt", null],
  ["Mein Bein krampft nachts immer", null],
  ["Ich bekomme keine Luft durch die Nase, Schnupfen", null],
  ["Ich habe Schmerzen in der Brust beim Stillen", null],
  ["es ist kein notfall ich brauche nur einen termin", null],
  ["Was mache ich im Notfall am Wochenende?", null],
  ["mein vater ist seit jahren gelaehmt und braucht ein rezept", null],
  ["ich will nicht sterben ich habe nur angst vor der spritze", null],
  ["Ich möchte mit jemandem über meine Blutwerte sprechen", null],
  ["Ich habe Epilepsie und brauche ein Rezept für meine Medikamente", null],
  ["Können Sie mir sagen, wann die Praxis offen hat?", null],
  ["meine augen sind geschwollen heuschnupfen", null],
  ["ich hatte mal einen herzinfarkt und brauche eine ueberweisung zum kardiologen", null],
  ["Schlaganfallrisiko besprechen bitte", null],
];

Deno.test("the red-flag table: every phrasing fires its flag, every non-emergency stays silent", () => {
  const wrong: string[] = [];
  for (const [text, want] of TABLE) {
    const got = redFlag(text)?.flag ?? null;
    if (got !== want) wrong.push(`${JSON.stringify(text)}: want ${want}, got ${got}`);
  }
  assert.deepStrictEqual(wrong, []);
  const fire = TABLE.filter(([, f]) => f !== null).length;
  assert.ok(TABLE.length >= 60 && TABLE.length - fire >= 20, `${TABLE.length} rows, ${fire} fire`);
  const flags = new Set(TABLE.map(([, f]) => f));
  for (const f of Object.keys(RED_FLAG_LABELS)) assert.ok(flags.has(f as RedFlag), `no row for ${f}`);
});

Deno.test("a hit carries the German label for staff, and the pipeline's face exports the matcher", () => {
  assert.deepStrictEqual(redFlag("mein mann bekommt keine luft"), { flag: "breathing", label: "Atemnot" });
  assert.equal(fromMod("Mein Baby atmet nicht")?.label, "Kind atmet nicht oder ist blau");
  for (const label of Object.values(RED_FLAG_LABELS)) assert.match(label, /^[A-ZÄÖÜ][a-zäöüß ,]+/);
  assert.equal(redFlag(""), null);
  assert.equal(redFlag("  ...  "), null);
});

Deno.test("the first red flag in the text wins", () => {
  assert.equal(redFlag("Er ist bewusstlos und blutet stark")?.flag, "unconscious");
  assert.equal(redFlag("Er blutet stark und ist bewusstlos")?.flag, "bleeding");
});

Deno.test("the average match time over the table is printed (not asserted)", () => {
  const rounds = 1000;
  const t0 = performance.now();
  for (let r = 0; r < rounds; r++) for (const [text] of TABLE) redFlag(text);
  const us = (performance.now() - t0) * 1000 / (rounds * TABLE.length);
  console.log(`red flags: ${us.toFixed(2)} µs per utterance (${TABLE.length} rows x ${rounds})`);
});
