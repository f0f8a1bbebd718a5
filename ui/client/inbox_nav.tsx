/** @jsxImportSource preact */
/** @jsxRuntime automatic */
// Browser side of the "Anliegen" inbox (ui/inbox.ts): one EventSource per page for /api/live/inbox,
// shared by the islands that follow it (the navigation's badge, the new rows of /requests), and the
// navigation's entry with its open count (rendered by the server too, so it shows without JavaScript).
import type { VNode } from "preact";

/**
 * One event of the inbox's stream: `request_count` {open}, `request_noted` {id, kind, urgency, open},
 * `transfer` {callId, reason, outcome, summary?} or `transfer_end` {callId}.
 */
export interface InboxEvent {
  type: string;
  data: {
    open?: number;
    id?: string;
    kind?: string;
    urgency?: string;
    callId?: string;
    reason?: string;
    outcome?: string;
    summary?: string;
    /** Who is being put through (a transfer's caller: name, number, identity level). */
    caller?: unknown;
  };
}

type Listener = (e: InboxEvent) => void;
interface Shared {
  listeners: Set<Listener>;
}
const KEY = "__tomInbox";

/** Follow the inbox's events (one EventSource per page, whichever island asks first opens it). */
export function onInboxEvent(url: string, fn: Listener): () => void {
  const g = globalThis as unknown as Record<string, Shared | undefined>;
  let shared = g[KEY];
  if (!shared) {
    const s: Shared = { listeners: new Set() };
    const es = new EventSource(url);
    es.addEventListener("event", (m) => {
      const e = JSON.parse((m as MessageEvent).data) as InboxEvent;
      for (const l of s.listeners) l({ type: e.type, data: e.data ?? {} });
    });
    g[KEY] = shared = s;
  }
  const listeners = shared.listeners;
  listeners.add(fn);
  return () => listeners.delete(fn);
}

/** Props of {@linkcode RequestsNavLink}. */
export interface RequestsNavLinkProps {
  count: number;
  current: boolean;
  label: string;
  /** Read after the number ("offen"). */
  countLabel: string;
}

/** The navigation's "Anliegen" link with the open count (a polite live region: changes are announced). */
export function RequestsNavLink(p: RequestsNavLinkProps): VNode {
  return (
    <a href="/requests" aria-current={p.current ? "page" : undefined}>
      {p.label}{" "}
      <span class="badge" data-testid="requests-badge" aria-live="polite" aria-atomic="true">
        {p.count}
        <span class="sr-only">{` ${p.countLabel}`}</span>
      </span>
    </a>
  );
}
