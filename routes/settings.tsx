/** @jsxImportSource preact */
/** @jsxRuntime automatic */
// Settings (administrators): retention and recording, retention run, engines and models (read-only with
// how to change them), key rotation (call tokens, transcripts), the egress policy (read-only), API tokens
// (with scope and expiry). Engines, keys and egress are box-wide: shown to and changed by the appliance
// administrator only (the router refuses the rotate ops to account administrators).
import type { VNode } from "preact";
import { allowedNetHosts } from "../infra/mod.ts";
import { envName } from "../infra/mod.ts";
import { rekeyTranscripts } from "../store/crypto/mod.ts";
import { type AccountSettings, getSettings, setSettings } from "../ui/mod.ts";
import { z } from "zod";
import { API_TOKEN_SCOPES, type ApiToken, deleteApiToken, listApiTokens } from "../store/mod.ts";
import { type CallerCheck, CHECK_METHODS, getCallerCheck, setCallerCheck } from "../store/mod.ts";
import { createApiToken, isApplianceAdmin, Select, TOKEN_DAYS_DEFAULT, TOKEN_DAYS_MAX } from "../ui/mod.ts";
import { Check, Csrf, ErrorSummary, Field, PostButton } from "../ui/mod.ts";
import { dateTime } from "../ui/mod.ts";
import { fill, T } from "../ui/mod.ts";
import type { Handlers, PageProps, RouteConfig, RouteContext } from "../ui/mod.ts";

export const config: RouteConfig = {
  auth: "admin",
  appliance: { ops: ["rotate-jwt", "rotate-transcripts"] },
};

const CheckMethod = z.enum(CHECK_METHODS as ["none", "birth_date", "pin"]);

const NewToken = z.object({
  name: z.string().max(100),
  scope: z.enum(API_TOKEN_SCOPES as ["read", "requests", "full"]),
  days: z.coerce.number().int().min(1).max(TOKEN_DAYS_MAX),
});

interface EngineRow {
  name: string;
  kind: string;
  model: string;
  address: string;
  env: string;
}

interface Data {
  settings: AccountSettings;
  recordingSwitch: boolean;
  lastRetention: string | null;
  engines: EngineRow[];
  jwtConfigured: boolean;
  transcriptKeyId: string;
  egress: string[];
  egressAll: boolean;
  tokens: ApiToken[];
  /** The check asked of callers whose number matches a person (identity levels, README). */
  callerCheck: CallerCheck;
  /** The appliance administrator sees the box-wide sections (engines, keys, egress). */
  appliance: boolean;
  newToken?: string;
  errors: Record<string, string>;
}

function data(ctx: RouteContext<Data>, extra: Partial<Data> = {}): Data {
  const { account } = ctx.need();
  const c = ctx.deps.config;
  const last = ctx.deps.retention.lastRun;
  return {
    settings: getSettings(ctx.deps.store, c, account.id),
    recordingSwitch: c.recording.enabled,
    lastRetention: last
      ? `${
        dateTime(last.at)
      }: ${last.summary.transcriptTurns} / ${last.summary.analyses} / ${last.summary.recordings}`
      : null,
    engines: [
      { name: "STT", kind: c.stt.kind, model: c.stt.model, address: c.stt.url, env: envName("stt.model") },
      {
        name: "LLM",
        kind: c.llm.kind,
        model: c.llm.kind === "llama-server" ? c.llm.model : c.llm.modelName,
        address: c.llm.url,
        env: envName(c.llm.kind === "llama-server" ? "llm.model" : "llm.modelName"),
      },
      {
        name: "TTS",
        kind: c.tts.kind,
        model: c.tts.kind === "piper" ? c.tts.model : c.tts.voice,
        address: c.tts.bin,
        env: envName(c.tts.kind === "piper" ? "tts.model" : "tts.voice"),
      },
      { name: "VAD", kind: "silero", model: c.vad.model, address: "–", env: envName("vad.model") },
    ],
    jwtConfigured: c.jwt.secret !== "",
    transcriptKeyId: ctx.deps.keyring.currentKeyId,
    egress: allowedNetHosts(c),
    egressAll: c.egress.allowAll,
    tokens: listApiTokens(ctx.deps.store, account.id),
    callerCheck: getCallerCheck(ctx.deps.store, account.id),
    appliance: isApplianceAdmin(ctx.auth),
    errors: {},
    ...extra,
  };
}

export const handler: Handlers<Data> = {
  GET(ctx) {
    return ctx.render(data(ctx), { title: T.settings.title });
  },
  async POST(ctx) {
    const { account, user } = ctx.need();
    const f = ctx.form;
    const store = ctx.deps.store;
    switch (f.get("op")) {
      case "privacy": {
        const days = Number(f.get("defaultRetentionDays"));
        if (!Number.isInteger(days) || days < 1 || days > 365) {
          return ctx.render(data(ctx, { errors: { defaultRetentionDays: T.people.errRetention } }), {
            title: T.settings.title,
            status: 422,
          });
        }
        const check = CheckMethod.safeParse(f.get("callerCheck") ?? "none");
        if (!check.success) {
          return ctx.render(data(ctx, { errors: { callerCheck: T.settings.callerCheckInvalid } }), {
            title: T.settings.title,
            status: 422,
          });
        }
        setSettings(store, account.id, user.id, {
          defaultRetentionDays: days,
          recordingAllowed: f.get("recordingAllowed") === "on",
        });
        setCallerCheck(store, account.id, { ...getCallerCheck(store, account.id), method: check.data });
        ctx.audit("settings.update", "account", account.id, {
          defaultRetentionDays: days,
          callerCheck: check.data,
        });
        return ctx.redirect("/settings?ok=saved");
      }
      case "retention":
        ctx.deps.retention.run({ accountId: account.id, actorUserId: user.id });
        return ctx.redirect("/settings?ok=retentionRun");
      case "rotate-jwt":
        if (ctx.deps.rotateJwtKey()) ctx.audit("key.rotate", "account", account.id, { key: "jwt" });
        return ctx.redirect("/settings?ok=rotated");
      case "rotate-transcripts": {
        const keyId = await ctx.deps.keyring.rotate();
        const r = await rekeyTranscripts(store, ctx.deps.keyring);
        ctx.audit("key.rotate", "account", account.id, {
          key: "transcripts",
          keyId,
          rewritten: r.rewritten,
          requests: r.requests,
        });
        return ctx.redirect("/settings?ok=rotated");
      }
      case "token-create": {
        const input = NewToken.safeParse({
          name: f.get("name") ?? "",
          scope: f.get("scope"),
          days: f.get("days") || TOKEN_DAYS_DEFAULT,
        });
        if (!input.success) {
          const bad: Record<string, string> = input.error.issues[0]?.path[0] === "scope"
            ? { scope: T.settings.errTokenScope }
            : { days: fill(T.settings.errTokenDays, { max: TOKEN_DAYS_MAX }) };
          return ctx.render(data(ctx, { errors: bad }), { title: T.settings.title, status: 422 });
        }
        const { secret, token } = createApiToken(store, account.id, user.id, input.data.name, {
          scope: input.data.scope,
          days: input.data.days,
        });
        ctx.audit("token.create", "token", token.id, { scope: token.scope, days: input.data.days });
        return ctx.render(data(ctx, { newToken: secret }), { title: T.settings.title });
      }
      case "token-delete": {
        const id = f.get("id") ?? "";
        if (deleteApiToken(store, account.id, id)) ctx.audit("token.delete", "token", id);
        return ctx.redirect("/settings?ok=deleted");
      }
      default:
        return ctx.redirect("/settings");
    }
  },
};

export default function SettingsPage({ data: d, csrf }: PageProps<Data>): VNode {
  return (
    <>
      <h1>{T.settings.title}</h1>
      {d.newToken && (
        <div class="msg ok" role="status">
          <p>{T.flash.tokenCreated}</p>
          <p>
            <code data-testid="new-token">{d.newToken}</code>
          </p>
        </div>
      )}
      <section class="card" aria-labelledby="privacy-h">
        <h2 id="privacy-h">{T.settings.privacy}</h2>
        <ErrorSummary errors={d.errors} />
        <form method="post" action="/settings" class="stack">
          <Csrf token={csrf} />
          <input type="hidden" name="op" value="privacy" />
          <Field
            name="defaultRetentionDays"
            type="number"
            label={T.settings.retentionDefault}
            value={d.settings.defaultRetentionDays}
            min={1}
            max={365}
            error={d.errors.defaultRetentionDays}
            required
          />
          <Check
            name="recordingAllowed"
            label={T.settings.recordingAllowed}
            checked={d.settings.recordingAllowed}
            hint={d.recordingSwitch ? undefined : T.settings.recordingOff}
          />
          <Select
            name="callerCheck"
            label={T.settings.callerCheck}
            value={d.callerCheck.method}
            options={CHECK_METHODS.map((m) => [m, T.settings.callerChecks[m]])}
            error={d.errors.callerCheck}
          />
          <div>
            <button type="submit">{T.app.save}</button>
          </div>
        </form>
        <PostButton
          action="/settings"
          csrf={csrf}
          label={T.settings.retentionRun}
          variant="secondary"
          fields={{ op: "retention" }}
        />
        <p class="hint">{T.settings.retentionHint} {d.lastRetention && `(${d.lastRetention})`}</p>
        <h3>{T.settings.identityTitle}</h3>
        <p>{T.settings.identityIntro}</p>
        <ul data-testid="identity-levels">
          {T.settings.identityLevels.map((l) => <li key={l}>{l}</li>)}
        </ul>
      </section>
      {d.appliance && (
        <>
          <section class="card" aria-labelledby="engines-h">
            <h2 id="engines-h">{T.settings.engines}</h2>
            <table>
              <thead>
                <tr>
                  <th scope="col">{T.settings.engine}</th>
                  <th scope="col">{T.settings.kind}</th>
                  <th scope="col">{T.settings.model}</th>
                  <th scope="col">{T.settings.address}</th>
                </tr>
              </thead>
              <tbody>
                {d.engines.map((e) => (
                  <tr key={e.name}>
                    <td>{e.name}</td>
                    <td>{e.kind}</td>
                    <td>
                      <code>{e.model || "–"}</code>
                      <p class="hint">{fill(T.settings.changeHow, { env: e.env })}</p>
                    </td>
                    <td>
                      <code>{e.address}</code>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </section>
          <section class="card" aria-labelledby="keys-h">
            <h2 id="keys-h">{T.settings.keys}</h2>
            {d.jwtConfigured ? <p>{T.settings.jwtConfigured}</p> : (
              <>
                <PostButton
                  action="/settings"
                  csrf={csrf}
                  label={T.settings.jwtRotate}
                  variant="secondary"
                  fields={{ op: "rotate-jwt" }}
                />
                <p class="hint">{T.settings.jwtHint}</p>
              </>
            )}
            <p>
              {T.settings.transcriptKey}: <code>{d.transcriptKeyId}</code>
            </p>
            <PostButton
              action="/settings"
              csrf={csrf}
              label={T.settings.transcriptRotate}
              variant="secondary"
              fields={{ op: "rotate-transcripts" }}
            />
            <p class="hint">{T.settings.transcriptHint}</p>
          </section>
          <section class="card" aria-labelledby="egress-h">
            <h2 id="egress-h">{T.settings.egress}</h2>
            <p>{T.settings.egressIntro}</p>
            {d.egressAll ? <p class="msg warn">{T.settings.egressAll}</p> : (
              <ul>
                {d.egress.map((h) => (
                  <li key={h}>
                    <code>{h}</code>
                  </li>
                ))}
              </ul>
            )}
            <p class="hint">{T.settings.egressHow}</p>
          </section>
        </>
      )}
      <section class="card" aria-labelledby="tokens-h">
        <h2 id="tokens-h">{T.settings.apiTokens}</h2>
        {d.tokens.length === 0 ? <p>{T.settings.apiTokensEmpty}</p> : (
          <table>
            <thead>
              <tr>
                <th scope="col">{T.settings.apiTokenName}</th>
                <th scope="col">{T.settings.apiTokenScope}</th>
                <th scope="col">{T.people.created}</th>
                <th scope="col">{T.settings.apiTokenExpires}</th>
                <th scope="col">{T.settings.lastUsed}</th>
                <th scope="col">{T.people.actions}</th>
              </tr>
            </thead>
            <tbody>
              {d.tokens.map((t) => (
                <tr key={t.id}>
                  <td>{t.name}</td>
                  <td>{T.settings.apiTokenScopes[t.scope]}</td>
                  <td>{dateTime(t.createdAt)}</td>
                  <td>{t.expiresAt === null ? T.settings.apiTokenNever : dateTime(t.expiresAt)}</td>
                  <td>{dateTime(t.lastUsedAt)}</td>
                  <td>
                    <PostButton
                      action="/settings"
                      csrf={csrf}
                      label={T.app.delete}
                      variant="danger"
                      fields={{ op: "token-delete", id: t.id }}
                    />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        <form method="post" action="/settings" class="stack">
          <Csrf token={csrf} />
          <input type="hidden" name="op" value="token-create" />
          <Field name="name" label={T.settings.apiTokenName} maxLength={100} required />
          <Select
            name="scope"
            label={T.settings.apiTokenScope}
            value="read"
            options={API_TOKEN_SCOPES.map((s) => [s, T.settings.apiTokenScopes[s]])}
            error={d.errors.scope}
            required
          />
          <Field
            name="days"
            type="number"
            label={T.settings.apiTokenDays}
            value={TOKEN_DAYS_DEFAULT}
            min={1}
            max={TOKEN_DAYS_MAX}
            error={d.errors.days}
            required
          />
          <div>
            <button type="submit" class="secondary">{T.settings.apiTokenCreate}</button>
          </div>
        </form>
        <p class="hint">
          <a href="/api">{T.api.title}</a>
        </p>
      </section>
    </>
  );
}
