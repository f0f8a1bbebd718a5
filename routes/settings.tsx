/** @jsxImportSource preact */
/** @jsxRuntime automatic */
// Settings (administrators): retention and recording, retention run, engines and models (read-only with
// how to change them), key rotation (call tokens, transcripts), the egress policy (read-only), API tokens.
import type { VNode } from "preact";
import { allowedNetHosts } from "../infra/mod.ts";
import { envName } from "../infra/mod.ts";
import { rekeyTranscripts } from "../store/crypto/mod.ts";
import { type AccountSettings, getSettings, setSettings } from "../ui/mod.ts";
import { type ApiToken, deleteApiToken, listApiTokens } from "../store/mod.ts";
import { createApiToken } from "../ui/mod.ts";
import { Check, Csrf, ErrorSummary, Field, PostButton } from "../ui/mod.ts";
import { dateTime } from "../ui/mod.ts";
import { fill, T } from "../ui/mod.ts";
import type { Handlers, PageProps, RouteConfig, RouteContext } from "../ui/mod.ts";

export const config: RouteConfig = { auth: "admin" };

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
        setSettings(store, account.id, user.id, {
          defaultRetentionDays: days,
          recordingAllowed: f.get("recordingAllowed") === "on",
        });
        ctx.audit("settings.update", "account", account.id, { defaultRetentionDays: days });
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
        const { secret, token } = createApiToken(store, account.id, user.id, f.get("name") ?? "");
        ctx.audit("token.create", "token", token.id);
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
      </section>
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
      <section class="card" aria-labelledby="tokens-h">
        <h2 id="tokens-h">{T.settings.apiTokens}</h2>
        {d.tokens.length === 0 ? <p>{T.settings.apiTokensEmpty}</p> : (
          <table>
            <thead>
              <tr>
                <th scope="col">{T.settings.apiTokenName}</th>
                <th scope="col">{T.people.created}</th>
                <th scope="col">{T.settings.lastUsed}</th>
                <th scope="col">{T.people.actions}</th>
              </tr>
            </thead>
            <tbody>
              {d.tokens.map((t) => (
                <tr key={t.id}>
                  <td>{t.name}</td>
                  <td>{dateTime(t.createdAt)}</td>
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
        <form method="post" action="/settings" class="actions">
          <Csrf token={csrf} />
          <input type="hidden" name="op" value="token-create" />
          <label for="token-name">{T.settings.apiTokenName}</label>
          <input id="token-name" name="name" type="text" maxLength={100} required />
          <button type="submit" class="secondary">{T.settings.apiTokenCreate}</button>
        </form>
        <p class="hint">
          <a href="/api">{T.api.title}</a>
        </p>
      </section>
    </>
  );
}
