/** @jsxImportSource preact */
/** @jsxRuntime automatic */
// One request: what the caller asked for, the call it came from, who works on it, its status and the
// team's notes. Assign, mark in progress or done, and notes are plain POST forms with CSRF (no JavaScript
// needed). Staff and administrators alike; every view and change is audited.
import type { VNode } from "preact";
import {
  type CallRow,
  getCallRow,
  getRequest,
  listUsers,
  type RequestRecord,
  type User,
} from "../../store/mod.ts";
import { Csrf, found, HttpError, patchRequest, PostButton, publishRequestCount } from "../../ui/mod.ts";
import { dateTime, duration, T } from "../../ui/mod.ts";
import type { Handlers, PageProps, RouteContext } from "../../ui/mod.ts";

interface Data {
  request: RequestRecord;
  call: CallRow | undefined;
  users: User[];
  errors: string[];
}

async function load(ctx: RouteContext<Data>, errors: string[] = []): Promise<Data> {
  const { account } = ctx.need();
  const store = ctx.deps.store;
  const request = found(await getRequest(store, ctx.deps.keyring, account.id, ctx.params.id));
  const call = request.callId === null ? undefined : getCallRow(store, account.id, request.callId);
  return { request, call, users: listUsers(store, account.id, { limit: 1000 }), errors };
}

// A form post becomes the same change the API's PATCH takes.
function patchOf(f: URLSearchParams): Record<string, unknown> {
  switch (f.get("action")) {
    case "assign": {
      const id = f.get("assigneeUserId") ?? "";
      return { assigneeUserId: id === "" ? null : id };
    }
    case "status":
      return { status: f.get("status") ?? "" };
    case "notes":
      return { notes: (f.get("notes") ?? "").replace(/\r\n/g, "\n") };
    default:
      return {};
  }
}

export const handler: Handlers<Data> = {
  async GET(ctx) {
    const d = await load(ctx);
    ctx.audit("request.view", "request", d.request.id);
    return ctx.render(d, { title: `${T.requests.title}: ${T.requests.kinds[d.request.kind]}` });
  },
  async POST(ctx) {
    const { account } = ctx.need();
    try {
      const r = found(
        await patchRequest(ctx.deps.store, ctx.deps.keyring, account.id, ctx.params.id, patchOf(ctx.form)),
      );
      ctx.audit("request.update", "request", r.request.id, {
        changed: r.changed.join(","),
        status: r.request.status,
      });
      // The open count in every page's navigation follows a change of status live.
      if (r.changed.includes("status")) {
        publishRequestCount(ctx.deps.inbox, ctx.deps.store, account.id, ctx.deps.now);
      }
      return ctx.redirect(`/requests/${r.request.id}?ok=requestSaved`);
    } catch (e) {
      if (!(e instanceof HttpError) || e.status !== 400) throw e;
      const detail = (e.detail ?? []) as { message: string }[];
      const d = await load(ctx, detail.map((i) => i.message));
      return ctx.render(d, { title: T.requests.title, status: 422 });
    }
  },
};

export default function RequestPage({ data, csrf }: PageProps<Data>): VNode {
  const R = T.requests;
  const r = data.request;
  const c = data.call;
  const action = `/requests/${r.id}`;
  const facts: [string, string][] = [
    [R.caller, r.callerName],
    [R.callback, r.callbackNumber ?? ""],
    [R.forWhom, r.forWhom],
    [R.preferredTimes, r.preferredTimes],
    [R.medication, r.medication],
  ];
  return (
    <>
      <h1>
        {R.kinds[r.kind]}
        {r.urgency === "urgent" && ` (${R.urgent})`}
      </h1>
      <p>
        <a href="/requests">{R.back}</a>
      </p>
      {data.errors.length > 0 && (
        <div class="error-summary" role="alert" data-testid="errors">
          <ul>
            {data.errors.map((m) => <li key={m}>{m}</li>)}
          </ul>
        </div>
      )}
      <section class="card">
        <dl class="facts">
          <dt>{R.status}</dt>
          <dd data-testid="status">{R.statuses[r.status]}</dd>
          <dt>{R.created}</dt>
          <dd>{dateTime(r.createdAt)}</dd>
          {r.doneAt !== null && <dt>{R.doneAt}</dt>}
          {r.doneAt !== null && <dd>{dateTime(r.doneAt)}</dd>}
          <dt>{R.source}</dt>
          <dd>{R.sources[r.source]}</dd>
          {facts.filter(([, v]) => v !== "").flatMap((
            [k, v],
          ) => [<dt key={`t${k}`}>{k}</dt>, <dd key={`d${k}`}>{v}</dd>])}
          <dt>{R.summary}</dt>
          <dd data-testid="summary">{r.summary || T.app.none}</dd>
          <dt>{R.call}</dt>
          <dd>
            {c
              ? (
                <a href={`/calls/${c.id}`} data-testid="call-link">
                  {R.toCall}: {dateTime(c.startedAt)}, {duration(c.durationMs)}
                </a>
              )
              : R.noCall}
          </dd>
        </dl>
      </section>
      <section class="card stack" aria-labelledby="work-h">
        <h2 id="work-h">{R.assignee}</h2>
        <form method="post" action={action} class="inline">
          <Csrf token={csrf} />
          <input type="hidden" name="action" value="assign" />
          <label for="f-assignee">{R.assignee}</label>
          <select id="f-assignee" name="assigneeUserId">
            <option value="" selected={r.assigneeUserId === null}>{R.nobody}</option>
            {data.users.map((u) => (
              <option key={u.id} value={u.id} selected={u.id === r.assigneeUserId}>{u.displayName}</option>
            ))}
          </select>
          <button type="submit" class="secondary">{R.assign}</button>
        </form>
        <div class="actions">
          {r.status === "open" && (
            <PostButton
              action={action}
              csrf={csrf}
              label={R.markInProgress}
              variant="secondary"
              fields={{ action: "status", status: "in_progress" }}
            />
          )}
          {r.status !== "done" && (
            <PostButton
              action={action}
              csrf={csrf}
              label={R.markDone}
              fields={{ action: "status", status: "done" }}
            />
          )}
          {r.status === "done" && (
            <PostButton
              action={action}
              csrf={csrf}
              label={R.reopen}
              variant="secondary"
              fields={{ action: "status", status: "open" }}
            />
          )}
        </div>
      </section>
      <section class="card" aria-labelledby="notes-h">
        <h2 id="notes-h">{R.notes}</h2>
        <form method="post" action={action} class="stack">
          <Csrf token={csrf} />
          <input type="hidden" name="action" value="notes" />
          <div class="field">
            <label for="f-notes">{R.notes}</label>
            <textarea id="f-notes" name="notes" rows={5} maxLength={4000}>{r.notes}</textarea>
          </div>
          <div class="actions">
            <button type="submit">{R.saveNotes}</button>
          </div>
        </form>
      </section>
    </>
  );
}
