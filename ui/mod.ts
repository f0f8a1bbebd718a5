/**
 * The admin UI's Fresh-style kit: the file-route layer (router, render, layout, the route types), the
 * components and views of the pages, the islands' bundling and the `<Island>` renderer (given the island
 * registry by routes/), the /api helpers and their documentation, the live feed of calls, login sessions,
 * passwords and the login throttle, the German texts and formats. No SQL: the rows are store/'s. ui/
 * stands on rl/, pipeline/, gateway/, store/ and infra/ and never imports routes/ or islands/; its browser
 * code is client/, whose own face (client/mod.ts) is all that islands may import. routes/ and app/ import
 * ui/ only through this module.
 *
 * @module
 */
export { type AccountSettings, getSettings, setSettings } from "./data/settings.ts";
export { createSchedule, validateSchedule } from "./data/schedules.ts";
export { buildIslands, defaultRoot, type IslandManifest } from "./islands_build.ts";
export { SessionStore } from "./auth/sessions.ts";
export { LoginThrottle, type ThrottleOptions } from "./auth/throttle.ts";
export { trustedProxyProblems } from "./auth/client_ip.ts";
export { IslandAssets } from "./assets.ts";
export { LiveHub } from "./live.ts";
export { liveFeed } from "./live_feed.ts";
export { inboxHub, type NotedRequest, publishRequestCount, publishRequestNoted } from "./inbox.ts";
export { type SseFrame, sseResponse, sseRoute } from "./sse.ts";
export { RetentionJob } from "./data/retention_job.ts";
export { searchPeople } from "./data/queries.ts";
export { clientAddress, endSession, mountRoutes, startSession } from "./router.ts";
export {
  type ApplianceParts,
  type Handlers,
  HttpError,
  type PageProps,
  type RouteConfig,
  type RouteContext,
  type RouteModule,
  type UiDeps,
} from "./types.ts";
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
export { patchRequest, requestJson, RequestPatchSchema } from "./request_patch.ts";
export { sameSitePath } from "./auth/next.ts";
export { type IslandProps, type IslandRegistry, islandRenderer } from "./island.tsx";
export { date, dateTime, duration, score } from "./format.ts";
export { join, resolve } from "./_path.ts";
export { Transcript } from "./transcript_view.tsx";
export { type Endpoint, endpoints, openApi } from "./api_docs.ts";
export { callJson, personJson } from "./api_views.ts";
export { sentimentPoints, startOfWeek } from "./trend.ts";
export { type ChartPoint, RequestTable, type RequestTableTexts } from "./client/mod.ts";
export {
  parsePersonForm,
  type PersonFormValues,
  personFormValues,
  PersonInput,
  PersonPatchInput,
} from "./person_form.ts";
export { erasePersonCompletely, reapplyErasureLog } from "./data/privacy.ts";
export { type ExportKind, personExportResponse, streamPersonExport } from "./data/person_export.ts";
export { createApiToken, TOKEN_DAYS_DEFAULT, TOKEN_DAYS_MAX } from "./data/api_tokens.ts";
export { isApplianceAdmin, isBoxWide } from "./auth/levels.ts";
export { MEMORY_LISTS, MemoryView } from "./memory_view.tsx";
export { PersonFields } from "./person_fields.tsx";
export {
  parsePracticeForm,
  practiceChanges,
  type PracticeErrors,
  type PracticeFormValues,
  practiceFormValues,
  practiceIssues,
  practiceToForm,
} from "./practice_form.ts";
export { PracticeFields, PracticeView } from "./practice_fields.tsx";
