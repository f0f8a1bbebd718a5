/**
 * GDPR rights of a person: export of everything stored about them (Art. 15) and erasure (Art. 17),
 * recordings and the requests of their calls included (erasure deletes those by a store trigger). Both are written to the audit log by the routes.
 *
 * @module
 */
import {
  erasePerson,
  getAnalysis,
  getFeedback,
  getMemory,
  getPerson,
  listAudit,
  listCalls,
  listPersonRequests,
  listSchedules,
  listTurnMetrics,
  type Store,
} from "../../store/mod.ts";
import { readTranscript, type TranscriptKeyring } from "../../store/crypto/mod.ts";
import { join, resolve } from "../_path.ts";

/** Everything about one person, as exported. */
export interface PersonExport {
  format: "tom-person-export/1";
  exportedAt: string;
  person: Record<string, unknown>;
  memory: unknown;
  schedules: unknown[];
  calls: unknown[];
  /** What the person asked the practice for in their calls (callbacks, prescriptions, ...). */
  requests: unknown[];
  accessLog: unknown[];
}

/** Collect everything stored about a person; undefined when they are not in this account. */
export async function exportPerson(
  store: Store,
  keyring: TranscriptKeyring,
  accountId: string,
  personId: string,
): Promise<PersonExport | undefined> {
  const person = getPerson(store, accountId, personId);
  if (!person) return undefined;
  const calls = listCalls(store, accountId, { personId, limit: 1000 });
  const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
  const { phoneHash: _hash, accountId: _acc, ...personFields } = person;
  return {
    format: "tom-person-export/1",
    exportedAt: new Date(store.now()).toISOString(),
    person: { ...personFields, createdAt: iso(person.createdAt), updatedAt: iso(person.updatedAt) },
    memory: getMemory(store, accountId, personId)?.memory ?? null,
    schedules: listSchedules(store, accountId, personId).map(({ accountId: _a, personName: _n, ...s }) => s),
    calls: await Promise.all(calls.map(async (c) => {
      const analysis = getAnalysis(store, accountId, c.id);
      const feedback = getFeedback(store, accountId, c.id);
      return {
        id: c.id,
        direction: c.direction,
        transport: c.transport,
        status: c.status,
        startedAt: iso(c.startedAt),
        answeredAt: iso(c.answeredAt),
        endedAt: iso(c.endedAt),
        durationMs: c.durationMs,
        recorded: c.recorded,
        transcript: await readTranscript(store, keyring, accountId, c.id),
        analysis: analysis && analysis.status === "done"
          ? {
            sentimentLabel: analysis.sentimentLabel,
            sentimentScore: analysis.sentimentScore,
            reason: analysis.reason,
            summary: analysis.summary,
          }
          : null,
        rating: feedback?.rating ?? null,
        turnTimings: listTurnMetrics(store, accountId, c.id),
      };
    })),
    requests: (await listPersonRequests(store, keyring, accountId, personId)).map((
      { accountId: _a, createdAt, updatedAt, doneAt, ...r },
    ) => ({ ...r, createdAt: iso(createdAt), updatedAt: iso(updatedAt), doneAt: iso(doneAt) })),
    accessLog: listAudit(store, accountId, { subjectType: "person", subjectId: personId, limit: 1000 }).map((
      a,
    ) => ({ at: new Date(a.at).toISOString(), action: a.action, actorUserId: a.actorUserId })),
  };
}

/** Delete recording files, but only inside `<dataDir>/recordings` (never a path outside it). */
export function deleteRecordingFiles(dataDir: string, paths: string[]): { deleted: number; refused: number } {
  const base = resolve(join(dataDir, "recordings"));
  let deleted = 0;
  let refused = 0;
  for (const p of paths) {
    const full = resolve(base, p);
    if (!full.startsWith(base + "/")) {
      refused++;
      continue;
    }
    try {
      Deno.removeSync(full);
      deleted++;
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
  }
  return { deleted, refused };
}

/** Erase a person with everything derived from their calls, recording files included. */
export function erasePersonCompletely(
  store: Store,
  dataDir: string,
  accountId: string,
  personId: string,
): { anonymisedCalls: number; recordings: number } | undefined {
  const result = erasePerson(store, accountId, personId);
  if (!result) return undefined;
  const files = deleteRecordingFiles(dataDir, result.recordingPaths);
  return { anonymisedCalls: result.anonymisedCalls, recordings: files.deleted };
}
