/**
 * TOM's SQLite store (node:sqlite, one file, WAL), and the only folder with SQL: the whole schema in
 * versioned migrations, one module per aggregate (accounts, people, calls, transcripts, analyses, memory,
 * feedback, the bandit, the admin UI's sessions, API tokens, schedules and settings, ...), backup,
 * retention, and transcript encryption at rest (crypto/, with its own face). The store stands on infra/
 * alone; other folders import it only through this module and crypto/mod.ts.
 *
 * Every function on tenant data takes the store and then the `accountId`, and every statement filters
 * by it: a row of account A cannot be read, changed or deleted through account B, even by id.
 * Variants, bandit state and nonces are global and take no account (they hold no personal data). Login
 * sessions and API tokens are looked up by the hash of their secret, before any account is known, and
 * `anyUserExists` asks across accounts (first-run setup).
 *
 * Writes: node:sqlite is synchronous, so in one process writes are serialised by the event loop;
 * {@linkcode Store.transaction} groups statements (BEGIN IMMEDIATE, savepoints when nested) and refuses
 * async callbacks, so no transaction is held across an await. {@linkcode Store.write} batches small
 * writes of many concurrent calls into one transaction and resolves after the commit. Other processes
 * (`tom migrate` beside `tom serve`) wait on the lock via busy_timeout. With the default
 * `synchronous = FULL` a resolved write survives `kill -9` and power loss.
 *
 * @example
 * ```ts
 * import { createAccount, createPerson, findPersonByPhone, openStore } from "./mod.ts";
 *
 * const store = openStore(":memory:");
 * const account = createAccount(store, { name: "Praxis Dr. Weber", kind: "clinical" });
 * createPerson(store, account.id, { kind: "patient", displayName: "Hans Müller", phoneE164: "+4917012345678" });
 * console.log(findPersonByPhone(store, account.id, "+4917012345678")?.displayName); // "Hans Müller"
 * store.close();
 * ```
 *
 * @module
 */

export { openStore, Store } from "./db.ts";
export type { StoreOptions } from "./db.ts";
export { migrate, MIGRATIONS, migrationStatus, migrationTables } from "./migrations.ts";
export type { MigrateOptions, Migration, MigrationStatus } from "./migrations.ts";
export { isStorageFull, StoreConflictError, StoreNotFoundError } from "./errors.ts";
export { probeWrite } from "./write_probe.ts";
export type { AccountKind, Json, JsonObject, PageOptions } from "./types.ts";

export {
  createAccount,
  deleteAccount,
  getAccount,
  listAccounts,
  renameAccount,
  updateAccount,
} from "./accounts.ts";
export type { Account, NewAccount } from "./accounts.ts";
export {
  anyUserExists,
  applianceAdminExists,
  createUser,
  deleteUser,
  findUserByEmail,
  getPasswordHash,
  getUser,
  listUsers,
  setPasswordHash,
  setUserDisabled,
} from "./users.ts";
export type { NewUser, User, UserRole } from "./users.ts";
export {
  countPeople,
  createPerson,
  findPeopleByName,
  findPersonByPhone,
  findPersonIdByPhone,
  getPerson,
  listPeople,
  recentPeople,
  updatePerson,
} from "./people.ts";
export type { NewPerson, Person, PersonKind, PersonPatch, RecentPerson } from "./people.ts";
export { erasePerson, reapplyErasures, scrubWal } from "./erasure.ts";
export { type ErasureEntry, erasureLogPath, readErasures } from "./erasure_log.ts";
export type { Erasure } from "./erasure.ts";
export {
  attachRecording,
  callConsent,
  clearRecording,
  createCall,
  endCall,
  findCallByExternalId,
  getCall,
  listCalls,
  listInterruptedCalls,
  markCallAnswered,
  setCallPolicy,
} from "./calls.ts";
export type {
  Call,
  CallCursor,
  CallDirection,
  CallEndStatus,
  CallStatus,
  CallTransport,
  InterruptedCall,
  NewCall,
} from "./calls.ts";
export { countCalls, getCallRow, listCallRows } from "./call_rows.ts";
export type { CallRow } from "./call_rows.ts";
export { appendTranscriptTurn, deleteTranscript, listTranscript } from "./transcripts.ts";
export type { NewTranscriptTurn, Speaker, TranscriptTurn } from "./transcripts.ts";
export {
  completeAnalysis,
  enqueueAnalysis,
  failAnalysis,
  getAnalysis,
  listDueAnalyses,
} from "./call_analysis.ts";
export type { AnalysisResult, AnalysisStatus, CallAnalysis, SentimentLabel } from "./call_analysis.ts";
export { deleteMemory, getMemory, MAX_MEMORY_BYTES, saveMemory } from "./memory.ts";
export type { MemoryState } from "./memory.ts";
export {
  birthDateMatches,
  birthDateOf,
  CALL_IDENTITIES,
  type CallerCheck,
  type CallIdentity,
  CHECK_METHODS,
  type CheckMethod,
  getBirthDate,
  getCallerCheck,
  getCallIdentity,
  identityData,
  identityTrusted,
  NO_CHECK,
  PIN_PATTERN,
  pinMatches,
  setBirthDate,
  setCallerCheck,
  setCallIdentity,
  setPin,
} from "./caller_identity.ts";
export { deleteFeedback, feedbackByVariant, getFeedback, recordFeedback } from "./feedback.ts";
export type { Feedback, FeedbackSource, NewFeedback, VariantFeedback } from "./feedback.ts";
export {
  applyReward,
  blacklistVariant,
  clearBlacklist,
  getVariant,
  listAllArms,
  listArms,
  listVariants,
  recentPolicySelections,
  setVariantEnabled,
  upsertVariant,
} from "./bandit.ts";
export type { BanditArm, NewVariant, RewardUpdate, Variant } from "./bandit.ts";
export {
  adminDisabledVariants,
  appendRlDecision,
  getReward,
  listRewards,
  listRlDecisions,
  recordReward,
} from "./rewards.ts";
export type { CallReward, NewCallReward, RewardSource, RlDecision } from "./rewards.ts";
export { backupDatabase, checkDatabaseFile, databaseInUse, transcriptKeyIdsOfFile } from "./backup.ts";
export type { DatabaseBackup, DatabaseCheck } from "./backup.ts";
export { purgeExpiredNonces, useNonce } from "./nonces.ts";
export { appendAudit, listAccessLog, listAudit } from "./audit.ts";
export type { AccessCursor, AccessEntry, AuditEntry, AuditQuery, NewAuditEntry } from "./audit.ts";
export { purgeExpiredCallData, purgeExpiredRecordings } from "./retention.ts";
export type { RetentionResult } from "./retention.ts";
export { callStats, sentimentScores, sentimentTrend } from "./stats.ts";
export type { CallStats, SentimentDay, SentimentScore } from "./stats.ts";
export {
  deleteSession,
  deleteUserSessions,
  findLiveSession,
  insertSession,
  purgeExpiredSessions,
  touchSession,
} from "./sessions.ts";
export type { Session, SessionRow } from "./sessions.ts";
export {
  API_TOKEN_SCOPES,
  deleteApiToken,
  insertApiToken,
  listApiTokens,
  useApiToken,
} from "./api_tokens.ts";
export type { ApiToken, ApiTokenScope, ApiTokenUse, NewApiToken } from "./api_tokens.ts";
export {
  deleteSchedule,
  enabledScheduleTimes,
  insertSchedule,
  listSchedules,
  setScheduleEnabled,
} from "./schedules.ts";
export type { NewSchedule, Schedule } from "./schedules.ts";
export { accountAllowsRecording, getStoredSettings, saveSettings } from "./settings.ts";
export type { StoredSettings } from "./settings.ts";
export { listTurnMetrics, recordTurnMetrics } from "./turn_metrics.ts";
export {
  defaultPractice,
  getPractice,
  isValidDate,
  isValidTimeZone,
  PRACTICE_CODES,
  PRACTICE_LIMITS,
  practiceBytes,
  PracticeSchema,
  practiceUpdated,
  putPractice,
  WEEKDAYS,
} from "./practice.ts";
export type {
  Closure,
  OpeningInterval,
  Practice,
  PracticeCode,
  TransferTarget,
  Weekday,
} from "./practice.ts";
export type { TurnMetrics } from "./turn_metrics.ts";
export type { WriteQueueOptions } from "./write_queue.ts";
export { keyIdOf } from "./crypto/keyring.ts";
export {
  countOpenRequests,
  deleteRequestsOfCall,
  purgeDoneRequests,
  REQUEST_KINDS,
  REQUEST_STATUSES,
} from "./requests.ts";
export type {
  NewRequest,
  RequestKind,
  RequestQuery,
  RequestRecord,
  RequestStatus,
  RequestUrgency,
} from "./requests.ts";
export {
  createRequest,
  getRequest,
  listPersonRequests,
  listRequests,
  updateRequest,
} from "./crypto/sealed_requests.ts";
export type { RequestPatch } from "./crypto/sealed_requests.ts";
