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
import { openField, openNullable, sealField } from "./crypto/sealed_fields.ts";
import type { TranscriptKeyring } from "./crypto/keyring.ts";

// Name, number and notes are sealed at rest (crypto/sealed_fields.ts), each bound to the account, the
// person and its column; callers only ever see plaintext. Lookups by number use phone_hash; sorting and
// searching by name happen here, after decryption (a practice has at most a few thousand people).
type SealedPersonColumn = "display_name" | "phone_e164" | "notes";
const field = (column: SealedPersonColumn, accountId: string, personId: string) => ({
  table: "people",
  column,
  accountId,
  rowId: personId,
});
const seal = (store: Store, column: SealedPersonColumn, p: Person, text: string) =>
  sealField(store.keyring, field(column, p.accountId, p.id), text);
/** How names are ordered wherever a list is sorted by name (German collation, after decryption). */
export const nameOrder: Intl.Collator = new Intl.Collator("de");

/**
 * The plaintext of a person's stored `display_name` (for other store modules that join `people`).
 *
 * @throws {Error} when the sealed value was altered, copied from another row, or its key is gone.
 */
export function openPersonName(store: Store, accountId: string, personId: string, stored: string): string {
  return openField(store.keyring, field("display_name", accountId, personId), stored);
}

/**
 * {@linkcode openPersonName} for one listing: each person's name is opened once, however many of the
 * listing's rows (calls, schedules) name them. Keep it only as long as the listing (no name outlives it).
 */
export function personNameOpener(
  store: Store,
): (accountId: string, personId: string, stored: string) => string {
  const names = new Map<string, string>();
  return (accountId, personId, stored) => {
    let name = names.get(personId);
    if (name === undefined) names.set(personId, name = openPersonName(store, accountId, personId, stored));
    return name;
  };
}

/** Orders by name (German collation), then id; `name` gives a row's plaintext name. */
function compareByName<T extends { id: string }>(name: (r: T) => string): (a: T, b: T) => number {
  return (a, b) => nameOrder.compare(name(a), name(b)) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

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

/** A row as a Person; `name`: its name already opened (lists open every name to sort). */
function toPerson(keyring: TranscriptKeyring, r: PersonRow, name?: string): Person {
  return {
    id: r.id,
    accountId: r.account_id,
    kind: r.kind,
    displayName: name ?? openField(keyring, field("display_name", r.account_id, r.id), r.display_name),
    phoneE164: openField(keyring, field("phone_e164", r.account_id, r.id), r.phone_e164),
    phoneHash: r.phone_hash,
    language: r.language,
    consentRecording: r.consent_recording === 1,
    consentTranscript: r.consent_transcript === 1,
    retentionDays: r.retention_days,
    notes: openNullable(keyring, field("notes", r.account_id, r.id), r.notes),
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
        seal(store, "display_name", p, p.displayName),
        seal(store, "phone_e164", p, p.phoneE164),
        p.phoneHash,
        p.language,
        bit(p.consentRecording),
        bit(p.consentTranscript),
        p.retentionDays,
        p.notes === null ? null : seal(store, "notes", p, p.notes),
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

/** The id of the account's person with this number (nothing opened: the lookup is by the keyed hash). */
export function findPersonIdByPhone(store: Store, accountId: string, phoneE164: string): string | undefined {
  const sql = "SELECT id FROM people WHERE account_id = ? AND phone_hash = ?";
  return one<{ id: string }>(store.prepare(sql), accountId, store.phoneHash(phoneE164))?.id;
}

/** The account's people, by name; optionally only one kind. */
export function listPeople(
  store: Store,
  accountId: string,
  opts: PageOptions & { kind?: PersonKind } = {},
): Person[] {
  const [limit, offset] = page(opts);
  return peopleByName(store, accountId, opts.kind ?? null, () => true, offset, limit);
}

/**
 * The account's people (of `kind`, or all) whose opened name passes `keep`, by name, `limit` from
 * `offset` (a negative limit: all). Only the names are opened to match and sort; number and notes only for
 * the people returned.
 */
function peopleByName(
  store: Store,
  accountId: string,
  kind: PersonKind | null,
  keep: (name: string) => boolean,
  offset: number,
  limit: number,
): Person[] {
  const sql = `SELECT ${COLUMNS} FROM people WHERE account_id = ? AND (?2 IS NULL OR kind = ?2)`;
  return many<PersonRow>(store.prepare(sql), accountId, kind)
    .map((r) => ({ ...r, name: openPersonName(store, r.account_id, r.id, r.display_name) }))
    .filter((r) => keep(r.name))
    .sort(compareByName((r) => r.name))
    .slice(offset, limit < 0 ? undefined : offset + limit)
    .map((r) => toPerson(store.keyring, r, r.name));
}

/** Number of the account's people (optionally of one kind). */
export function countPeople(store: Store, accountId: string, kind?: PersonKind): number {
  const sql = "SELECT count(*) AS n FROM people WHERE account_id = ?1 AND (?2 IS NULL OR kind = ?2)";
  return one<{ n: number }>(store.prepare(sql), accountId, kind ?? null)?.n ?? 0;
}

/**
 * The account's people whose name contains `text` (case-insensitive, umlauts included), by name: every name
 * is opened once to match and sort; number and notes only for the people returned.
 */
export function findPeopleByName(store: Store, accountId: string, text: string, limit: number): Person[] {
  const needle = text.toLocaleLowerCase("de");
  return peopleByName(
    store,
    accountId,
    null,
    (name) => name.toLocaleLowerCase("de").includes(needle),
    0,
    limit,
  );
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
  const sql = `SELECT id, account_id, display_name, kind, created_at FROM people
    WHERE account_id = ? ORDER BY created_at DESC, id LIMIT ?`;
  const rows = many<Pick<PersonRow, "id" | "account_id" | "display_name" | "kind" | "created_at">>(
    store.prepare(sql),
    accountId,
    limit,
  );
  return rows.map((r) => ({
    id: r.id,
    displayName: openPersonName(store, accountId, r.id, r.display_name),
    kind: r.kind,
    createdAt: r.created_at,
  }));
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
