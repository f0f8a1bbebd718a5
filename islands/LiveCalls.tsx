/** @jsxImportSource preact */
/** @jsxRuntime automatic */
// Live calls of the account: a list that follows the server-sent events of /api/live/events.
import type { VNode } from "preact";
import { useSignal } from "@preact/signals";
import { useEffect } from "preact/hooks";
import { callerText, type CallerTexts, noticeCaller } from "../ui/client/mod.ts";

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
    alerts: string;
    emergency: string;
    transfer: string;
    transferFailed: string;
    reasons: Record<string, string>;
    caller: CallerTexts;
  };
}

/** A notice staff must see at once: an emergency, or a caller being put through (who and why). */
interface LiveAlert {
  callId: string;
  at: number;
  urgent: boolean;
  text: string;
}

/** The alert for an event, if it is one. */
function alertOf(
  e: { callId: string; type: string; at: number; data?: Record<string, unknown> },
  t: LiveCallsProps["texts"],
): LiveAlert | null {
  const d = e.data ?? {};
  const str = (v: unknown) => (typeof v === "string" ? v : "");
  if (e.type === "emergency") {
    return { callId: e.callId, at: e.at, urgent: true, text: `${t.emergency}: ${str(d.label)}` };
  }
  if (e.type === "transfer" && (d.outcome === "started" || d.outcome === "failed")) {
    const why = t.reasons[str(d.reason)] ?? str(d.reason);
    const head = d.outcome === "started" ? t.transfer : `${t.transferFailed} (${str(d.detail)})`;
    const summary = str(d.summary);
    return {
      callId: e.callId,
      at: e.at,
      urgent: false,
      text: `${head}: ${callerText(noticeCaller(d.caller), t.caller)} – ${why}${
        summary ? ` – „${summary}“` : ""
      }`,
    };
  }
  return null;
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
  const alerts = useSignal<LiveAlert[]>([]);

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
      const alert = alertOf(e, p.texts);
      if (alert) alerts.value = [alert, ...alerts.value].slice(0, 20);
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
      {alerts.value.length > 0 && (
        <section aria-label={p.texts.alerts} role="alert" data-testid="live-alerts">
          {alerts.value.map((a, i) => (
            <p key={`${a.at}-${i}`} class={a.urgent ? "msg err" : "msg warn"} data-call={a.callId}>
              {new Date(a.at).toLocaleTimeString("de-DE")} {a.callId.slice(0, 8)} {a.text}
            </p>
          ))}
        </section>
      )}
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
      {/* role=log on the list itself would take the items out of their list (axe: listitem) */}
      <div class="log" tabindex={0} aria-label={p.texts.events} {...LOG_ROLE}>
        <ol>
          {events.value.map((e, i) => (
            <li key={`${e.at}-${i}`}>
              {new Date(e.at).toLocaleTimeString("de-DE")} {e.callId.slice(0, 8)} {e.type} {e.text}
            </li>
          ))}
        </ol>
      </div>
    </section>
  );
}
