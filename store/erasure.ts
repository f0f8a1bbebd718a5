// Erasure (GDPR Art. 17) of a person and everything personal derived from their calls.
import type { Store } from "./db.ts";
import { many } from "./_util.ts";

/** What {@linkcode erasePerson} removed; the caller deletes the recording files. */
export interface Erasure {
  personId: string;
  anonymisedCalls: number;
  recordingPaths: string[];
}

/**
 * Erases a person (GDPR Art. 17): the person, their memory, and the transcripts, analyses, requests
 * (trigger `people_erase_requests`, migration 5) and recording paths of their calls; the calls stay as anonymous metadata. Returns the recording files to delete, or
 * undefined if the person is not in this account. A call still being recorded loses its file twice over:
 * the path is returned here, and its recorder deletes the file when the call ends because the consent is
 * gone (gateway/recording.ts); files the database never named are swept by age.
 */
export function erasePerson(store: Store, accountId: string, personId: string): Erasure | undefined {
  return store.transaction(() => {
    const calls = many<{ recording_path: string | null }>(
      store.prepare("SELECT recording_path FROM calls WHERE account_id = ? AND person_id = ?"),
      accountId,
      personId,
    );
    const sql = "DELETE FROM people WHERE account_id = ? AND id = ?";
    if (Number(store.prepare(sql).run(accountId, personId).changes) !== 1) return undefined;
    return {
      personId,
      anonymisedCalls: calls.length,
      recordingPaths: calls.flatMap((c) => (c.recording_path === null ? [] : [c.recording_path])),
    };
  });
}
