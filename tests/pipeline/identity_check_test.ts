/**
 * The identity check's decisions (pure): the date of birth said in the ways callers say it or keyed as
 * TTMMJJJJ, a PIN keyed and ended with the Raute-Taste, limited attempts (a silence is one), and every
 * attempt reported without the digits. Words are given as text: the synthetic whisper model transcribes
 * gibberish, so spoken answers are scripted here.
 */
import assert from "node:assert/strict";
import { birthDateSaid, type CheckAttempt, identityCheck } from "../../pipeline/identity_check.ts";

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
