/**
 * The identity check's decisions (pure): the date of birth said in the ways callers say it or keyed as
 * TTMMJJJJ, a PIN keyed and ended with the Raute-Taste or said (an answer without a PIN's digits is no
 * attempt), limited attempts (a silence is one), and every attempt reported without the digits. Words are
 * given as text: the synthetic whisper model transcribes gibberish, so spoken answers are scripted here.
 */
import assert from "node:assert/strict";
import {
  birthDateSaid,
  type CheckAttempt,
  identityCheck,
  maskSpokenDigits,
  MAX_UNCLEAR,
  pinSaid,
} from "../../pipeline/identity_check.ts";

Deno.test("a date of birth as callers say or key it", () => {
  assert.equal(birthDateSaid("Am ersten März neunzehnhundertfünfzig"), "1950-03-01");
  assert.equal(birthDateSaid("1. März 1950"), "1950-03-01");
  assert.equal(birthDateSaid("01.03.1950"), "1950-03-01");
  assert.equal(birthDateSaid("null eins null drei eins neun fünf null"), "1950-03-01");
  assert.equal(birthDateSaid("einunddreißigster Dezember zweitausendundfünf"), "2005-12-31");
  assert.equal(birthDateSaid("dritten vierten 1948"), "1948-04-03");
  assert.equal(birthDateSaid("01031950"), "1950-03-01");
  assert.equal(birthDateSaid("30. Februar 1950"), null, "no such day");
  assert.equal(birthDateSaid("Ich möchte ein Rezept"), null);
});

Deno.test("keyed date of birth: eight digits end the entry; three wrong tries end the check politely", () => {
  const tries: CheckAttempt[] = [];
  const c = identityCheck({
    method: "birth_date",
    maxAttempts: 3,
    matches: (d) => d === "1950-03-01",
    attempted: (a) => void tries.push(a),
  });
  assert.deepEqual(c.step({ type: "start" }), { say: "askBirthDate", done: false });
  assert.deepEqual(c.step({ type: "dtmf", digit: "0101" }), { done: false });
  assert.deepEqual(c.step({ type: "dtmf", digit: "1960" }), { say: "askIdentityAgain", done: false });
  assert.deepEqual(c.step({ type: "timeout" }), { say: "askIdentityAgain", done: false }, "silence is a try");
  assert.deepEqual(c.step({ type: "transcript", text: "zweiter März 1950" }), {
    say: "identityFailed",
    done: true,
    verified: false,
  });
  assert.deepEqual(c.step({ type: "dtmf", digit: "01031950" }).verified, false, "no fourth try");
  assert.deepEqual(tries, [
    { attempt: 1, ok: false, via: "keyed" },
    { attempt: 2, ok: false, via: "silence" },
    { attempt: 3, ok: false, via: "spoken" },
  ]);
});

Deno.test("spoken date of birth passes; a PIN is keyed and ended with #", () => {
  const dob = identityCheck({ method: "birth_date", maxAttempts: 3, matches: (d) => d === "1950-03-01" });
  dob.step({ type: "start" });
  assert.deepEqual(dob.step({ type: "transcript", text: "Erster März neunzehnhundertfünfzig." }), {
    say: "identityConfirmed",
    done: true,
    verified: true,
  });
  const pin = identityCheck({ method: "pin", maxAttempts: 2, matches: (p) => p === "4711" });
  assert.deepEqual(pin.step({ type: "start" }), { say: "askPin", done: false });
  assert.deepEqual(pin.step({ type: "dtmf", digit: "47" }), { done: false });
  assert.deepEqual(pin.step({ type: "transcript", text: "äh" }), { done: false }, "keying wins over noise");
  assert.deepEqual(pin.step({ type: "dtmf", digit: "11#" }).verified, true);
  assert.throws(() => identityCheck({ method: "pin", maxAttempts: 0, matches: () => true }), RangeError);
});

Deno.test("a PIN as whisper writes it when said: words, numerals, pairs; 'ein' only before a number", () => {
  assert.equal(pinSaid("Eins, zwei, drei, vier."), "1234");
  assert.equal(pinSaid("Ein, zwei, drei, vier."), "1234");
  assert.equal(pinSaid("1 2 3 4"), "1234");
  assert.equal(pinSaid("1234."), "1234");
  assert.equal(pinSaid("zwölf vierunddreißig"), "1234");
  assert.equal(pinSaid("Meine PIN ist null sieben, zwo acht."), "0728");
  assert.equal(pinSaid("Einen Moment bitte, ich suche sie."), null);
  assert.equal(pinSaid("Ich habe ein Problem"), null);
  assert.equal(pinSaid("Wie bitte?"), null);
});

/** A started PIN check (4711, two attempts) that reports its attempts into `tries`. */
function pinCheck(tries: CheckAttempt[]) {
  const c = identityCheck({
    method: "pin",
    maxAttempts: 2,
    matches: (p) => p === "4711",
    attempted: (a) => void tries.push(a),
  });
  c.step({ type: "start" });
  return c;
}

Deno.test("a spoken PIN is an attempt; words without digits ask again without using one", () => {
  const tries: CheckAttempt[] = [];
  const c = pinCheck(tries);
  assert.deepEqual(c.step({ type: "transcript", text: "Moment, wie war das?" }), {
    say: "askPinAgain",
    done: false,
  });
  assert.deepEqual(c.step({ type: "transcript", text: "eins zwei drei vier" }), {
    say: "askIdentityAgain",
    done: false,
  });
  assert.deepEqual(c.step({ type: "transcript", text: "Ach so. Ich weiß nicht." }), {
    say: "askPinAgain",
    done: false,
  });
  // Said in two breaths: the first part waits silently for the rest.
  assert.deepEqual(c.step({ type: "transcript", text: "vier sieben" }), { done: false });
  assert.deepEqual(c.step({ type: "transcript", text: "eins eins" }), {
    say: "identityConfirmed",
    done: true,
    verified: true,
  });
  assert.deepEqual(tries, [
    { attempt: 1, ok: false, via: "spoken" },
    { attempt: 2, ok: true, via: "spoken" },
  ]);
});

Deno.test("spoken wrong PINs still end the check after the attempts; endless unclear answers end it too", () => {
  const tries: CheckAttempt[] = [];
  const wrong = pinCheck(tries);
  wrong.step({ type: "transcript", text: "1 2 3 4" });
  assert.deepEqual(wrong.step({ type: "transcript", text: "zwölf vierunddreißig" }), {
    say: "identityFailed",
    done: true,
    verified: false,
  });
  assert.equal(wrong.step({ type: "transcript", text: "vier sieben eins eins" }).verified, false, "locked");
  assert.equal(tries.length, 2);

  const vague = identityCheck({ method: "pin", maxAttempts: 3, matches: () => true });
  vague.step({ type: "start" });
  // A phone number (more than 8 digits) and a lone "drei" left waiting are no PIN either.
  assert.equal(vague.step({ type: "transcript", text: "0 1 7 1 2 3 4 5 6 7" }).say, "askPinAgain");
  assert.deepEqual(vague.step({ type: "transcript", text: "drei" }), { done: false });
  assert.equal(vague.step({ type: "timeout" }).say, "askPinAgain", "a fragment, then silence");
  assert.equal(MAX_UNCLEAR, 3);
  assert.deepEqual(vague.step({ type: "transcript", text: "Hallo?" }), {
    say: "identityFailed",
    done: true,
    verified: false,
  });
});

Deno.test("words said during the PIN question keep their sense but lose every number", () => {
  assert.equal(
    maskSpokenDigits("Eins zwei drei vier, mein Mann hat Brustschmerzen"),
    "… … … …, mein Mann hat Brustschmerzen",
  );
  assert.equal(
    maskSpokenDigits("1234 Hilfe, ein Notfall"),
    "… Hilfe, ein Notfall",
    "'ein' before a word is an article",
  );
  assert.equal(maskSpokenDigits("ein, zwei, drei, vier"), "…, …, …, …");
  assert.equal(maskSpokenDigits("zwölf vierunddreißig, Atemnot"), "… …, Atemnot");
  assert.equal(maskSpokenDigits("Er hat einen Schlaganfall"), "Er hat einen Schlaganfall");
});

Deno.test("a number said before the PIN is not glued to it: the whole PIN in one answer stands on its own", () => {
  // Scripted STT (the synthetic model understands no words). Found in review: "zwei" from "zwei Sekunden"
  // turned the correct PIN 4711 into 24711, a wrong attempt, and with one attempt a locked-out caller.
  const tries: CheckAttempt[] = [];
  const c = pinCheck(tries);
  assert.deepEqual(c.step({ type: "transcript", text: "Moment, zwei Sekunden bitte." }), { done: false });
  assert.deepEqual(c.step({ type: "transcript", text: "vier sieben eins eins" }), {
    say: "identityConfirmed",
    done: true,
    verified: true,
  });
  assert.deepEqual(tries, [{ attempt: 1, ok: true, via: "spoken" }]);
});
