// Types of the Fresh-style layer: route modules, their context, and the dependencies they get.
import type { Context } from "hono";
import type { FunctionComponent, VNode } from "preact";
import type { Config } from "../infra/mod.ts";
import type { Logger } from "../infra/mod.ts";
import type { Telemetry } from "../infra/mod.ts";
import type { CallRegistry } from "../infra/mod.ts";
import type { Account, ApiTokenScope, Store, User } from "../store/mod.ts";
import type { TranscriptKeyring } from "../store/crypto/mod.ts";
import type { SessionStore } from "./auth/sessions.ts";
import type { LoginThrottle } from "./auth/throttle.ts";
import type { IslandAssets } from "./assets.ts";
import type { LiveHub } from "./live.ts";
import type { RetentionJob } from "./data/retention_job.ts";
import type { DoctorReport } from "../infra/mod.ts";
import type { LearningView } from "../rl/mod.ts";

/** Everything routes may use. */
export interface UiDeps {
  /**
   * Every mounted route module by file (set by {@linkcode mountRoutes}), so the API can document itself
   * without importing the manifest that imports it.
   */
  routes?: Readonly<Record<string, RouteModule>>;
  config: Config;
  store: Store;
  log: Logger;
  telemetry: Telemetry;
  calls?: CallRegistry;
  keyring: TranscriptKeyring;
  sessions: SessionStore;
  throttle: LoginThrottle;
  assets: IslandAssets;
  live: LiveHub;
  /** The inbox's hub: arrivals and the open count of "Anliegen" (ui/inbox.ts). */
  inbox: LiveHub;
  /**
   * The navigation's "Anliegen" entry with its open count, live in the browser (an island, given by
   * routes/ through the composition root; ui/ never imports islands). Absent: a plain link and count.
   */
  requestsNav?: (p: { count: number; current: boolean }) => VNode;
  retention: RetentionJob;
  /** Key for CSRF tokens (HMAC). */
  csrfKey: string;
  /** File holding the first-run setup code. */
  setupCodeFile: string;
  /** The system report (replaceable in tests). */
  doctor: () => Promise<DoctorReport>;
  /** The HS256 key for call tokens, read fresh (rotation). */
  jwtKey: () => Uint8Array;
  /** Rotate the call-token key; false when it is configured (TOM_JWT_SECRET). */
  rotateJwtKey: () => boolean;
  now: () => number;
  /**
   * The running learning loop (its variants file and metrics), for the learning page; read per request
   * because the loop starts after the UI. Absent or undefined: the page reads the variants file in force
   * and shows no in-process metrics.
   */
  learning?: () => LearningView | undefined;
}

/** Who is asking. */
export interface AuthState {
  user: User;
  account: Account;
  /** Session cookie or API token. */
  via: "session" | "token";
  /** The API token's scope (tokens only; store/api_tokens.ts). */
  scope?: ApiTokenScope;
}

/** Options of {@linkcode RouteContext.render}. */
export interface RenderOptions {
  title: string;
  status?: number;
  headers?: Record<string, string>;
}

/** What a handler gets. */
export interface RouteContext<T = unknown> {
  req: Request;
  url: URL;
  params: Record<string, string>;
  c: Context;
  deps: UiDeps;
  /** Set on every route except public ones. */
  auth: AuthState | undefined;
  /** CSRF token to put into forms. */
  csrf: string;
  /** The parsed form (unsafe methods only, CSRF already checked). */
  form: URLSearchParams;
  /** The parsed JSON body (unsafe methods with JSON bodies only). */
  json: unknown;
  /** Render the route's page component with `data`. */
  render(data: T, opts: RenderOptions): Response;
  /** 303 redirect to a same-origin path. */
  redirect(path: string): Response;
  /** Append an audit entry for the current user's account. */
  audit(
    action: string,
    subjectType: string,
    subjectId?: string | null,
    detail?: Record<string, string | number | boolean>,
  ): void;
  /** The authenticated state, or throws (only for non-public routes). */
  need(): AuthState;
}

/** What a page component gets. */
export interface PageProps<T = unknown> {
  data: T;
  url: URL;
  auth: AuthState | undefined;
  csrf: string;
  params: Record<string, string>;
}

/** One handler. */
export type Handler<T = unknown> = (ctx: RouteContext<T>) => Response | Promise<Response>;

/** Handlers per method. */
export type Handlers<T = unknown> = Partial<Record<"GET" | "POST" | "PUT" | "PATCH" | "DELETE", Handler<T>>>;

/** Who may call a route. */
export interface RouteConfig {
  /** public: anyone; user: any logged-in user (default); admin: administrators only. */
  auth?: "public" | "user" | "admin";
  /** API route: JSON errors, Bearer tokens accepted. Default: true for paths under /api. */
  api?: boolean;
  /**
   * The box-wide parts of the route, for the appliance administrator only (403 for everyone else, checked
   * by the router): `true` for the whole route, or the methods and the form `op` values that are.
   */
  appliance?: true | ApplianceParts;
}

/** The box-wide methods and form operations of a route (see {@linkcode RouteConfig.appliance}). */
export interface ApplianceParts {
  methods?: readonly ("GET" | "POST" | "PUT" | "PATCH" | "DELETE")[];
  ops?: readonly string[];
}

/** A route module, as in Fresh. */
export interface RouteModule {
  // deno-lint-ignore no-explicit-any -- each route declares its own data type
  handler?: Handlers<any> | Handler<any>;
  // deno-lint-ignore no-explicit-any -- each route declares its own data type
  default?: FunctionComponent<PageProps<any>>;
  config?: RouteConfig;
}

/** Thrown by handlers to answer with an HTTP error. */
export class HttpError extends Error {
  constructor(readonly status: number, message: string, readonly detail?: unknown) {
    super(message);
    this.name = "HttpError";
  }
}
