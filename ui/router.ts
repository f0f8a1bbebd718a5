/**
 * The file-route layer: every module in `routes/` (listed in routes/_manifest.ts, as Fresh's manifest)
 * becomes a hono route whose path is its file path (`routes/people/[id].tsx` -> `/people/:id`,
 * `index` files name their folder). Each request gets authentication (session cookie, or a Bearer API
 * token on /api), role checks, CSRF checks on every state-changing method, body parsing, security
 * headers, and a render function that wraps the route's page component in the layout.
 *
 * @module
 */
import type { Context, Hono } from "hono";
import { timingSafeEqual } from "node:crypto";
import { Buffer } from "node:buffer";
import type { VNode } from "preact";
import {
  appendAudit,
  countOpenRequests,
  getAccount,
  getUser,
  isStorageFull,
  type Session,
} from "../store/mod.ts";
import { csrfTokenFor, randomToken } from "./auth/sessions.ts";
import { sameSitePath } from "./auth/next.ts";
import { clientIp } from "./auth/client_ip.ts";
import { resolveApiToken, scopeRefusal } from "./data/api_tokens.ts";
import { isApplianceAdmin, isBoxWide } from "./auth/levels.ts";
import { dateTime } from "./format.ts";
import { renderDocument } from "./render.tsx";
import { current } from "./layout.tsx";
import { RequestsNavLink } from "./client/inbox_nav.tsx";
import { fill, T } from "./texts_de.ts";
import { readBodyText } from "./body.ts";
import { demoModelRoles } from "../infra/mod.ts";
import {
  type AuthState,
  type Handler,
  HttpError,
  type RouteContext,
  type RouteModule,
  type UiDeps,
} from "./types.ts";

const UNSAFE = new Set(["POST", "PUT", "PATCH", "DELETE"]);
const MAX_BODY = 1024 * 1024;

/** `./routes/people/[id]/index.tsx` -> `/people/:id`. */
export function routePath(file: string): string {
  const rel = file.replace(/^\.?\/?routes\//, "").replace(/\.(tsx|ts)$/, "");
  const parts = rel.split("/").filter((p) => p !== "index");
  return "/" + parts.map((p) => p.replace(/^\[(\w+)\]$/, ":$1")).join("/");
}

/** Cookie names; `__Host-` when Secure (bound to this host, path /). */
export function cookieNames(secure: boolean): { session: string; pre: string } {
  return secure
    ? { session: "__Host-tom_sid", pre: "__Host-tom_pre" }
    : { session: "tom_sid", pre: "tom_pre" };
}

function readCookie(req: Request, name: string): string | undefined {
  for (const part of (req.headers.get("cookie") ?? "").split(";")) {
    const i = part.indexOf("=");
    if (i > 0 && part.slice(0, i).trim() === name) return part.slice(i + 1).trim();
  }
  return undefined;
}

function cookie(name: string, value: string, secure: boolean, maxAgeS?: number): string {
  return [
    `${name}=${value}`,
    "Path=/",
    "HttpOnly",
    "SameSite=Strict",
    ...(secure ? ["Secure"] : []),
    ...(maxAgeS !== undefined ? [`Max-Age=${maxAgeS}`] : []),
  ].join("; ");
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Security headers of every UI response. */
export const SECURITY_HEADERS: Record<string, string> = {
  "Content-Security-Policy":
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; media-src 'self' blob:; " +
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  "X-Content-Type-Options": "nosniff",
  "X-Frame-Options": "DENY",
  "Referrer-Policy": "same-origin",
  "Permissions-Policy": "microphone=(self), camera=(), geolocation=()",
  "Cross-Origin-Opener-Policy": "same-origin",
};

/**
 * Client address for throttling: the socket's peer, or, when the peer is one of `ui.trustedProxies`, the
 * address that proxy forwarded (ui/auth/client_ip.ts). "local" when there is no socket (tests).
 */
export function clientAddress(c: Context, trustedProxies: readonly string[]): string {
  const env = c.env as { remoteAddr?: { hostname?: string } } | undefined;
  const peer = env?.remoteAddr?.hostname;
  return peer === undefined ? "local" : clientIp(peer, c.req.raw.headers, trustedProxies);
}

/** Mount every route module on the app. */
export function mountRoutes(app: Hono, manifest: Record<string, RouteModule>, deps: UiDeps): string[] {
  deps.routes = manifest;
  const entries = Object.entries(manifest).map(([file, module]) => ({ path: routePath(file), module }));
  // Static segments first, so /people/new wins over /people/:id.
  entries.sort((a, b) =>
    (a.path.split(":").length - b.path.split(":").length) || b.path.length - a.path.length
  );
  for (const { path, module } of entries) {
    app.all(path, (c) => dispatch(c, path, module, deps));
  }
  return entries.map((e) => e.path);
}

async function dispatch(c: Context, path: string, module: RouteModule, deps: UiDeps): Promise<Response> {
  const started = performance.now();
  const req = c.req.raw;
  const url = new URL(req.url);
  const method = req.method === "HEAD" ? "GET" : req.method;
  const isApi = module.config?.api ?? path.startsWith("/api");
  const authLevel = module.config?.auth ?? "user";
  const secure = deps.config.ui.secureCookies;
  const names = cookieNames(secure);
  const setCookies: string[] = [];
  const headers = new Headers(SECURITY_HEADERS);
  headers.set("Cache-Control", "no-store");

  const fail = (status: number, message: string, detail?: unknown): Response => {
    if (isApi) {
      headers.set("Content-Type", "application/json; charset=utf-8");
      return new Response(JSON.stringify({ error: message, ...(detail ? { detail } : {}) }), {
        status,
        headers,
      });
    }
    headers.set("Content-Type", "text/html; charset=utf-8");
    const html = renderDocument({
      title: String(status),
      path: url.pathname,
      auth: undefined,
      csrf: "",
      cssUrl: deps.assets.cssUrl,
      body: `<h1>${status}</h1><p class="msg err" role="alert">${
        escapeHtml(message)
      }</p><p><a href="/">${T.nav.dashboard}</a></p>`,
      islands: [],
      assets: deps.assets,
    });
    return new Response(html, { status, headers });
  };

  try {
    // Who is asking.
    let auth: AuthState | undefined;
    let sessionId: string | undefined;
    let session: Session | undefined;
    const bearer = /^Bearer\s+(\S+)$/i.exec(req.headers.get("authorization") ?? "")?.[1];
    if (isApi && bearer) {
      const t = resolveApiToken(deps.store, bearer);
      if (!t) return fail(401, T.api.unauthorized);
      if (t.expired) return fail(401, fill(T.api.tokenExpired, { date: dateTime(t.expiresAt) }));
      const refused = scopeRefusal(t.scope, method, url.pathname);
      if (refused) return fail(403, refused === "read" ? T.api.scopeRead : T.api.scopeRequests);
      auth = loadAuth(deps, t.accountId, t.userId, "token");
      if (!auth) return fail(401, T.api.unauthorized);
      auth.scope = t.scope;
    } else {
      sessionId = readCookie(req, names.session);
      session = deps.sessions.get(sessionId);
      if (session) auth = loadAuth(deps, session.accountId, session.userId, "session");
      if (!auth) sessionId = undefined;
    }
    // Anonymous visitors get a pre-session id that their forms' CSRF tokens are bound to.
    let preId = readCookie(req, names.pre);
    if (!auth && (!preId || !/^[A-Za-z0-9_-]{43}$/.test(preId))) {
      preId = randomToken();
      setCookies.push(cookie(names.pre, preId, secure));
    }
    const csrfBase = sessionId ?? preId ?? "";
    const csrf = csrfBase ? csrfTokenFor(deps.csrfKey, csrfBase) : "";

    if (authLevel !== "public" && !auth) {
      if (isApi) return fail(401, T.api.unauthorized);
      const next = method === "GET" ? `?next=${encodeURIComponent(url.pathname + url.search)}` : "";
      return redirectWith(headers, setCookies, `/login${next}`);
    }
    if (authLevel === "admin" && auth?.user.role !== "admin") {
      return fail(403, isApi ? T.api.forbidden : T.app.forbidden);
    }
    // Box-wide parts (config.appliance): the appliance administrator only; ops are checked with the form.
    const applianceOnly = () => fail(403, isApi ? T.api.applianceOnly : T.app.applianceOnly);
    if (isBoxWide(module.config, method, null) && !isApplianceAdmin(auth)) return applianceOnly();

    // Body and CSRF.
    let form = new URLSearchParams();
    let json: unknown = undefined;
    if (UNSAFE.has(method)) {
      const type = req.headers.get("content-type") ?? "";
      // Read at most MAX_BODY bytes, also of a chunked body, and stop reading there (ui/body.ts).
      const body = await readBodyText(req, MAX_BODY);
      if (!body.ok) {
        const size = body.declared ? String(body.size) : `${T.api.atLeast} ${body.size}`;
        return fail(413, fill(T.api.tooLarge, { size, max: MAX_BODY }));
      }
      const text = body.text;
      if (type.startsWith("application/x-www-form-urlencoded")) form = new URLSearchParams(text);
      else if (type.startsWith("application/json") && text !== "") {
        try {
          json = JSON.parse(text);
        } catch {
          return fail(400, T.api.invalid);
        }
      } else if (text !== "") return fail(415, T.api.invalid);
      if (auth?.via !== "token") {
        const site = req.headers.get("sec-fetch-site");
        const origin = req.headers.get("origin");
        // Behind a TLS reverse proxy the browser's Origin is https:// while TOM sees http://: compare the
        // host the browser addressed (the Host header a proxy passes on), not the scheme.
        const crossSite = (site !== null && site !== "same-origin" && site !== "none") ||
          (origin !== null && originHost(origin) !== (req.headers.get("host") ?? url.host).toLowerCase());
        const given = form.get("_csrf") ?? req.headers.get("x-csrf-token") ?? "";
        if (crossSite || !csrf || !safeEqual(given, csrf)) {
          deps.log.warn("csrf check failed", { path: url.pathname, method, cross_site: crossSite });
          return fail(403, isApi ? T.api.csrf : T.app.csrf);
        }
      }
      if (isBoxWide(module.config, method, form.get("op")) && !isApplianceAdmin(auth)) return applianceOnly();
    }

    if (!isApi) await deps.assets.ready();

    const ctx: RouteContext & { setCookie(v: string): void } = {
      req,
      url,
      params: c.req.param() as Record<string, string>,
      c,
      deps,
      auth,
      csrf,
      form,
      json,
      render(data, opts) {
        if (!module.default) throw new Error(`Route ${path} has no page component`);
        const t0 = performance.now();
        const html = renderPageHtml(module, data, opts.title, { url, auth, csrf, params: ctx.params, deps });
        const h = new Headers(headers);
        h.set("Content-Type", "text/html; charset=utf-8");
        h.set("Server-Timing", `render;dur=${(performance.now() - t0).toFixed(2)}`);
        for (const [k, v] of Object.entries(opts.headers ?? {})) h.set(k, v);
        return new Response(html, { status: opts.status ?? 200, headers: h });
      },
      redirect(to) {
        return redirectWith(headers, setCookies, to);
      },
      audit(action, subjectType, subjectId, detail) {
        const a = ctx.need();
        appendAudit(deps.store, a.account.id, {
          actorUserId: a.user.id,
          action,
          subjectType,
          subjectId: subjectId ?? null,
          detail: detail ?? {},
        });
      },
      need() {
        if (!auth) throw new HttpError(401, T.api.unauthorized);
        return auth;
      },
      setCookie(v: string) {
        setCookies.push(v);
      },
    };
    sessionHelpers.set(ctx, { sessionId, preId, names, secure });

    const h = module.handler;
    const fn: Handler | undefined = typeof h === "function" ? h : h?.[method as "GET"];
    let res: Response;
    if (fn) res = await fn(ctx);
    else if (method === "GET" && module.default) res = ctx.render(undefined, { title: "" });
    else return fail(405, "Method not allowed");
    const out = new Response(req.method === "HEAD" ? null : res.body, {
      status: res.status,
      headers: res.headers,
    });
    for (const [k, v] of headers) if (!out.headers.has(k)) out.headers.set(k, v);
    for (const v of setCookies) out.headers.append("Set-Cookie", v);
    if (!out.headers.has("Server-Timing")) {
      out.headers.set("Server-Timing", `total;dur=${(performance.now() - started).toFixed(2)}`);
    }
    return out;
  } catch (e) {
    if (e instanceof HttpError) return fail(e.status, e.message, e.detail);
    if (isStorageFull(e)) {
      // Every page view writes (audit row, session): say what is wrong instead of a bare 500.
      deps.log.error("UI request failed: the disk is full", { path, method, error: e });
      return fail(507, T.app.storageFull);
    }
    deps.log.error("UI request failed", { path, method, error: e });
    return fail(500, T.app.serverError);
  }
}

function redirectWith(headers: Headers, setCookies: string[], to: string): Response {
  const h = new Headers(headers);
  h.set("Location", sameSitePath(to));
  for (const v of setCookies) h.append("Set-Cookie", v);
  return new Response(null, { status: 303, headers: h });
}

function loadAuth(
  deps: UiDeps,
  accountId: string,
  userId: string,
  via: AuthState["via"],
): AuthState | undefined {
  const user = getUser(deps.store, accountId, userId);
  const account = getAccount(deps.store, accountId);
  return user && account && !user.disabled ? { user, account, via } : undefined;
}

/** Escape text for HTML. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

/** The navigation's "Anliegen" entry with the account's open count (the island when routes/ gave one). */
function requestsNavOf(deps: UiDeps, accountId: string, path: string): () => VNode {
  const count = countOpenRequests(deps.store, accountId);
  const isCurrent = current(path, "/requests");
  const nav = deps.requestsNav;
  return nav
    ? () => nav({ count, current: isCurrent })
    : () =>
      RequestsNavLink({ count, current: isCurrent, label: T.nav.requests, countLabel: T.requests.openCount });
}

function renderPageHtml(
  module: RouteModule,
  data: unknown,
  title: string,
  p: { url: URL; auth: AuthState | undefined; csrf: string; params: Record<string, string>; deps: UiDeps },
): string {
  return renderDocument({
    title,
    path: p.url.pathname,
    auth: p.auth,
    csrf: p.csrf,
    cssUrl: p.deps.assets.cssUrl,
    flash: T.flash[p.url.searchParams.get("ok") ?? ""],
    requestsNav: p.auth ? requestsNavOf(p.deps, p.auth.account.id, p.url.pathname) : undefined,
    demoModels: p.auth && demoModelRoles(p.deps.config).length > 0 ? p.deps.config.profile : undefined,
    page: {
      component: module.default as NonNullable<RouteModule["default"]>,
      props: { data, url: p.url, auth: p.auth, csrf: p.csrf, params: p.params },
    },
    assets: p.deps.assets,
  });
}

interface SessionHelper {
  sessionId: string | undefined;
  preId: string | undefined;
  names: { session: string; pre: string };
  secure: boolean;
}
const sessionHelpers = new WeakMap<RouteContext, SessionHelper>();

/**
 * Log a user in: end any session the browser had (no fixation), start a new one with a new id, and
 * drop the pre-session cookie.
 */
export function startSession(ctx: RouteContext, accountId: string, userId: string): void {
  const h = sessionHelpers.get(ctx);
  if (!h) throw new Error("Cannot start session outside a UI request");
  ctx.deps.sessions.delete(readCookie(ctx.req, h.names.session));
  const { id } = ctx.deps.sessions.create(accountId, userId);
  const add = (ctx as RouteContext & { setCookie(v: string): void }).setCookie;
  add(cookie(h.names.session, id, h.secure, ctx.deps.config.ui.sessionHours * 3600));
  add(cookie(h.names.pre, "", h.secure, 0));
}

/** Log out: delete the session and its cookie. */
export function endSession(ctx: RouteContext): void {
  const h = sessionHelpers.get(ctx);
  if (!h) return;
  ctx.deps.sessions.delete(readCookie(ctx.req, h.names.session));
  (ctx as RouteContext & { setCookie(v: string): void }).setCookie(cookie(h.names.session, "", h.secure, 0));
}

/** The host (with port) of an Origin header, lower case; "" when it is not a URL (e.g. "null"). */
function originHost(origin: string): string {
  try {
    return new URL(origin).host.toLowerCase();
  } catch {
    return "";
  }
}
