/** @jsxImportSource preact */
/** @jsxRuntime automatic */
// Create a person (senior or patient) with E.164 validation, consent and retention.
import type { VNode } from "preact";
import { createPerson, StoreConflictError } from "../../store/mod.ts";
import { getSettings } from "../../ui/mod.ts";
import { parsePersonForm, type PersonFormValues, personFormValues } from "../../ui/mod.ts";
import { PersonFields } from "../../ui/mod.ts";
import { Csrf, ErrorSummary } from "../../ui/mod.ts";
import { T } from "../../ui/mod.ts";
import type { Handlers, PageProps, RouteContext } from "../../ui/mod.ts";

interface Data {
  values: PersonFormValues;
  errors: Record<string, string>;
}

function defaults(ctx: RouteContext<Data>) {
  const { account } = ctx.need();
  return {
    kind: account.kind === "clinical" ? "patient" : "senior",
    retentionDays: getSettings(ctx.deps.store, ctx.deps.config, account.id).defaultRetentionDays,
  };
}

export const handler: Handlers<Data> = {
  GET(ctx) {
    return ctx.render({ values: personFormValues(new URLSearchParams(), defaults(ctx)), errors: {} }, {
      title: T.people.new,
    });
  },
  POST(ctx) {
    const { account } = ctx.need();
    const values = personFormValues(ctx.form, defaults(ctx));
    const parsed = parsePersonForm(values);
    if (!parsed.ok) {
      return ctx.render({ values, errors: parsed.errors }, { title: T.people.new, status: 422 });
    }
    try {
      const person = createPerson(ctx.deps.store, account.id, parsed.value);
      ctx.audit("person.create", "person", person.id);
      return ctx.redirect(`/people/${person.id}?ok=created`);
    } catch (e) {
      if (e instanceof StoreConflictError) {
        return ctx.render({ values, errors: { phoneE164: T.people.errDuplicate } }, {
          title: T.people.new,
          status: 409,
        });
      }
      throw e;
    }
  },
};

export default function NewPerson({ data, csrf }: PageProps<Data>): VNode {
  return (
    <>
      <h1>{T.people.new}</h1>
      <ErrorSummary errors={data.errors} />
      <form method="post" action="/people/new" class="stack card" novalidate>
        <Csrf token={csrf} />
        <PersonFields values={data.values} errors={data.errors} kindEditable />
        <div class="actions">
          <button type="submit">{T.app.save}</button>
          <a href="/people">{T.app.cancel}</a>
        </div>
      </form>
    </>
  );
}
