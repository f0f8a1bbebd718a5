/** @jsxImportSource preact */
/** @jsxRuntime automatic */
// What TOM remembers about a person: view, correct, delete single entries, add, forget everything.
import type { VNode } from "preact";
import type { Json, JsonObject } from "../store/mod.ts";
import { Csrf, PostButton } from "./components.tsx";
import { T } from "./texts_de.ts";

/** Known memory lists; other keys are shown read-only. */
export const MEMORY_LISTS = ["facts", "preferences", "important_people", "recent_topics", "health_notes"];

function asList(v: Json | undefined): string[] {
  return Array.isArray(v) ? v.map((x) => (typeof x === "string" ? x : JSON.stringify(x))) : [];
}

/** The memory section of the person page. */
export function MemoryView(
  p: { personId: string; memory: JsonObject | null; version: number; csrf: string },
): VNode {
  const action = `/people/${p.personId}/memory`;
  const m = p.memory ?? {};
  const lists = MEMORY_LISTS.map((k) => [k, asList(m[k])] as const).filter(([, l]) => l.length > 0);
  const others = Object.entries(m).filter(([k, v]) => !MEMORY_LISTS.includes(k) && !Array.isArray(v));
  const fields = { version: String(p.version) };
  return (
    <section class="card" aria-labelledby="memory-h">
      <h2 id="memory-h">{T.person.memory}</h2>
      {lists.length === 0 && others.length === 0 && <p>{T.person.memoryEmpty}</p>}
      {lists.map(([key, items]) => (
        <div key={key}>
          <h3>{T.memoryCategories[key] ?? key}</h3>
          <ul>
            {items.map((item, i) => (
              <li key={`${key}-${i}`}>
                <form method="post" action={action} class="actions">
                  <Csrf token={p.csrf} />
                  <input type="hidden" name="op" value="update" />
                  <input type="hidden" name="category" value={key} />
                  <input type="hidden" name="index" value={String(i)} />
                  <input type="hidden" name="version" value={String(p.version)} />
                  <label class="sr-only" for={`mem-${key}-${i}`}>{T.person.memoryText}</label>
                  <input id={`mem-${key}-${i}`} name="text" type="text" value={item} maxLength={500} />
                  <button type="submit" class="secondary">{T.person.memoryCorrect}</button>
                </form>
                <PostButton
                  action={action}
                  csrf={p.csrf}
                  label={T.person.memoryDelete}
                  variant="secondary"
                  fields={{ ...fields, op: "delete", category: key, index: String(i) }}
                />
              </li>
            ))}
          </ul>
        </div>
      ))}
      {others.length > 0 && (
        <dl class="facts">
          {others.map((
            [k, v],
          ) => [
            <dt key={`t${k}`}>{k}</dt>,
            <dd key={`d${k}`}>{typeof v === "string" ? v : JSON.stringify(v)}</dd>,
          ])}
        </dl>
      )}
      <form method="post" action={action} class="actions">
        <Csrf token={p.csrf} />
        <input type="hidden" name="op" value="add" />
        <input type="hidden" name="version" value={String(p.version)} />
        <label for="mem-cat">{T.person.memoryCategory}</label>
        <select id="mem-cat" name="category">
          {MEMORY_LISTS.map((k) => <option key={k} value={k}>{T.memoryCategories[k]}</option>)}
        </select>
        <label for="mem-new">{T.person.memoryText}</label>
        <input id="mem-new" name="text" type="text" maxLength={500} required />
        <button type="submit" class="secondary">{T.person.memoryAdd}</button>
      </form>
      {(lists.length > 0 || others.length > 0) && (
        <PostButton
          action={action}
          csrf={p.csrf}
          label={T.person.memoryDeleteAll}
          variant="danger"
          fields={{ ...fields, op: "clear" }}
        />
      )}
    </section>
  );
}
