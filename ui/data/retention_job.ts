/**
 * The retention job: hourly (and on demand from the settings page or `POST /api/retention/run`) it
 * deletes the transcripts, analyses and recordings of calls past their person's retention and the
 * requests done longer ago than the account's retention, for every account, removes expired sessions, and writes what it did to each account's audit log.
 *
 * @module
 */
import type { Config } from "../../infra/mod.ts";
import type { Logger } from "../../infra/mod.ts";
import {
  appendAudit,
  listAccounts,
  purgeDoneRequests,
  purgeExpiredCallData,
  purgeExpiredRecordings,
  type Store,
} from "../../store/mod.ts";
import { sweepRecordingFiles } from "../../gateway/mod.ts";
import { getSettings } from "./settings.ts";
import { deleteRecordingFiles } from "./privacy.ts";

/** What one run removed, over all accounts it covered. */
export interface RetentionSummary {
  accounts: number;
  transcriptTurns: number;
  analyses: number;
  recordings: number;
  /** Requests deleted because they were done longer ago than the retention period. */
  requests: number;
  sessions: number;
}

/** Options of {@linkcode RetentionJob}. */
export interface RetentionJobOptions {
  store: Store;
  config: Config;
  log: Logger;
  /** Remove expired sessions too. */
  purgeSessions?: () => number;
  now?: () => number;
  /** Interval between automatic runs (default 1 h: recordings are kept only 24 h by default). */
  intervalMs?: number;
}

/** Runs retention soon after start and then every hour. */
export class RetentionJob {
  readonly #o: RetentionJobOptions;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #lastRun: { at: number; summary: RetentionSummary } | undefined;

  constructor(opts: RetentionJobOptions) {
    this.#o = opts;
  }

  /** When it last ran and what it removed. */
  get lastRun(): { at: number; summary: RetentionSummary } | undefined {
    return this.#lastRun;
  }

  /** Apply retention now, to every account or only to `accountId`. */
  run(opts: { accountId?: string; actorUserId?: string | null } = {}): RetentionSummary {
    const { store, config } = this.#o;
    const now = (this.#o.now ?? Date.now)();
    const accounts = listAccounts(store).filter((a) => !opts.accountId || a.id === opts.accountId);
    const total: RetentionSummary = {
      accounts: accounts.length,
      transcriptTurns: 0,
      analyses: 0,
      recordings: 0,
      requests: 0,
      sessions: 0,
    };
    for (const a of accounts) {
      const days = getSettings(store, config, a.id).defaultRetentionDays;
      const r = purgeExpiredCallData(store, a.id, now, { defaultRetentionDays: days });
      // Recordings have their own, shorter retention (TOM_RETENTION_RECORDING_HOURS, default 24 h).
      const expired = purgeExpiredRecordings(store, a.id, now, {
        recordingHours: config.retention.recordingHours,
      });
      const requests = purgeDoneRequests(store, a.id, now, days);
      const files = deleteRecordingFiles(config.dataDir, [...r.recordingPaths, ...expired]);
      total.transcriptTurns += r.transcriptTurns;
      total.analyses += r.analyses;
      total.recordings += files.deleted;
      total.requests += requests;
      const removed = r.transcriptTurns + r.analyses + r.recordingPaths.length + expired.length + requests;
      if (removed > 0 || opts.actorUserId) {
        appendAudit(store, a.id, {
          actorUserId: opts.actorUserId ?? null,
          action: "retention.purge",
          subjectType: "account",
          subjectId: a.id,
          detail: {
            transcriptTurns: r.transcriptTurns,
            analyses: r.analyses,
            recordings: files.deleted,
            requests,
          },
        });
      }
    }
    // Files the database never learnt about (a crash between creating the file and storing its path).
    if (!opts.accountId) {
      total.recordings += sweepRecordingFiles(
        config.dataDir,
        now - config.retention.recordingHours * 3_600_000,
      );
    }
    total.sessions = this.#o.purgeSessions?.() ?? 0;
    this.#lastRun = { at: now, summary: total };
    this.#o.log.info("retention applied", { ...total });
    return total;
  }

  /** Run once soon after start, then every interval (timers do not keep the process alive). */
  start(): void {
    if (this.#timer !== undefined) return;
    const every = this.#o.intervalMs ?? 3_600_000;
    const tick = (delay: number) => {
      const timer = setTimeout(() => {
        try {
          this.run();
        } catch (e) {
          this.#o.log.error("retention run failed", { error: e });
        }
        tick(every);
      }, delay);
      this.#timer = timer;
      Deno.unrefTimer(timer as unknown as number);
    };
    tick(Math.min(every, 60_000));
  }

  /** Stop the timer. */
  stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
