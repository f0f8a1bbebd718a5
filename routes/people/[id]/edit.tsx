/** @jsxImportSource preact */
/** @jsxRuntime automatic */
// Edit a person, and what the identity check on the phone compares with: the date of birth (sealed) and
// the PIN (stored as a salted hash; the form never shows it, an empty field leaves it as it is).
import type { VNode } from "preact";
import { getPerson, StoreConflictError, updatePerson } from "../../../store/mod.ts";
import { getBirthDate, identityData, PIN_PATTERN, setBirthDate, setPin } from "../../../store/mod.ts";
import { z } from "zod";
import { found } from "../../../ui/mod.ts";
import { parsePersonForm, type PersonFormValues, personFormValues } from "../../../ui/mod.ts";
import { PersonFields } from "../../../ui/mod.ts";
import { Check, Csrf, ErrorSummary, Field } from "../../../ui/mod.ts";
import { T } from "../../../ui/mod.ts";
import type { Handlers, PageProps } from "../../../ui/mod.ts";

interface Data {
  id: string;
  values: PersonFormValues;
  /** `YYYY-MM-DD` or "" (the identity check's date of birth). */
  birthDate: string;
  hasPin: boolean;
  errors: Record<string, string>;
}

const Identity = z.object({
  birthDate: z.union([z.literal(""), z.string().regex(/^\d{4}-\d{2}-\d{2}$/)]),
  pin: z.union([z.literal(""), z.string().regex(PIN_PATTERN)]),
  pinClear: z.boolean(),
});

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
    const birthDate = getBirthDate(ctx.deps.store, ctx.deps.keyring, account.id, p.id) ?? "";
    const hasPin = identityData(ctx.deps.store, account.id, p.id).pin;
    return ctx.render({ id: p.id, values, birthDate, hasPin, errors: {} }, { title: T.people.edit });
  },
  POST(ctx) {
    const { account } = ctx.need();
    const p = found(getPerson(ctx.deps.store, account.id, ctx.params.id));
    const values = personFormValues(ctx.form, { kind: p.kind, retentionDays: p.retentionDays });
    values.kind = p.kind;
    const parsed = parsePersonForm(values);
    const identity = Identity.safeParse({
      birthDate: String(ctx.form.get("birthDate") ?? "").trim(),
      pin: String(ctx.form.get("pin") ?? "").trim(),
      pinClear: ctx.form.get("pinClear") === "on",
    });
    const birthDate = String(ctx.form.get("birthDate") ?? "");
    const hasPin = identityData(ctx.deps.store, account.id, p.id).pin;
    if (!parsed.ok || !identity.success) {
      const errors = { ...(parsed.ok ? {} : parsed.errors) };
      if (!identity.success) {
        const bad = new Set(identity.error.issues.map((i) => String(i.path[0])));
        if (bad.has("birthDate")) errors.birthDate = T.people.errBirthDate;
        if (bad.has("pin")) errors.pin = T.people.errPin;
      }
      return ctx.render({ id: p.id, values, birthDate, hasPin, errors }, {
        title: T.people.edit,
        status: 422,
      });
    }
    const { kind: _kind, ...patch } = parsed.value;
    try {
      updatePerson(ctx.deps.store, account.id, p.id, { ...patch, notes: patch.notes ?? null });
    } catch (e) {
      if (e instanceof StoreConflictError) {
        return ctx.render({
          id: p.id,
          values,
          birthDate,
          hasPin,
          errors: { phoneE164: T.people.errDuplicate },
        }, {
          title: T.people.edit,
          status: 409,
        });
      }
      throw e;
    }
    const id = identity.data;
    try {
      setBirthDate(
        ctx.deps.store,
        ctx.deps.keyring,
        account.id,
        p.id,
        id.birthDate === "" ? null : id.birthDate,
      );
    } catch (e) {
      if (!(e instanceof TypeError)) throw e;
      return ctx.render(
        { id: p.id, values, birthDate, hasPin, errors: { birthDate: T.people.errBirthDate } },
        {
          title: T.people.edit,
          status: 422,
        },
      );
    }
    if (id.pin !== "" || id.pinClear) setPin(ctx.deps.store, account.id, p.id, id.pinClear ? null : id.pin);
    const changed = Object.keys(patch).filter((k) => k !== "notes" || patch.notes !== p.notes);
    ctx.audit("person.update", "person", p.id, {
      consentTranscript: patch.consentTranscript,
      consentRecording: patch.consentRecording,
      fields: changed.length,
      // Whether the check's values changed, never the values.
      pin: id.pin !== "" || id.pinClear,
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
        <Field
          name="birthDate"
          type="date"
          label={T.people.birthDate}
          hint={T.people.birthDateHint}
          value={data.birthDate}
          error={data.errors.birthDate}
        />
        <Field
          name="pin"
          type="password"
          label={T.people.pin}
          hint={data.hasPin ? T.people.pinSet : T.people.pinHint}
          autocomplete="new-password"
          error={data.errors.pin}
        />
        {data.hasPin && <Check name="pinClear" label={T.people.pinClear} />}
        <div class="actions">
          <button type="submit">{T.app.save}</button>
          <a href={`/people/${data.id}`}>{T.app.cancel}</a>
        </div>
      </form>
    </>
  );
}
