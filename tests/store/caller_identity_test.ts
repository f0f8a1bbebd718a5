/**
 * Caller identity in the store (migration 8): a call's identity level, the practice's check, and the
 * person's date of birth (sealed: not in the database file in clear) and PIN (a salted hash). What the
 * practice sees: a caller passes only with the right date or PIN; erasing the person erases both.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { TranscriptKeyring } from "../../store/crypto/mod.ts";
import { erasePerson, scrubWal } from "../../store/erasure.ts";
import {
  birthDateMatches,
  createAccount,
  createCall,
  createPerson,
  getBirthDate,
  getCallerCheck,
  getCallIdentity,
  identityData,
  openStore,
  pinMatches,
  setBirthDate,
  setCallerCheck,
  setCallIdentity,
  setPin,
} from "../../store/mod.ts";

async function setup() {
  const dir = await Deno.makeTempDir({ prefix: "tom-ident-" });
  const path = join(dir, "tom.db");
  const store = openStore(path);
  const keyring = await TranscriptKeyring.open(join(dir, "transcripts.key"));
  const a = createAccount(store, { name: "Praxis A", kind: "clinical" });
  const b = createAccount(store, { name: "Praxis B", kind: "clinical" });
  const person = createPerson(store, a.id, {
    kind: "patient",
    displayName: "Erika M",
    phoneE164: "+4930123456",
  });
  return { dir, path, store, keyring, a, b, person };
}

Deno.test("a new call is 'unknown' until the session says more; levels are scoped by account", async () => {
  const { dir, store, a, b, person } = await setup();
  const call = createCall(store, a.id, { direction: "inbound", transport: "twilio", personId: person.id });
  assert.equal(getCallIdentity(store, a.id, call.id), "unknown");
  setCallIdentity(store, a.id, call.id, "number_match");
  assert.equal(getCallIdentity(store, a.id, call.id), "number_match");
  assert.equal(getCallIdentity(store, b.id, call.id), undefined);
  assert.throws(() => setCallIdentity(store, b.id, call.id, "verified"), /not found/);
  assert.throws(
    () => setCallIdentity(store, a.id, call.id, "trusted" as "verified"),
    /identity must be one of/,
  );
  store.close();
  await Deno.remove(dir, { recursive: true });
});

Deno.test("the practice's check: none by default, birth_date or pin with 1 to 5 attempts", async () => {
  const { dir, store, a, b } = await setup();
  assert.deepEqual(getCallerCheck(store, a.id), { method: "none", maxAttempts: 3 });
  setCallerCheck(store, a.id, { method: "pin", maxAttempts: 2 });
  assert.deepEqual(getCallerCheck(store, a.id), { method: "pin", maxAttempts: 2 });
  assert.deepEqual(getCallerCheck(store, b.id), { method: "none", maxAttempts: 3 });
  assert.throws(() => setCallerCheck(store, a.id, { method: "pin", maxAttempts: 9 }), RangeError);
  assert.throws(() => setCallerCheck(store, a.id, { method: "name" as "pin", maxAttempts: 3 }), TypeError);
  store.close();
  await Deno.remove(dir, { recursive: true });
});

Deno.test("date of birth sealed and PIN hashed: neither is in the database file; erasure removes both", async () => {
  const { dir, path, store, keyring, a, b, person } = await setup();
  setBirthDate(store, keyring, a.id, person.id, "1950-03-01");
  setPin(store, a.id, person.id, "4711");
  assert.deepEqual(identityData(store, a.id, person.id), { birthDate: true, pin: true });
  assert.equal(getBirthDate(store, keyring, a.id, person.id), "1950-03-01");
  assert.ok(birthDateMatches(store, keyring, a.id, person.id, "1950-03-01"));
  assert.ok(!birthDateMatches(store, keyring, a.id, person.id, "1950-01-03"));
  assert.ok(pinMatches(store, a.id, person.id, "4711"));
  assert.ok(!pinMatches(store, a.id, person.id, "4712"));
  assert.ok(!pinMatches(store, b.id, person.id, "4711"), "another account's caller never matches");
  assert.throws(() => setPin(store, a.id, person.id, "12"), /4 to 8 digits/);
  assert.throws(() => setBirthDate(store, keyring, a.id, person.id, "1950-02-30"), /YYYY-MM-DD/);
  scrubWal(store);
  const raw = new TextDecoder("latin1").decode(await Deno.readFile(path));
  assert.ok(!raw.includes("1950-03-01") && !raw.includes("4711"), "no date of birth or PIN in clear");
  erasePerson(store, a.id, person.id);
  assert.deepEqual(identityData(store, a.id, person.id), { birthDate: false, pin: false });
  store.close();
  await Deno.remove(dir, { recursive: true });
});
