/** @jsxImportSource preact */
/** @jsxRuntime automatic */
// Login: throttled per e-mail address and real client (attempts reserved before the password check),
// constant work for unknown addresses, a new session id, and only a same-site path to go on to.
import type { VNode } from "preact";
import {
  appendAudit,
  findUserByEmail,
  getPasswordHash,
  listAccounts,
  setPasswordHash,
} from "../store/mod.ts";
import { dummyHash, hashPassword, needsRehash, verifyPassword } from "../ui/mod.ts";
import { anyUserExists } from "../store/mod.ts";
import { sameSitePath } from "../ui/mod.ts";
import { clientAddress, startSession } from "../ui/mod.ts";
import { Csrf, Field } from "../ui/mod.ts";
import { fill, T } from "../ui/mod.ts";
import type { Handlers, PageProps, RouteConfig, RouteContext } from "../ui/mod.ts";

export const config: RouteConfig = { auth: "public" };

interface Data {
  error?: string;
  email: string;
  next: string;
}

async function check(ctx: RouteContext<Data>, email: string, password: string) {
  const store = ctx.deps.store;
  const candidates = listAccounts(store).flatMap((a) => {
    const u = findUserByEmail(store, a.id, email);
    return u && !u.disabled ? [u] : [];
  });
  if (candidates.length === 0) {
    await verifyPassword(password, await dummyHash());
    return undefined;
  }
  for (const u of candidates) {
    const hash = getPasswordHash(store, u.accountId, u.id);
    if (hash && (await verifyPassword(password, hash))) {
      if (needsRehash(hash)) setPasswordHash(store, u.accountId, u.id, await hashPassword(password));
      return u;
    }
  }
  return undefined;
}

export const handler: Handlers<Data> = {
  GET(ctx) {
    if (!anyUserExists(ctx.deps.store)) return ctx.redirect("/setup");
    if (ctx.auth) return ctx.redirect("/");
    return ctx.render({ email: "", next: sameSitePath(ctx.url.searchParams.get("next")) }, {
      title: T.login.title,
    });
  },
  async POST(ctx) {
    const email = (ctx.form.get("email") ?? "").trim().toLowerCase().slice(0, 320);
    const password = ctx.form.get("password") ?? "";
    const next = sameSitePath(ctx.form.get("next"));
    const client = clientAddress(ctx.c, ctx.deps.config.ui.trustedProxies);
    const throttle = ctx.deps.throttle;
    // Reserved before the slow password check, so concurrent attempts count at once.
    const slot = throttle.reserve(email, client);
    if (!slot.ok) {
      const wait = slot.retryAfterMs;
      ctx.deps.log.warn("login throttled", { client });
      const minutes = Math.max(1, Math.ceil(wait / 60_000));
      return ctx.render({ email, next, error: fill(T.login.throttled, { minutes }) }, {
        title: T.login.title,
        status: 429,
        headers: { "Retry-After": String(Math.ceil(wait / 1000)) },
      });
    }
    const user = await check(ctx, email, password);
    if (!user) {
      ctx.deps.log.info("login failed", { client });
      return ctx.render({ email, next, error: T.login.failed }, { title: T.login.title, status: 401 });
    }
    throttle.succeed(slot.attempt);
    startSession(ctx, user.accountId, user.id);
    appendAudit(ctx.deps.store, user.accountId, {
      actorUserId: user.id,
      action: "session.login",
      subjectType: "user",
      subjectId: user.id,
    });
    return ctx.redirect(next);
  },
};

export default function LoginPage({ data, csrf }: PageProps<Data>): VNode {
  return (
    <>
      <h1>{T.login.title}</h1>
      {data.error && <p class="msg err" role="alert">{data.error}</p>}
      <form method="post" action="/login" class="stack card">
        <Csrf token={csrf} />
        <input type="hidden" name="next" value={data.next} />
        <Field
          name="email"
          type="email"
          label={T.login.email}
          value={data.email}
          required
          autocomplete="username"
        />
        <Field
          name="password"
          type="password"
          label={T.login.password}
          required
          autocomplete="current-password"
        />
        <div>
          <button type="submit">{T.login.submit}</button>
        </div>
      </form>
    </>
  );
}
