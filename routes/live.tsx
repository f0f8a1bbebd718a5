/** @jsxImportSource preact */
/** @jsxRuntime automatic */
// Live calls: the island follows /api/live/events (server-sent events of this account's calls).
import type { VNode } from "preact";
import { listCallRows } from "../store/mod.ts";
import { Island } from "./_islands.ts";
import { dateTime } from "../ui/mod.ts";
import { T } from "../ui/mod.ts";
import type { LiveCallItem } from "../islands/mod.ts";
import type { Handlers, PageProps } from "../ui/mod.ts";

interface Data {
  calls: LiveCallItem[];
}

/** Live calls of an account as the island lists them. */
export function liveCallItems(rows: ReturnType<typeof listCallRows>): LiveCallItem[] {
  return rows.map((c) => ({
    id: c.id,
    who: c.personName ?? T.calls.unknown,
    status: T.status[c.status] ?? c.status,
    since: dateTime(c.startedAt),
  }));
}

export const handler: Handlers<Data> = {
  GET(ctx) {
    const { account } = ctx.need();
    const rows = listCallRows(ctx.deps.store, account.id, { active: true, limit: 100 });
    ctx.audit("live.view", "call", null, { count: rows.length });
    return ctx.render({ calls: liveCallItems(rows) }, { title: T.live.title });
  },
};

export default function LivePage({ data }: PageProps<Data>): VNode {
  return (
    <>
      <h1>{T.live.title}</h1>
      <p>{T.live.intro}</p>
      <Island
        name="LiveCalls"
        props={{
          eventsUrl: "/api/live/events",
          calls: data.calls,
          texts: {
            none: T.live.none,
            connecting: T.live.connecting,
            connected: T.live.connected,
            disconnected: T.live.disconnected,
            events: T.live.events,
            call: T.live.title,
            alerts: T.live.alerts,
            emergency: T.live.emergency,
            transfer: T.live.transfer,
            transferFailed: T.live.transferFailed,
            reasons: T.live.reasons,
            caller: T.live.caller,
          },
        }}
      />
    </>
  );
}
