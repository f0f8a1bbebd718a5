// German end-of-turn cues on scripted transcripts. The synthetic whisper model here transcribes
// gibberish, so these endings are written out, not transcribed from audio.
import assert from "node:assert/strict";
import { DEFAULT_PIPELINE_OPTIONS } from "../../pipeline/defaults.ts";
import { endSilenceFor, type TurnCue, turnCue } from "../../pipeline/turn_cues.ts";

const TABLE: [string, TurnCue][] = [
  // conjunctions and subjunctions: the caller is not done
  ["Ich brauche einen Termin und", "incomplete"],
  ["Ich wollte fragen, aber", "incomplete"],
  ["Ich rufe an, weil", "incomplete"],
  ["Mir wurde gesagt, dass", "incomplete"],
  ["Ich weiß nicht, ob", "incomplete"],
  ["Am Montag oder", "incomplete"],
  ["Wenn es geht, dann", "incomplete"],
  ["Ich komme, sobald es geht, obwohl", "incomplete"],
  ["Es ist dringend, denn", "incomplete"],
  ["Nicht heute, sondern", "incomplete"],
  ["Ich hätte gern einen Termin, nachdem", "incomplete"],
  ["Ich kann nicht kommen, deshalb", "incomplete"],
  // prepositions and contractions
  ["Ich möchte einen Termin mit", "incomplete"],
  ["Ich brauche eine Überweisung zum", "incomplete"],
  ["Wegen der Überweisung zur", "incomplete"],
  ["Ich komme gerade von", "incomplete"],
  ["Ich war letzte Woche bei", "incomplete"],
  ["Ein Rezept für", "incomplete"],
  ["Haben Sie etwas am", "incomplete"],
  ["Ich hätte Zeit nach", "incomplete"],
  ["Geht es vor", "incomplete"],
  ["Der Termin wurde verschoben auf", "incomplete"],
  // articles and possessives
  ["Ich brauche einen Termin bei der", "incomplete"],
  ["Es geht um das", "incomplete"],
  ["Ich möchte den", "incomplete"],
  ["Ich habe ein", "incomplete"],
  ["Es geht um eine", "incomplete"],
  ["Ich rufe an wegen meiner", "incomplete"],
  ["Es ist für meinen", "incomplete"],
  // fillers and hesitation
  ["Ich brauche äh", "incomplete"],
  ["Ja also ähm", "incomplete"],
  ["Also", "incomplete"],
  ["Ich hätte gern sozusagen", "incomplete"],
  ["Öhm", "incomplete"],
  // trailing punctuation that says "more to come"
  ["Ich brauche einen Termin,", "incomplete"],
  ["Ich weiß nicht …", "incomplete"],
  ["Ich möchte –", "incomplete"],
  ["Ich möchte", "incomplete"],
  // complete questions and statements: confirmed early
  ["Haben Sie morgen einen Termin frei?", "complete"],
  ["Wann haben Sie geöffnet?", "complete"],
  ["Kann ich heute noch vorbeikommen?", "complete"],
  ["Ist das so?", "complete"],
  ["Ich brauche ein neues Rezept.", "complete"],
  ["Ich möchte meinen Termin absagen.", "complete"],
  ["Das ist alles, danke.", "complete"],
  ["Vielen Dank!", "complete"],
  ["Danke", "complete"],
  ["Ich brauche eine Überweisung", "complete"],
  ["Ich möchte meinen Termin verschieben", "complete"],
  ["Nein", "complete"],
  ["Geht das heute", "complete"],
  ["Ich hätte gern einen Termin morgen", "complete"],
  // the words do not say: the configured silence
  ["Schmerzen im Knie", "neutral"],
  ["Müller", "neutral"],
  ["", "neutral"],
  ["Frau Doktor Schmidt", "neutral"],
];

Deno.test("German endings: open endings wait, complete ones are confirmed early (table of 50+)", () => {
  assert.ok(TABLE.length >= 50);
  const wrong = TABLE.filter(([text, cue]) => turnCue(text) !== cue).map(([t, c]) =>
    `${t} -> ${turnCue(t)}, not ${c}`
  );
  assert.deepStrictEqual(wrong, []);
});

Deno.test("the cue picks the silence that confirms the turn", () => {
  const o = DEFAULT_PIPELINE_OPTIONS;
  assert.equal(endSilenceFor("Ich brauche einen Termin und", o), o.lateEndSilenceMs);
  assert.equal(endSilenceFor("Haben Sie morgen Zeit?", o), o.earlyEndSilenceMs);
  assert.equal(endSilenceFor("Schmerzen im Knie", o), o.endOfTurnSilenceMs);
});
