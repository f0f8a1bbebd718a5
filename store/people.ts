// People: the seniors (private accounts) and patients (clinical accounts) TOM talks to.
import type { Store } from "./db.ts";
import { StoreConflictError, StoreNotFoundError } from "./errors.ts";
import type { PageOptions } from "./types.ts";
import {
  bit,
  isConstraint,
  many,
  one,
  page,
  requireE164,
  requireInt,
  requireOneOf,
  requireText,
} from "./_util.ts";
import { openNullable, sealField } from "./crypto/sealed_fields.ts";
import type { TranscriptKeyring } from "./crypto/keyring.ts";

// notes are sealed at rest (crypto/sealed_fields.ts), bound to the account and the person.
const notesField = (accountId: string, personId: string) => ({
  table: "people",
  column: "notes",
  accountId,
  rowId: personId,
});

/** Senior (private account) or patient (clinical account). */
export type PersonKind = "senior" | "patient";

/** A person. Consent decides what is stored about their calls. */
export interface Person {
  id: string;
  accountId: string;
  kind: PersonKind;
  displayName: string;
  phoneE164: string;
  /** Salted hash of the number: what lookups use and what logs may show. */
  phoneHash: string;
  language: string;
  /** Audio recordings of calls may be kept. */
  consentRecording: boolean;
  /** Encrypted transcripts (and their analysis) may be kept. */
  consentTranscript: boolean;
  /** Days after a call until its transcripts, analysis and recording are deleted (1-365). */
  retentionDays: number;
  notes: string | null;
  createdAt: number;
  updatedAt: number;
}

/** Input of {@linkcode createPerson}. */
export interface NewPerson {
  kind: PersonKind;
  displayName: string;
  phoneE164: string;
  language?: string;
  consentRecording?: boolean;
  consentTranscript?: boolean;
  retentionDays?: number;
  notes?: string | null;
}

/** Fields {@linkcode updatePerson} may change. */
export type PersonPatch = Partial<Omit<NewPerson, "kind">>;

interface PersonRow {
  id: string;
  account_id: string;
  kind: PersonKind;
  display_name: string;
  phone_e164: string;
  phone_hash: string;
  language: string;
  consent_recording: number;
  consent_transcript: number;
  retention_days: number;
  notes: string | null;
  created_at: number;
  updated_at: number;
}

const COLUMNS = "id, account_id, kind, display_name, phone_e164, phone_hash, language, consent_recording, " +
  "consent_transcript, retention_days, notes, created_at, updated_at";
const KINDS: readonly PersonKind[] = ["senior", "patient"];
const PATCHABLE: readonly (keyof PersonPatch)[] = [
  "displayName",
  "phoneE164",
  "language",
  "consentRecording",
  "consentTranscript",
  "retentionDays",
  "notes",
];

function toPerson(keyring: TranscriptKeyring, r: PersonRow): Person {
  return {
    id: r.id,
    accountId: r.account_id,
    kind: r.kind,
    displayName: r.display_name,
    phoneE164: r.phone_e164,
    phoneHash: r.phone_hash,
    language: r.language,
    consentRecording: r.consent_recording === 1,
    consentTranscript: r.consent_transcript === 1,
    retentionDays: r.retention_days,
    notes: openNullable(keyring, notesField(r.account_id, r.id), r.notes),
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

function checked(store: Store, what: string, p: Person): Person {
  requireOneOf(what, "kind", p.kind, KINDS);
  requireText(what, "displayName", p.displayName);
  requireE164(what, p.phoneE164);
  requireText(what, "language", p.language, 8);
  requireInt(what, "retention_days", p.retentionDays, 1, 365);
  const notes = p.notes === null || p.notes.trim() === "" ? null : requireText(what, "notes", p.notes, 4000);
  return { ...p, displayName: p.displayName.trim(), notes, phoneHash: store.phoneHash(p.phoneE164) };
}

function write(store: Store, what: string, sql: string, p: Person): number {
  try {
    return Number(
      store.prepare(sql).run(
        p.kind,
        p.displayName,
        p.phoneE164,
        p.phoneHash,
        p.language,
        bit(p.consentRecording),
        bit(p.consentTranscript),
        p.retentionDays,
        p.notes === null ? null : sealField(store.keyring, notesField(p.accountId, p.id), p.notes),
        p.createdAt,
        p.updatedAt,
        p.accountId,
        p.id,
      ).changes,
    );
  } catch (err) {
    // The number itself never goes into a message: only its hash may reach logs.
    const hash = p.phoneHash.slice(0, 12);
    if (isConstraint(err, "UNIQUE")) {
      throw new StoreConflictError(`${what}: phone ${hash}… is already registered`);
    }
    if (isConstraint(err, "FOREIGN KEY")) throw new StoreNotFoundError(`${what}: no account ${p.accountId}`);
    throw err;
  }
}

/** Creates a person; throws TypeError/RangeError on invalid input, StoreConflictError on a duplicate number. */
export function createPerson(store: Store, accountId: string, input: NewPerson): Person {
  const what = "Cannot create person";
  const now = store.now();
  const person = checked(store, what, {
    id: store.newId(),
    accountId,
    kind: input.kind,
    displayName: input.displayName,
    phoneE164: input.phoneE164,
    phoneHash: "",
    language: input.language ?? "de",
    consentRecording: input.consentRecording ?? false,
    consentTranscript: input.consentTranscript ?? false,
    retentionDays: input.retentionDays ?? 30,
    notes: input.notes ?? null,
    createdAt: now,
    updatedAt: now,
  });
  const sql = `INSERT INTO people (kind, display_name, phone_e164, phone_hash, language, consent_recording,
    consent_transcript, retention_days, notes, created_at, updated_at, account_id, id)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;
  write(store, what, sql, person);
  return person;
}

/** The person of this account, or undefined. */
export function getPerson(store: Store, accountId: string, personId: string): Person | undefined {
  const sql = `SELECT ${COLUMNS} FROM people WHERE account_id = ? AND id = ?`;
  const row = one<PersonRow>(store.prepare(sql), accountId, personId);
  return row && toPerson(store.keyring, row);
}

/** The person of this account with this number (looked up by its salted hash), or undefined. */
export function findPersonByPhone(store: Store, accountId: string, phoneE164: string): Person | undefined {
  const sql = `SELECT ${COLUMNS} FROM people WHERE account_id = ? AND phone_hash = ?`;
  const row = one<PersonRow>(store.prepare(sql), accountId, store.phoneHash(phoneE164));
  return row && toPerson(store.keyring, row);
}

/** The account's people, by name; optionally only one kind. */
export function listPeople(
  store: Store,
  accountId: string,
  opts: PageOptions & { kind?: PersonKind } = {},
): Person[] {
  const [limit, offset] = page(opts);
  const sql = `SELECT ${COLUMNS} FROM people WHERE account_id = ? AND (?2 IS NULL OR kind = ?2)
    ORDER BY display_name, id LIMIT ? OFFSET ?`;
  return many<PersonRow>(store.prepare(sql), accountId, opts.kind ?? null, limit, offset).map((r) =>
    toPerson(store.keyring, r)
  );
}

/** Number of the account's people (optionally of one kind). */
export function countPeople(store: Store, accountId: string, kind?: PersonKind): number {
  const sql = "SELECT count(*) AS n FROM people WHERE account_id = ?1 AND (?2 IS NULL OR kind = ?2)";
  return one<{ n: number }>(store.prepare(sql), accountId, kind ?? null)?.n ?? 0;
}

/** Ids of the account's people whose name contains `text` (case-insensitive), by name. */
export function findPeopleIdsByName(store: Store, accountId: string, text: string, limit: number): string[] {
  const like = "%" + text.toLowerCase().replace(/[\\%_]/g, (m) => "\\" + m) + "%";
  const sql = `SELECT id FROM people WHERE account_id = ? AND lower(display_name) LIKE ? ESCAPE '\\'
    ORDER BY display_name, id LIMIT ?`;
  return many<{ id: string }>(store.prepare(sql), accountId, like, limit).map((r) => r.id);
}

/** A person as the dashboard's "recently added" list shows them. */
export interface RecentPerson {
  id: string;
  displayName: string;
  kind: PersonKind;
  createdAt: number;
}

/** The account's most recently created people. */
export function recentPeople(store: Store, accountId: string, limit = 5): RecentPerson[] {
  const sql = `SELECT id, display_name AS displayName, kind, created_at AS createdAt FROM people
    WHERE account_id = ? ORDER BY created_at DESC, id LIMIT ?`;
  return many<RecentPerson>(store.prepare(sql), accountId, limit);
}

/** Changes the given fields; undefined if the person is not in this account. */
export function updatePerson(
  store: Store,
  accountId: string,
  personId: string,
  patch: PersonPatch,
): Person | undefined {
  return store.transaction(() => {
    const current = getPerson(store, accountId, personId);
    if (!current) return undefined;
    const defined = Object.fromEntries(
      Object.entries(patch).filter(([k, v]) =>
        v !== undefined && (PATCHABLE as readonly string[]).includes(k)
      ),
    );
    const next = checked(store, "Cannot update person", { ...current, ...defined, updatedAt: store.now() });
    const sql = `UPDATE people SET kind = ?, display_name = ?, phone_e164 = ?, phone_hash = ?, language = ?,
      consent_recording = ?, consent_transcript = ?, retention_days = ?, notes = ?, created_at = ?,
      updated_at = ? WHERE account_id = ? AND id = ?`;
    write(store, "Cannot update person", sql, next);
    return next;
  });
}
