// Shared by the at-rest tests: a person with a distinctive marker in every personal column, planted
// through the store's normal functions, and a search of the raw bytes of tom.db, tom.db-wal and a backup.
import { join } from "node:path";
import {
  backupDatabase,
  completeAnalysis,
  createAccount,
  createCall,
  createPerson,
  enqueueAnalysis,
  saveMemory,
  setBirthDate,
  type Store,
} from "../../store/mod.ts";
import { createRequest, storeTranscriptTurn } from "../../store/crypto/mod.ts";

/** What was planted: the ids and the markers (each a string no other data contains). */
export interface Planted {
  accountId: string;
  personId: string;
  callId: string;
  markers: Record<string, string>;
}

/** Plant markers for `tag` in every personal column (the name is one; the number is `phone`). */
export async function plantPerson(
  store: Store,
  tag: string,
  phone: string,
  accountId?: string,
): Promise<Planted> {
  const m = (what: string) => `ZQX${tag}${what}QXZ`;
  const markers = {
    notes: m("NOTES"),
    memory: m("MEMORY"),
    reason: m("REASON"),
    summary: m("SUMMARY"),
    memoryUpdate: m("MEMUPDATE"),
    transcript: m("TRANSCRIPT"),
    request: m("REQUEST"),
  };
  const account = accountId ?? createAccount(store, { name: `Praxis ${tag}`, kind: "clinical" }).id;
  const person = createPerson(store, account, {
    kind: "patient",
    displayName: m("NAME"),
    phoneE164: phone,
    consentTranscript: true,
    notes: `Allergie gegen ${markers.notes}`,
  });
  saveMemory(store, account, person.id, { facts: [`Diabetes, ${markers.memory}`] }, 0);
  // A date of birth cannot carry a marker: a date unlikely anywhere else in the file stands for it.
  const year = 1900 + [...tag].reduce((a, c) => a + c.charCodeAt(0), 0) % 90;
  const birthDate = `${year}-11-23`;
  setBirthDate(store, store.keyring, account, person.id, birthDate);
  const call = createCall(store, account, {
    direction: "inbound",
    transport: "browser",
    personId: person.id,
  });
  enqueueAnalysis(store, account, call.id);
  completeAnalysis(store, account, call.id, {
    sentimentLabel: "neutral",
    sentimentScore: 0,
    confidence: 0.9,
    reason: `Rezept ${markers.reason}`,
    summary: [`Braucht ${markers.summary}`],
    memoryUpdate: { facts: [markers.memoryUpdate] },
  });
  await storeTranscriptTurn(store, store.keyring, account, {
    callId: call.id,
    turnIndex: 0,
    speaker: "caller",
    text: `Ich nehme ${markers.transcript}`,
  });
  await createRequest(store, store.keyring, account, {
    callId: call.id,
    kind: "prescription",
    urgency: "normal",
    source: "call",
    callerName: "Frau Test",
    callbackNumber: null,
    forWhom: "",
    preferredTimes: "",
    medication: markers.request,
    summary: "",
  });
  return {
    accountId: account,
    personId: person.id,
    callId: call.id,
    markers: { ...markers, birthDate, name: m("NAME") },
  };
}

function contains(hay: Uint8Array, needle: string): boolean {
  // latin1 keeps one character per byte, so an ASCII marker is found wherever its bytes are.
  return new TextDecoder("latin1").decode(hay).includes(needle);
}

function read(path: string): Uint8Array {
  try {
    return Deno.readFileSync(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return new Uint8Array();
    throw e;
  }
}

/**
 * Take a backup of the live database (as `tom backup` does) and return "file: marker" for every marker
 * found in the raw bytes of tom.db, tom.db-wal or the backup; empty when none is.
 */
export async function markersOnDisk(store: Store, markers: string[], backupDir: string): Promise<string[]> {
  const backup = join(backupDir, `tom-${crypto.randomUUID().slice(0, 8)}.db`);
  await backupDatabase(store.path, backup);
  const files = { "tom.db": read(store.path), "tom.db-wal": read(`${store.path}-wal`), backup: read(backup) };
  return Object.entries(files).flatMap(([name, bytes]) =>
    markers.filter((m) => contains(bytes, m)).map((m) => `${name}: ${m}`)
  );
}
