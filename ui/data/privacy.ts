/**
 * GDPR rights of a person: erasure (Art. 17), recordings and the requests of their calls included (erasure
 * deletes those by a store trigger), and where their recording files are; the export (Art. 15) is
 * person_export.ts. Both are written to the audit log by the routes.
 *
 * @module
 */
import { erasePerson, reapplyErasures, type Store } from "../../store/mod.ts";
import { join, resolve } from "../_path.ts";

/** The file of a call's recording path (as stored, relative to `<dataDir>/recordings`); undefined outside it. */
export function recordingFile(dataDir: string, path: string): string | undefined {
  const base = resolve(join(dataDir, "recordings"));
  const full = resolve(base, path);
  return full.startsWith(base + "/") ? full : undefined;
}

/** Delete recording files, but only inside `<dataDir>/recordings` (never a path outside it). */
export function deleteRecordingFiles(dataDir: string, paths: string[]): { deleted: number; refused: number } {
  let deleted = 0;
  let refused = 0;
  for (const p of paths) {
    const full = recordingFile(dataDir, p);
    if (full === undefined) {
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

/**
 * Apply the erasure log again (after a restore of an older backup, and at every start): people erased
 * since the backup was taken are erased once more, their recording files included. Returns how many.
 */
export function reapplyErasureLog(store: Store, dataDir: string): number {
  const erased = reapplyErasures(store);
  for (const e of erased) deleteRecordingFiles(dataDir, e.recordingPaths);
  return erased.length;
}
