/** @jsxImportSource preact */
/** @jsxRuntime automatic */
// The fields of the person form (create and edit share them).
import type { VNode } from "preact";
import { Check, Field, Select } from "./components.tsx";
import type { PersonFormValues } from "./person_form.ts";
import { T } from "./texts_de.ts";

/** Person form fields. */
export function PersonFields(
  p: { values: PersonFormValues; errors: Record<string, string>; kindEditable: boolean },
): VNode {
  const v = p.values;
  return (
    <>
      {p.kindEditable
        ? (
          <Select
            name="kind"
            label={T.people.kind}
            value={v.kind}
            error={p.errors.kind}
            options={[["senior", T.kinds.senior], ["patient", T.kinds.patient]]}
          />
        )
        : <input type="hidden" name="kind" value={v.kind} />}
      <Field
        name="displayName"
        label={T.people.name}
        value={v.displayName}
        error={p.errors.displayName}
        required
        maxLength={200}
        autocomplete="off"
      />
      <Field
        name="phoneE164"
        type="tel"
        label={T.people.phone}
        hint={T.people.phoneHint}
        value={v.phoneE164}
        error={p.errors.phoneE164}
        required
        inputMode="tel"
        autocomplete="off"
      />
      <Check name="consentRecording" label={T.people.consentRecording} checked={v.consentRecording} />
      <Check name="consentTranscript" label={T.people.consentTranscript} checked={v.consentTranscript} />
      <Field
        name="retentionDays"
        type="number"
        label={T.people.retention}
        hint={T.people.retentionHint}
        value={v.retentionDays}
        error={p.errors.retentionDays}
        min={1}
        max={365}
        required
        inputMode="numeric"
      />
      <div class="field">
        <label for="f-notes">{T.people.notes}</label>
        {p.errors.notes && <p class="err-text" id="f-notes-err">{p.errors.notes}</p>}
        <textarea id="f-notes" name="notes" rows={3} maxLength={4000}>{v.notes}</textarea>
      </div>
    </>
  );
}
