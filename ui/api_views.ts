// JSON shapes of the API (what leaves the box through /api): no hashes, no internal paths.
import type { CallRow, Person } from "../store/mod.ts";

/** A person as the API shows it. */
export function personJson(p: Person): Record<string, unknown> {
  return {
    id: p.id,
    kind: p.kind,
    displayName: p.displayName,
    phoneE164: p.phoneE164,
    language: p.language,
    consentRecording: p.consentRecording,
    consentTranscript: p.consentTranscript,
    retentionDays: p.retentionDays,
    notes: p.notes,
    createdAt: new Date(p.createdAt).toISOString(),
    updatedAt: new Date(p.updatedAt).toISOString(),
  };
}

/** A call as the API shows it. */
export function callJson(c: CallRow): Record<string, unknown> {
  const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
  return {
    id: c.id,
    personId: c.personId,
    personName: c.personName,
    direction: c.direction,
    transport: c.transport,
    status: c.status,
    startedAt: iso(c.startedAt),
    answeredAt: iso(c.answeredAt),
    endedAt: iso(c.endedAt),
    durationMs: c.durationMs,
    recorded: c.recorded && c.recordingPath !== null,
    sentimentLabel: c.sentimentLabel,
    sentimentScore: c.sentimentScore,
    rating: c.rating,
  };
}
