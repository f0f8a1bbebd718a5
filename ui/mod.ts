/**
 * The face of ui/: what other folders may import from it (re-exports only).
 *
 * @module
 */
export { type AccountSettings, getSettings, setSettings } from "./data/settings.ts";
export {
  createSchedule,
  deleteSchedule,
  listSchedules,
  type Schedule,
  setScheduleEnabled,
  validateSchedule,
} from "./data/schedules.ts";
export { buildIslands, defaultRoot, type IslandManifest } from "./islands_build.ts";
export { ensureUiSchema } from "./schema.ts";
export { SessionStore } from "./auth/sessions.ts";
export { LoginThrottle, type ThrottleOptions } from "./auth/throttle.ts";
export { trustedProxyProblems } from "./auth/client_ip.ts";
export { IslandAssets } from "./assets.ts";
export { LiveHub } from "./live.ts";
export { liveFeed } from "./live_feed.ts";
export { RetentionJob } from "./data/retention_job.ts";
export {
  anyUserExists,
  type CallRow,
  countCalls,
  countPeople,
  getCallRow,
  listCallRows,
  recentPeople,
  searchPeople,
} from "./data/queries.ts";
export { clientAddress, endSession, mountRoutes, startSession } from "./router.ts";
export {
  type Handlers,
  HttpError,
  type PageProps,
  type RouteConfig,
  type RouteContext,
  type RouteModule,
  type UiDeps,
} from "./types.ts";
export { listTurnMetrics, recordTurnMetrics, type TurnMetrics } from "./data/turn_metrics.ts";
export { Check, Csrf, ErrorSummary, Field, IntervalBar, PostButton, Select, Stats } from "./components.tsx";
export { fill, T } from "./texts_de.ts";
export {
  dummyHash,
  hashPassword,
  MIN_PASSWORD_LENGTH,
  needsRehash,
  verifyPassword,
} from "./auth/password.ts";
export { type ApiDoc, body, found, json, PageQuery, query } from "./api.ts";
export { sameSitePath } from "./auth/next.ts";
export { Island } from "./island.tsx";
export { date, dateTime, duration, score } from "./format.ts";
export { join, resolve } from "./_path.ts";
export { Transcript } from "./transcript_view.tsx";
export { type Endpoint, endpoints, openApi } from "./api_docs.ts";
export { callJson, personJson } from "./api_views.ts";
export { startOfWeek } from "./time.ts";
export { sentimentPoints } from "./trend.ts";
export {
  parsePersonForm,
  type PersonFormValues,
  personFormValues,
  PersonInput,
  PersonPatchInput,
} from "./person_form.ts";
export { erasePersonCompletely, exportPerson } from "./data/privacy.ts";
export { type ApiToken, createApiToken, deleteApiToken, listApiTokens } from "./data/api_tokens.ts";
export { MEMORY_LISTS, MemoryView } from "./memory_view.tsx";
export { PersonFields } from "./person_fields.tsx";
