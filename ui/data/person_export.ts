/**
 * The Art. 15 export of one person, streamed. The JSON document ("tom-person-export/1": person with the
 * date of birth and whether a PIN is set (never the PIN or its hash), memory,
 * schedules, calls with transcripts, analysis and timings, requests, access log) is written piece by piece
 * while the calls and the access log are read a page at a time (keyset cursors, so calls that arrive meanwhile
 * are neither skipped nor repeated): there is no cap, and a person with thousands of calls needs no more
 * memory than one page. The access log is the audit entries about the person and, with each call, those
 * about that call (who opened the transcript, played the recording, exported), oldest first, with the
 * actor's id and name; never an entry about anyone else.
 *
 * The ZIP variant holds the same document as `person.json` and each call's recording as
 * `recordings/<callId>.wav`, byte for byte: recordings are plain WAV files (0600 in 0700 directories, see
 * gateway/recording.ts), not encrypted at rest. client-zip writes it as a stream (stored entries, Zip64
 * when needed), one file open at a time.
 *
 * @module
 */
import { makeZip } from "client-zip";
import {
  type Call,
  getAnalysis,
  getBirthDate,
  getFeedback,
  getMemory,
  getPerson,
  identityData,
  listAccessLog,
  listCalls,
  listPersonRequests,
  listSchedules,
  listTurnMetrics,
  type Person,
  type Store,
} from "../../store/mod.ts";
import { readTranscript, type TranscriptKeyring } from "../../store/crypto/mod.ts";
import { found } from "../api.ts";
import type { RouteContext } from "../types.ts";
import { recordingFile } from "./privacy.ts";

/** The format name in the document; fields were only added since version 1. */
export const EXPORT_FORMAT = "tom-person-export/1";
/** The two ways to download an export. */
export type ExportKind = "json" | "zip";

/** Calls and access-log entries read per query. */
const PAGE = 200;

/** What the export reads. */
export interface ExportDeps {
  store: Store;
  keyring: TranscriptKeyring;
  /** The data directory (recordings under `<dataDir>/recordings`). */
  dataDir: string;
}

/** A streamed export, ready to be the body of a download. */
export interface PersonExportStream {
  body: ReadableStream<Uint8Array>;
  contentType: string;
  fileName: string;
}

/** The export of a person of this account, as a stream; undefined when the person is not in the account. */
export function streamPersonExport(
  deps: ExportDeps,
  accountId: string,
  personId: string,
  kind: ExportKind,
): PersonExportStream | undefined {
  const person = getPerson(deps.store, accountId, personId);
  if (!person) return undefined;
  if (kind === "json") {
    return {
      body: ReadableStream.from(exportJson(deps, person, false)).pipeThrough(new TextEncoderStream()),
      contentType: "application/json; charset=utf-8",
      fileName: `person-${person.id}.json`,
    };
  }
  return {
    body: makeZip(zipEntries(deps, person), { buffersAreUTF8: true }),
    contentType: "application/zip",
    fileName: `person-${person.id}.zip`,
  };
}

/** The entries of the ZIP: person.json first, then the recordings. */
async function* zipEntries(deps: ExportDeps, person: Person) {
  const lastModified = new Date(deps.store.now());
  yield { name: "person.json", lastModified, input: exportJson(deps, person, true) };
  for (const call of callsOf(deps.store, person)) {
    const file = call.recordingPath === null ? undefined : recordingFile(deps.dataDir, call.recordingPath);
    if (file === undefined) continue;
    let opened: Deno.FsFile;
    try {
      opened = await Deno.open(file, { read: true });
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) continue; // deleted meanwhile (retention, erasure)
      throw e;
    }
    yield { name: zipName(call.id), lastModified: new Date(call.startedAt), input: opened.readable };
  }
}

function zipName(callId: string): string {
  return `recordings/${callId}.wav`;
}

/** The person's calls, newest first, a page at a time. */
function* callsOf(store: Store, person: Person): Generator<Call> {
  let after: { startedAt: number; id: string } | undefined;
  for (;;) {
    const page = listCalls(store, person.accountId, { personId: person.id, limit: PAGE, after });
    yield* page;
    if (page.length < PAGE) return;
    const last = page[page.length - 1];
    after = { startedAt: last.startedAt, id: last.id };
  }
}

/** The access log of one subject, oldest first, a page at a time. */
function* accessOf(store: Store, accountId: string, type: "person" | "call", id: string) {
  let after: { at: number; seq: number } | undefined;
  for (;;) {
    const page = listAccessLog(store, accountId, { type, id }, { after, limit: PAGE });
    for (const e of page) {
      yield { at: iso(e.at), action: e.action, actorUserId: e.actorUserId, actorName: e.actorName };
    }
    if (page.length < PAGE) return;
    after = page[page.length - 1];
  }
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** `value` as indented JSON, nested `depth` spaces deep (JSON strings never hold a raw newline). */
function indented(value: unknown, depth: number): string {
  return JSON.stringify(value, null, 2).replaceAll("\n", "\n" + " ".repeat(depth));
}

/** The JSON document in pieces; `inZip` names each call's recording file in the ZIP. */
async function* exportJson(deps: ExportDeps, person: Person, inZip: boolean): AsyncGenerator<string> {
  const { store, keyring } = deps;
  const accountId = person.accountId;
  const { phoneHash: _hash, accountId: _acc, ...fields } = person;
  const head = {
    format: EXPORT_FORMAT,
    exportedAt: iso(store.now()),
    person: {
      ...fields,
      createdAt: iso(person.createdAt),
      updatedAt: iso(person.updatedAt),
      // What the caller check compares with: the date of birth, and only whether a PIN is set (its hash
      // is no personal data of theirs to hand out, and would let anyone with the file guess the PIN).
      birthDate: getBirthDate(store, keyring, accountId, person.id),
      pinSet: identityData(store, accountId, person.id).pin,
    },
    memory: getMemory(store, accountId, person.id)?.memory ?? null,
    schedules: listSchedules(store, accountId, person.id).map(({ accountId: _a, personName: _n, ...s }) => s),
  };
  yield indented(head, 0).replace(/\n}$/, ',\n  "calls": [');
  let first = true;
  for (const call of callsOf(store, person)) {
    const entry = await callEntry(deps, call, inZip);
    yield (first ? "\n    " : ",\n    ") + indented(entry, 4);
    first = false;
  }
  const requests = (await listPersonRequests(store, keyring, accountId, person.id)).map((
    { accountId: _a, createdAt, updatedAt, doneAt, ...r },
  ) => ({ ...r, createdAt: iso(createdAt), updatedAt: iso(updatedAt), doneAt: iso(doneAt) }));
  yield `${first ? "" : "\n  "}],\n  "requests": ${indented(requests, 2)},\n  "accessLog": [`;
  first = true;
  for (const e of accessOf(store, accountId, "person", person.id)) {
    yield (first ? "\n    " : ",\n    ") + indented(e, 4);
    first = false;
  }
  yield `${first ? "" : "\n  "}]\n}\n`;
}

/** One call of the export. */
async function callEntry(deps: ExportDeps, c: Call, inZip: boolean) {
  const { store, keyring } = deps;
  const analysis = getAnalysis(store, c.accountId, c.id);
  const feedback = getFeedback(store, c.accountId, c.id);
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
    ...(inZip ? { recordingFile: await recordingInZip(deps.dataDir, c) } : {}),
    transcript: await readTranscript(store, keyring, c.accountId, c.id),
    analysis: analysis && analysis.status === "done"
      ? {
        sentimentLabel: analysis.sentimentLabel,
        sentimentScore: analysis.sentimentScore,
        reason: analysis.reason,
        summary: analysis.summary,
      }
      : null,
    rating: feedback?.rating ?? null,
    turnTimings: listTurnMetrics(store, c.accountId, c.id),
    accessLog: [...accessOf(store, c.accountId, "call", c.id)],
  };
}

/** Where the call's recording is in the ZIP, or null when it has none (or its file is gone). */
async function recordingInZip(dataDir: string, c: Call): Promise<string | null> {
  const file = c.recordingPath === null ? undefined : recordingFile(dataDir, c.recordingPath);
  if (file === undefined) return null;
  try {
    return (await Deno.stat(file)).isFile ? zipName(c.id) : null;
  } catch {
    return null;
  }
}

/**
 * The download of the export of the person `ctx.params.id` (404 unless in the user's account), audited as
 * "person.export" with its format before the first byte leaves.
 */
export function personExportResponse(ctx: RouteContext, kind: ExportKind, api = false): Response {
  const { account } = ctx.need();
  const { store, keyring, config } = ctx.deps;
  const exp = found(
    streamPersonExport({ store, keyring, dataDir: config.dataDir }, account.id, ctx.params.id, kind),
  );
  ctx.audit("person.export", "person", ctx.params.id, api ? { format: kind, api } : { format: kind });
  return new Response(exp.body, {
    headers: {
      "Content-Type": exp.contentType,
      "Content-Disposition": `attachment; filename="${exp.fileName}"`,
      "Cache-Control": "no-store",
    },
  });
}
