/** @jsxImportSource preact */
/** @jsxRuntime automatic */
// Erasure of a person (GDPR Art. 17), administrators only, confirmed by typing the name; audited.
import type { VNode } from "preact";
import { getPerson } from "../../../store/mod.ts";
import { erasePersonCompletely } from "../../../ui/mod.ts";
import { found } from "../../../ui/mod.ts";
import { Csrf, Field } from "../../../ui/mod.ts";
import { T } from "../../../ui/mod.ts";
import type { Handlers, PageProps, RouteConfig } from "../../../ui/mod.ts";

export const config: RouteConfig = { auth: "admin" };

interface Data {
  id: string;
  name: string;
  error?: string;
}

export const handler: Handlers<Data> = {
  GET(ctx) {
    const { account } = ctx.need();
    const p = found(getPerson(ctx.deps.store, account.id, ctx.params.id));
    return ctx.render({ id: p.id, name: p.displayName }, { title: T.person.eraseTitle });
  },
  POST(ctx) {
    const { account } = ctx.need();
    const p = found(getPerson(ctx.deps.store, account.id, ctx.params.id));
    const typed = (ctx.form.get("confirm") ?? "").trim().toLowerCase();
    if (typed !== p.displayName.trim().toLowerCase()) {
      return ctx.render({ id: p.id, name: p.displayName, error: T.person.eraseMismatch }, {
        title: T.person.eraseTitle,
        status: 422,
      });
    }
    const result = found(erasePersonCompletely(ctx.deps.store, ctx.deps.config.dataDir, account.id, p.id));
    ctx.audit("person.erase", "person", p.id, {
      anonymisedCalls: result.anonymisedCalls,
      recordings: result.recordings,
    });
    return ctx.redirect("/people?ok=erased");
  },
};

export default function ErasePage({ data, csrf }: PageProps<Data>): VNode {
  return (
    <>
      <h1>{T.person.eraseTitle}: {data.name}</h1>
      <p class="msg warn">{T.person.eraseWarn}</p>
      {data.error && <p class="msg err" role="alert">{data.error}</p>}
      <form method="post" action={`/people/${data.id}/erase`} class="stack card">
        <Csrf token={csrf} />
        <Field name="confirm" label={T.person.eraseConfirm} required autocomplete="off" error={data.error} />
        <div class="actions">
          <button type="submit" class="danger">{T.person.eraseSubmit}</button>
          <a href={`/people/${data.id}`}>{T.app.cancel}</a>
        </div>
      </form>
    </>
  );
}
