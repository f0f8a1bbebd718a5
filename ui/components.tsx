/** @jsxImportSource preact */
/** @jsxRuntime automatic */
// Shared server-rendered components: form fields with labels, hints and errors wired by id.
import type { ComponentChildren, VNode } from "preact";
import { T } from "./texts_de.ts";

/** The hidden CSRF field every form carries. */
export function Csrf(p: { token: string }): VNode {
  return <input type="hidden" name="_csrf" value={p.token} />;
}

/** A list of errors at the top of a form, focusable and announced. */
export function ErrorSummary(p: { errors: Record<string, string> }): VNode | null {
  const list = Object.entries(p.errors);
  if (list.length === 0) return null;
  return (
    <div class="msg err" role="alert" tabindex={-1} id="fehler">
      <p>
        <strong>{T.app.errorsTitle}</strong>
      </p>
      <ul>
        {list.map(([field, msg]) => (
          <li key={field}>
            <a href={`#f-${field}`}>{msg}</a>
          </li>
        ))}
      </ul>
    </div>
  );
}

/** Props of {@linkcode Field}. */
export interface FieldProps {
  name: string;
  label: string;
  type?: "text" | "email" | "password" | "tel" | "number" | "time" | "search" | "date";
  value?: string | number;
  hint?: string;
  error?: string;
  required?: boolean;
  autocomplete?: string;
  min?: number;
  max?: number;
  maxLength?: number;
  pattern?: string;
  inputMode?: "tel" | "numeric" | "email" | "text" | "search";
}

/** A labelled input with hint and error. */
export function Field(p: FieldProps): VNode {
  const id = `f-${p.name}`;
  const described = [p.hint ? `${id}-hint` : "", p.error ? `${id}-err` : ""].filter(Boolean).join(" ");
  return (
    <div class="field">
      <label for={id}>{p.label}</label>
      {p.hint && <p class="hint" id={`${id}-hint`}>{p.hint}</p>}
      {p.error && <p class="err-text" id={`${id}-err`}>{p.error}</p>}
      <input
        id={id}
        name={p.name}
        type={(p.type ?? "text") as "text"}
        value={p.value === undefined ? undefined : String(p.value)}
        required={p.required}
        autocomplete={p.autocomplete}
        min={p.min}
        max={p.max}
        maxLength={p.maxLength}
        pattern={p.pattern}
        inputMode={p.inputMode}
        aria-invalid={p.error ? "true" : undefined}
        aria-describedby={described || undefined}
      />
    </div>
  );
}

/** A labelled select. */
export function Select(
  p: {
    name: string;
    label: string;
    value?: string;
    options: [string, string][];
    error?: string;
    required?: boolean;
  },
): VNode {
  const id = `f-${p.name}`;
  return (
    <div class="field">
      <label for={id}>{p.label}</label>
      {p.error && <p class="err-text" id={`${id}-err`}>{p.error}</p>}
      <select
        id={id}
        name={p.name}
        required={p.required}
        aria-invalid={p.error ? "true" : undefined}
        aria-describedby={p.error ? `${id}-err` : undefined}
      >
        {p.options.map(([v, l]) => <option key={v} value={v} selected={v === p.value}>{l}</option>)}
      </select>
    </div>
  );
}

/** A labelled checkbox. */
export function Check(
  p: { name: string; label: string; checked?: boolean; hint?: string; disabled?: boolean },
): VNode {
  const id = `f-${p.name}`;
  return (
    <div class="check">
      <input
        type="checkbox"
        id={id}
        name={p.name}
        value="on"
        checked={p.checked}
        disabled={p.disabled}
        aria-describedby={p.hint ? `${id}-hint` : undefined}
      />
      <div>
        <label for={id}>{p.label}</label>
        {p.hint && <p class="hint" id={`${id}-hint`}>{p.hint}</p>}
      </div>
    </div>
  );
}

/** A POST button form (delete, run, rotate). */
export function PostButton(
  p: {
    action: string;
    csrf: string;
    label: string;
    variant?: "danger" | "secondary";
    fields?: Record<string, string>;
    children?: ComponentChildren;
  },
): VNode {
  return (
    <form method="post" action={p.action}>
      <Csrf token={p.csrf} />
      {Object.entries(p.fields ?? {}).map(([k, v]) => <input key={k} type="hidden" name={k} value={v} />)}
      <button type="submit" class={p.variant}>{p.label}</button>
      {p.children}
    </form>
  );
}

/** Key figures. */
export function Stats(p: { items: { label: string; value: string; id?: string }[] }): VNode {
  return (
    <ul class="stats">
      {p.items.map((s) => (
        <li key={s.label} data-testid={s.id}>
          <span class="v">{s.value}</span>
          <span class="l">{s.label}</span>
        </li>
      ))}
    </ul>
  );
}

/**
 * A small interval bar on the scale `min`..`max` (server-rendered SVG, no script, no inline style):
 * the interval as a band, the point as a tick, zero as a dashed line when it lies on the scale.
 */
export function IntervalBar(
  p: { low: number; high: number; point?: number | null; min?: number; max?: number; label: string },
): VNode {
  const min = p.min ?? -1;
  const max = p.max ?? 1;
  const w = 120;
  const h = 14;
  const x = (v: number) => Math.round(((Math.min(max, Math.max(min, v)) - min) / (max - min)) * w * 10) / 10;
  const lo = x(Math.min(p.low, p.high));
  const hi = x(Math.max(p.low, p.high));
  return (
    <svg class="ibar" width={w} height={h} viewBox={`0 0 ${w} ${h}`} role="img" aria-label={p.label}>
      <title>{p.label}</title>
      <rect x={0} y={h / 2 - 1} width={w} height={2} fill="#cfd6de" />
      {min < 0 && max > 0 && (
        <line x1={x(0)} x2={x(0)} y1={0} y2={h} stroke="#4a5360" stroke-width={1} stroke-dasharray="2 2" />
      )}
      <rect x={lo} y={2} width={Math.max(hi - lo, 1)} height={h - 4} fill="#0b5cad" fill-opacity={0.35} />
      {p.point !== undefined && p.point !== null && (
        <rect x={Math.max(x(p.point) - 1, 0)} y={0} width={2} height={h} fill="#0b5cad" />
      )}
    </svg>
  );
}
