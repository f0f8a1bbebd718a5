/** @jsxImportSource preact */
/** @jsxRuntime automatic */
// Edit a person.
import type { VNode } from "preact";
import { getPerson, StoreConflictError, updatePerson } from "../../../store/mod.ts";
import { found } from "../../../ui/mod.ts";
import { parsePersonForm, type PersonFormValues, personFormValues } from "../../../ui/mod.ts";
import { PersonFields } from "../../../ui/mod.ts";
import { Csrf, ErrorSummary } from "../../../ui/mod.ts";
import { T } from "../../../ui/mod.ts";
import type { Handlers, PageProps } from "../../../ui/mod.ts";

interface Data {
  id: string;
  values: PersonFormValues;
  errors: Record<string, string>;
}

export const handler: Handlers<Data> = {
  GET(ctx) {
    const { account } = ctx.need();
    const p = found(getPerson(ctx.deps.store, account.id, ctx.params.id));
    ctx.audit("person.view", "person", p.id, { form: "edit" });
    const values: PersonFormValues = {
      kind: p.kind,
      displayName: p.displayName,
      phoneE164: p.phoneE164,
      consentRecording: p.consentRecording,
      consentTranscript: p.consentTranscript,
      retentionDays: String(p.retentionDays),
      notes: p.notes ?? "",
    };
    return ctx.render({ id: p.id, values, errors: {} }, { title: T.people.edit });
  },
  POST(ctx) {
    const { account } = ctx.need();
    const p = found(getPerson(ctx.deps.store, account.id, ctx.params.id));
    const values = personFormValues(ctx.form, { kind: p.kind, retentionDays: p.retentionDays });
    values.kind = p.kind;
    const parsed = parsePersonForm(values);
    if (!parsed.ok) {
      return ctx.render({ id: p.id, values, errors: parsed.errors }, { title: T.people.edit, status: 422 });
    }
    const { kind: _kind, ...patch } = parsed.value;
    try {
      updatePerson(ctx.deps.store, account.id, p.id, { ...patch, notes: patch.notes ?? null });
    } catch (e) {
      if (e instanceof StoreConflictError) {
        return ctx.render({ id: p.id, values, errors: { phoneE164: T.people.errDuplicate } }, {
          title: T.people.edit,
          status: 409,
        });
      }
      throw e;
    }
    const changed = Object.keys(patch).filter((k) => k !== "notes" || patch.notes !== p.notes);
    ctx.audit("person.update", "person", p.id, {
      consentTranscript: patch.consentTranscript,
      consentRecording: patch.consentRecording,
      fields: changed.length,
    });
    return ctx.redirect(`/people/${p.id}?ok=saved`);
  },
};

export default function EditPerson({ data, csrf }: PageProps<Data>): VNode {
  return (
    <>
      <h1>{T.people.edit}</h1>
      <ErrorSummary errors={data.errors} />
      <form method="post" action={`/people/${data.id}/edit`} class="stack card" novalidate>
        <Csrf token={csrf} />
        <PersonFields values={data.values} errors={data.errors} kindEditable={false} />
        <div class="actions">
          <button type="submit">{T.app.save}</button>
          <a href={`/people/${data.id}`}>{T.app.cancel}</a>
        </div>
      </form>
    </>
  );
}
