/** @jsxImportSource preact */
/** @jsxRuntime automatic */
// Live calls of the account: a list that follows the server-sent events of /api/live/events.
import type { VNode } from "preact";
import { useSignal } from "@preact/signals";
import { useEffect } from "preact/hooks";

const LOG_ROLE = { role: "log" } as Record<string, string>;

/** A live call as listed. */
export interface LiveCallItem {
  id: string;
  who: string;
  status: string;
  since: string;
}

/** One event line. */
export interface LiveEventItem {
  callId: string;
  type: string;
  text: string;
  at: number;
}

/** Props of {@linkcode LiveCalls}. */
export interface LiveCallsProps {
  eventsUrl: string;
  calls: LiveCallItem[];
  texts: {
    none: string;
    connecting: string;
    connected: string;
    disconnected: string;
    events: string;
    call: string;
  };
}

function describe(e: { type: string; data?: Record<string, unknown> }): string {
  const d = e.data ?? {};
  const said = [d.text, d.heardText, d.token].find((v) => typeof v === "string" && v !== "");
  const facts: string[] = [];
  for (const [k, v] of Object.entries(d)) {
    if (k === "text" || k === "heardText" || k === "token") continue;
    if (typeof v === "number" || typeof v === "boolean" || typeof v === "string") facts.push(`${k}=${v}`);
    else if (v && typeof v === "object") {
      for (const [k2, v2] of Object.entries(v)) if (typeof v2 === "number") facts.push(`${k2}=${v2}`);
    }
  }
  return [typeof said === "string" ? `„${said}“` : "", facts.join(" ")].filter(Boolean).join(" ");
}

/** The island. */
export default function LiveCalls(p: LiveCallsProps): VNode {
  const calls = useSignal<LiveCallItem[]>(p.calls);
  const events = useSignal<LiveEventItem[]>([]);
  const state = useSignal(p.texts.connecting);

  useEffect(() => {
    const es = new EventSource(p.eventsUrl);
    es.onopen = () => (state.value = p.texts.connected);
    es.onerror = () => (state.value = p.texts.disconnected);
    es.addEventListener("calls", (m) => (calls.value = JSON.parse((m as MessageEvent).data)));
    es.addEventListener("event", (m) => {
      const e = JSON.parse((m as MessageEvent).data) as {
        callId: string;
        type: string;
        at: number;
        data?: Record<string, unknown>;
      };
      events.value = [{ callId: e.callId, type: e.type, at: e.at, text: describe(e) }, ...events.value].slice(
        0,
        200,
      );
    });
    return () => es.close();
  }, []);

  return (
    <section aria-labelledby="live-calls-h">
      <p class="muted" role="status">{state.value}</p>
      <h2 id="live-calls-h" class="sr-only">{p.texts.call}</h2>
      {calls.value.length === 0 ? <p>{p.texts.none}</p> : (
        <ul>
          {calls.value.map((c) => (
            <li key={c.id}>
              <a href={`/calls/${encodeURIComponent(c.id)}`}>{c.who}</a> – {c.status}, {c.since}
            </li>
          ))}
        </ul>
      )}
      <h2>{p.texts.events}</h2>
      <ol class="log" tabindex={0} aria-label={p.texts.events} {...LOG_ROLE}>
        {events.value.map((e, i) => (
          <li key={`${e.at}-${i}`}>
            {new Date(e.at).toLocaleTimeString("de-DE")} {e.callId.slice(0, 8)} {e.type} {e.text}
          </li>
        ))}
      </ol>
    </section>
  );
}
