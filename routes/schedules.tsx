/** @jsxImportSource preact */
/** @jsxRuntime automatic */
// Scheduled companion calls: person, weekdays, time window.
import type { VNode } from "preact";
import { listPeople } from "../store/mod.ts";
import { deleteSchedule, listSchedules, type Schedule, setScheduleEnabled } from "../store/mod.ts";
import { createSchedule, validateSchedule } from "../ui/mod.ts";
import { Csrf, ErrorSummary, PostButton, Select } from "../ui/mod.ts";
import { T } from "../ui/mod.ts";
import type { Handlers, PageProps, RouteContext } from "../ui/mod.ts";

interface Data {
  schedules: Schedule[];
  people: [string, string][];
  errors: Record<string, string>;
  values: { personId: string; weekdays: number; windowStart: string; windowEnd: string };
}

const EMPTY = { personId: "", weekdays: 31, windowStart: "10:00", windowEnd: "11:00" };

function page(ctx: RouteContext<Data>, errors: Record<string, string>, values = EMPTY, status = 200) {
  const { account } = ctx.need();
  const people = listPeople(ctx.deps.store, account.id, { limit: 1000 }).map((p) =>
    [p.id, p.displayName] as [string, string]
  );
  const schedules = listSchedules(ctx.deps.store, account.id);
  ctx.audit("person.list", "schedule", null, { count: schedules.length });
  return ctx.render({ schedules, people, errors, values }, { title: T.schedules.title, status });
}

export const handler: Handlers<Data> = {
  GET(ctx) {
    return page(ctx, {});
  },
  POST(ctx) {
    const { account } = ctx.need();
    const f = ctx.form;
    const op = f.get("op") ?? "create";
    if (op === "delete" || op === "toggle") {
      const id = f.get("id") ?? "";
      if (op === "delete" && deleteSchedule(ctx.deps.store, account.id, id)) {
        ctx.audit("schedule.delete", "schedule", id);
      }
      if (op === "toggle") setScheduleEnabled(ctx.deps.store, account.id, id, f.get("enabled") === "on");
      return ctx.redirect(`/schedules?ok=${op === "delete" ? "deleted" : "saved"}`);
    }
    const weekdays = f.getAll("day").map(Number).filter((d) => Number.isInteger(d) && d >= 0 && d < 7)
      .reduce((m, d) => m | (1 << d), 0);
    const values = {
      personId: f.get("personId") ?? "",
      weekdays,
      windowStart: f.get("windowStart") ?? "",
      windowEnd: f.get("windowEnd") ?? "",
    };
    const problems = validateSchedule(values);
    const errors: Record<string, string> = {};
    if (problems.personId) errors.personId = T.schedules.errPerson;
    if (problems.weekdays) errors.day0 = T.schedules.errWeekdays;
    if (problems.window) errors.windowStart = T.schedules.errWindow;
    if (Object.keys(errors).length > 0) return page(ctx, errors, values, 422);
    const s = createSchedule(ctx.deps.store, account.id, values);
    if (!s) return page(ctx, { personId: T.schedules.errPerson }, values, 422);
    ctx.audit("schedule.create", "person", s.personId, { schedule: s.id });
    return ctx.redirect("/schedules?ok=created");
  },
};

export default function SchedulesPage({ data, csrf }: PageProps<Data>): VNode {
  const v = data.values;
  return (
    <>
      <h1>{T.schedules.title}</h1>
      <p>{T.schedules.intro}</p>
      {data.schedules.length === 0 ? <p>{T.schedules.empty}</p> : (
        <table>
          <thead>
            <tr>
              <th scope="col">{T.schedules.person}</th>
              <th scope="col">{T.schedules.weekdays}</th>
              <th scope="col">{T.schedules.from}–{T.schedules.to}</th>
              <th scope="col">{T.schedules.enabled}</th>
              <th scope="col">{T.people.actions}</th>
            </tr>
          </thead>
          <tbody>
            {data.schedules.map((s) => (
              <tr key={s.id}>
                <td>
                  <a href={`/people/${s.personId}`}>{s.personName}</a>
                </td>
                <td>{T.schedules.days.filter((_, i) => (s.weekdays & (1 << i)) !== 0).join(", ")}</td>
                <td>{s.windowStart}–{s.windowEnd}</td>
                <td>{s.enabled ? T.app.yes : T.app.no}</td>
                <td class="actions">
                  <PostButton
                    action="/schedules"
                    csrf={csrf}
                    label={s.enabled ? T.schedules.pause : T.schedules.resume}
                    variant="secondary"
                    fields={{ op: "toggle", id: s.id, ...(s.enabled ? {} : { enabled: "on" }) }}
                  />
                  <PostButton
                    action="/schedules"
                    csrf={csrf}
                    label={T.app.delete}
                    variant="danger"
                    fields={{ op: "delete", id: s.id }}
                  />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <h2>{T.schedules.new}</h2>
      <ErrorSummary errors={data.errors} />
      <form method="post" action="/schedules" class="stack card" novalidate>
        <Csrf token={csrf} />
        <Select
          name="personId"
          label={T.schedules.person}
          value={v.personId}
          error={data.errors.personId}
          options={[["", "–"], ...data.people]}
        />
        <fieldset aria-describedby={data.errors.day0 ? "days-err" : undefined}>
          <legend>{T.schedules.weekdays}</legend>
          {data.errors.day0 && <p class="err-text" id="days-err">{data.errors.day0}</p>}
          <div class="days">
            {T.schedules.daysLong.map((d, i) => (
              <span class="check" key={d}>
                <input
                  type="checkbox"
                  id={i === 0 ? "f-day0" : `f-day${i}`}
                  name="day"
                  value={String(i)}
                  checked={(v.weekdays & (1 << i)) !== 0}
                />
                <label for={`f-day${i}`}>{d}</label>
              </span>
            ))}
          </div>
        </fieldset>
        <div class="field">
          <label for="f-windowStart">{T.schedules.from}</label>
          {data.errors.windowStart && <p class="err-text" id="f-windowStart-err">{data.errors.windowStart}
          </p>}
          <input
            id="f-windowStart"
            name="windowStart"
            type="time"
            value={v.windowStart}
            required
            aria-invalid={data.errors.windowStart ? "true" : undefined}
          />
        </div>
        <div class="field">
          <label for="f-windowEnd">{T.schedules.to}</label>
          <input id="f-windowEnd" name="windowEnd" type="time" value={v.windowEnd} required />
        </div>
        <div>
          <button type="submit">{T.app.save}</button>
        </div>
      </form>
    </>
  );
}
