/** @jsxImportSource preact */
/** @jsxRuntime automatic */
// The "Praxis" page's parts: the edit form's fields (administrators) and the read view (staff).
import type { VNode } from "preact";
import { type Practice, WEEKDAYS } from "../store/mod.ts";
import { Field, Select } from "./components.tsx";
import { formatIntervals, type PracticeErrors, type PracticeFormValues } from "./practice_form.ts";
import { T } from "./texts_de.ts";

const P = T.practice;
const KINDS: [string, string][] = Object.entries(P.transferKinds);

function Area(
  p: { name: string; label: string; hint: string; value: string; error?: string; rows?: number },
): VNode {
  const id = `f-${p.name}`;
  return (
    <div class="field">
      <label for={id}>{p.label}</label>
      <p class="hint" id={`${id}-hint`}>{p.hint}</p>
      {p.error && <p class="err-text" id={`${id}-err`}>{p.error}</p>}
      <textarea
        id={id}
        name={p.name}
        rows={p.rows ?? 4}
        aria-invalid={p.error ? "true" : undefined}
        aria-describedby={p.error ? `${id}-hint ${id}-err` : `${id}-hint`}
      >
        {p.value}
      </textarea>
    </div>
  );
}

/** The fields of the practice form, with the user's values and a German error per field. */
export function PracticeFields(p: { values: PracticeFormValues; errors: PracticeErrors }): VNode {
  const { values: v, errors: e } = p;
  return (
    <>
      <fieldset>
        <legend>{P.general}</legend>
        <Field name="name" label={P.fields.name} value={v.name} error={e.name} required />
        <Field
          name="assistantName"
          label={P.fields.assistantName}
          value={v.assistantName}
          hint={P.assistantNameHint}
          error={e.assistantName}
          required
        />
        <Field name="address" label={P.fields.address} value={v.address} error={e.address} />
        <Field name="phone" label={P.fields.phone} type="tel" value={v.phone} error={e.phone} />
        <Field
          name="timeZone"
          label={P.fields.timeZone}
          value={v.timeZone}
          hint={P.timeZoneHint}
          error={e.timeZone}
          required
        />
      </fieldset>
      <fieldset>
        <legend>{P.hours}</legend>
        <p class="hint">{P.hoursHint}</p>
        {WEEKDAYS.map((d) => (
          <Field key={d} name={`hours_${d}`} label={P.days[d]} value={v.hours[d]} error={e[`hours_${d}`]} />
        ))}
      </fieldset>
      <Area
        name="closures"
        label={P.fields.closures}
        hint={P.closuresHint}
        value={v.closures}
        error={e.closures}
      />
      <Area name="team" label={P.fields.team} hint={P.teamHint} value={v.team} error={e.team} />
      <Area
        name="services"
        label={P.fields.services}
        hint={P.servicesHint}
        value={v.services}
        error={e.services}
      />
      <Area name="faq" label={P.fields.faq} hint={P.faqHint} value={v.faq} error={e.faq} rows={6} />
      <Area
        name="mustNot"
        label={P.fields.mustNot}
        hint={P.mustNotHint}
        value={v.mustNot}
        error={e.mustNot}
      />
      <fieldset>
        <legend>{P.transfer}</legend>
        <p class="hint">{P.transferHint}</p>
        <Select
          name="transferDuringKind"
          label={P.transferDuring}
          value={v.transferDuringKind}
          options={KINDS}
        />
        <Field
          name="transferDuringTarget"
          label={P.transferTarget}
          value={v.transferDuringTarget}
          error={e.transferDuringTarget}
        />
        <Select
          name="transferAfterKind"
          label={P.transferAfter}
          value={v.transferAfterKind}
          options={KINDS}
        />
        <Field
          name="transferAfterTarget"
          label={P.transferTarget}
          value={v.transferAfterTarget}
          error={e.transferAfterTarget}
        />
      </fieldset>
    </>
  );
}

function List(p: { items: string[] }): VNode {
  return p.items.length === 0 ? <p>{T.app.none}</p> : (
    <ul>
      {p.items.map((x, i) => <li key={i}>{x}</li>)}
    </ul>
  );
}

/** The practice as staff read it. */
export function PracticeView(p: { practice: Practice }): VNode {
  const x = p.practice;
  const target = (t: Practice["transfer"]["duringHours"]) =>
    t.kind === "none" ? P.transferKinds.none : `${P.transferKinds[t.kind]} ${t.target}`.trim();
  return (
    <div class="card">
      <dl>
        <dt>{P.fields.name}</dt>
        <dd>{x.name}</dd>
        <dt>{P.fields.assistantName}</dt>
        <dd>{x.assistantName}</dd>
        <dt>{P.fields.address}</dt>
        <dd>{x.address || T.app.none}</dd>
        <dt>{P.fields.phone}</dt>
        <dd>{x.phone || T.app.none}</dd>
        <dt>{P.fields.timeZone}</dt>
        <dd>{x.timeZone}</dd>
      </dl>
      <h2>{P.hours}</h2>
      <table>
        <tbody>
          {WEEKDAYS.map((d) => (
            <tr key={d}>
              <th scope="row">{P.days[d]}</th>
              <td>{formatIntervals(x.hours[d]) || P.closed}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <h2>{P.fields.closures}</h2>
      <List
        items={x.closures.map((c) => `${c.from}${c.to !== c.from ? ` bis ${c.to}` : ""} ${c.note}`.trim())}
      />
      <h2>{P.fields.team}</h2>
      <List items={x.team.map((m) => m.role ? `${m.name} (${m.role})` : m.name)} />
      <h2>{P.fields.services}</h2>
      <List items={x.services} />
      <h2>{P.fields.faq}</h2>
      {x.faq.length === 0 ? <p>{T.app.none}</p> : (
        <dl>
          {x.faq.map((f, i) => [<dt key={`q${i}`}>{f.question}</dt>, <dd key={`a${i}`}>{f.answer}</dd>])}
        </dl>
      )}
      <h2>{P.fields.mustNot}</h2>
      <List items={x.mustNot} />
      <h2>{P.transfer}</h2>
      <dl>
        <dt>{P.transferDuring}</dt>
        <dd>{target(x.transfer.duringHours)}</dd>
        <dt>{P.transferAfter}</dt>
        <dd>{target(x.transfer.afterHours)}</dd>
      </dl>
    </div>
  );
}
