/** @jsxImportSource preact */
/** @jsxRuntime automatic */
// "Praxis": what TOM knows about the practice. Staff read it, administrators edit it (works without
// JavaScript: hours as text per weekday, lists as one entry per line, parsed and validated server-side).
import type { VNode } from "preact";
import { defaultPractice, getPractice, type Practice, practiceUpdated, putPractice } from "../store/mod.ts";
import { parsePracticeForm, practiceChanges, practiceFormValues, practiceToForm } from "../ui/mod.ts";
import type { PracticeErrors, PracticeFormValues } from "../ui/mod.ts";
import { PracticeFields, PracticeView } from "../ui/mod.ts";
import { Csrf, ErrorSummary } from "../ui/mod.ts";
import { dateTime, fill, T } from "../ui/mod.ts";
import type { Handlers, PageProps, RouteContext } from "../ui/mod.ts";
import { HttpError } from "../ui/mod.ts";

interface Data {
  practice: Practice;
  values: PracticeFormValues;
  errors: PracticeErrors;
  updatedAt: number | null;
}

function load(ctx: RouteContext<Data>): { practice: Practice; updatedAt: number | null } {
  const { account } = ctx.need();
  return {
    practice: getPractice(ctx.deps.store, account.id) ?? defaultPractice(account.name),
    updatedAt: practiceUpdated(ctx.deps.store, account.id)?.updatedAt ?? null,
  };
}

export const handler: Handlers<Data> = {
  GET(ctx) {
    const d = load(ctx);
    return ctx.render({ ...d, values: practiceToForm(d.practice), errors: {} }, { title: T.practice.title });
  },
  POST(ctx) {
    const { account, user } = ctx.need();
    if (user.role !== "admin") throw new HttpError(403, T.app.forbidden);
    const values = practiceFormValues(ctx.form);
    const parsed = parsePracticeForm(values);
    const d = load(ctx);
    if (!parsed.ok) {
      return ctx.render({ ...d, values, errors: parsed.errors }, { title: T.practice.title, status: 422 });
    }
    putPractice(ctx.deps.store, account.id, parsed.value, user.id);
    ctx.audit("practice.update", "account", account.id, {
      changed: practiceChanges(d.practice, parsed.value),
    });
    return ctx.redirect("/practice?ok=saved");
  },
};

export default function PracticePage({ data: d, csrf, auth }: PageProps<Data>): VNode {
  const admin = auth?.user.role === "admin";
  return (
    <>
      <h1>{T.practice.title}</h1>
      <p>{T.practice.intro}</p>
      {d.updatedAt !== null && <p class="hint">{fill(T.practice.updated, { at: dateTime(d.updatedAt) })}</p>}
      {!admin
        ? (
          <>
            <p class="hint">{T.practice.readOnly}</p>
            <PracticeView practice={d.practice} />
          </>
        )
        : (
          <>
            <ErrorSummary errors={d.errors} />
            <form method="post" action="/practice" class="stack card" id="f-form" novalidate>
              <Csrf token={csrf} />
              <PracticeFields values={d.values} errors={d.errors} />
              <div class="actions">
                <button type="submit">{T.app.save}</button>
              </div>
            </form>
          </>
        )}
    </>
  );
}
