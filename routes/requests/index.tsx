/** @jsxImportSource preact */
/** @jsxRuntime automatic */
// "Anliegen": what callers asked the practice for. Open first, emergencies and urgent on top, newest first;
// filters by kind and status (a GET form, works without JavaScript). Every view is audited.
import type { VNode } from "preact";
import { z } from "zod";
import { listRequests, REQUEST_KINDS, REQUEST_STATUSES, type RequestRecord } from "../../store/mod.ts";
import { RequestTable, type RequestTableTexts, Select } from "../../ui/mod.ts";
import { Island } from "../_islands.ts";
import { T } from "../../ui/mod.ts";
import type { Handlers, PageProps } from "../../ui/mod.ts";

const Filter = z.object({
  status: z.enum(REQUEST_STATUSES).optional().catch(undefined),
  kind: z.enum(REQUEST_KINDS).optional().catch(undefined),
});

interface Data {
  requests: RequestRecord[];
  status: string;
  kind: string;
}

export const handler: Handlers<Data> = {
  async GET(ctx) {
    const { account } = ctx.need();
    const sp = ctx.url.searchParams;
    const f = Filter.parse({ status: sp.get("status") || undefined, kind: sp.get("kind") || undefined });
    const requests = await listRequests(ctx.deps.store, ctx.deps.keyring, account.id, f);
    ctx.audit("request.list", "request", null, {
      count: requests.length,
      status: f.status ?? "",
      kind: f.kind ?? "",
    });
    return ctx.render({ requests, status: f.status ?? "", kind: f.kind ?? "" }, { title: T.requests.title });
  },
};

export default function RequestsPage({ data }: PageProps<Data>): VNode {
  const R = T.requests;
  const texts: RequestTableTexts = {
    created: R.created,
    kind: R.kind,
    caller: R.caller,
    summary: R.summary,
    status: R.status,
    urgent: R.urgent,
    none: T.app.none,
    kinds: R.kinds,
    statuses: R.statuses,
  };
  return (
    <>
      <h1>{R.title}</h1>
      <p>{R.intro}</p>
      <form method="get" action="/requests" class="filters card" role="search">
        <Select
          name="kind"
          label={R.kind}
          value={data.kind}
          options={[["", R.allKinds], ...REQUEST_KINDS.map((k): [string, string] => [k, R.kinds[k]])]}
        />
        <Select
          name="status"
          label={R.status}
          value={data.status}
          options={[
            ["", R.allStatuses],
            ...REQUEST_STATUSES.map((s): [string, string] => [s, R.statuses[s]]),
          ]}
        />
        <div class="actions">
          <button type="submit" class="secondary">{R.filter}</button>
        </div>
      </form>
      <Island
        name="TransferNotices"
        props={{
          eventsUrl: "/api/live/inbox",
          texts: {
            started: R.transferStarted,
            connected: R.transferConnected,
            failed: R.transferFailed,
            label: R.transfersLabel,
            reasons: T.live.reasons,
            caller: T.live.caller,
          },
        }}
      />
      <Island
        name="NewRequests"
        props={{
          eventsUrl: "/api/live/inbox",
          filter: { kind: data.kind, status: data.status },
          texts: { title: R.newTitle, intro: R.newIntro, ...texts },
        }}
      />
      {data.requests.length === 0
        ? <p data-testid="requests-empty">{R.empty}</p>
        : <RequestTable rows={data.requests} texts={texts} testId="requests" />}
    </>
  );
}
