/** @jsxImportSource preact */
/** @jsxRuntime automatic */
// Calls being transferred to staff, on top of /requests: a notice per `transfer` of /api/live/inbox
// ("Anrufer wird verbunden – {caller} – {reason} – „{summary}“"), updated when the target answers or the transfer
// fails, gone when the call ends (`transfer_end`) or after `ttlMs`. A status region: screen readers read it.
import type { VNode } from "preact";
import { useSignal } from "@preact/signals";
import { useEffect } from "preact/hooks";
import {
  callerText,
  type CallerTexts,
  type NoticeCaller,
  noticeCaller,
  onInboxEvent,
} from "../ui/client/mod.ts";

/** Props of {@linkcode TransferNotices}. */
export interface TransferNoticesProps {
  eventsUrl: string;
  texts: {
    started: string;
    connected: string;
    failed: string;
    label: string;
    reasons: Record<string, string>;
    caller: CallerTexts;
  };
  /** How long a notice stays without news of its call (default three minutes). */
  ttlMs?: number;
}

interface Notice {
  callId: string;
  outcome: string;
  reason: string;
  summary: string;
  caller?: NoticeCaller;
}

/** The notice's text. */
function noticeText(n: Notice, t: TransferNoticesProps["texts"]): string {
  const head = n.outcome === "connected" ? t.connected : n.outcome === "failed" ? t.failed : t.started;
  const why = t.reasons[n.reason] ?? n.reason;
  return `${head} – ${callerText(n.caller, t.caller)} – ${why}${n.summary ? ` – „${n.summary}“` : ""}`;
}

/** The island. */
export default function TransferNotices(p: TransferNoticesProps): VNode {
  const notices = useSignal<Notice[]>([]);
  useEffect(() => {
    const timers = new Map<string, ReturnType<typeof setTimeout>>();
    const drop = (callId: string) => {
      clearTimeout(timers.get(callId));
      timers.delete(callId);
      notices.value = notices.value.filter((n) => n.callId !== callId);
    };
    const off = onInboxEvent(p.eventsUrl, (e) => {
      const callId = e.data.callId;
      if (!callId) return;
      if (e.type === "transfer_end") return drop(callId);
      if (e.type !== "transfer") return;
      const old = notices.value.find((n) => n.callId === callId);
      const n: Notice = {
        callId,
        outcome: e.data.outcome ?? "started",
        reason: e.data.reason ?? "",
        summary: e.data.summary ?? old?.summary ?? "",
        caller: noticeCaller(e.data.caller) ?? old?.caller,
      };
      notices.value = [n, ...notices.value.filter((x) => x.callId !== callId)].slice(0, 10);
      clearTimeout(timers.get(callId));
      timers.set(callId, setTimeout(() => drop(callId), p.ttlMs ?? 180_000));
    });
    return () => {
      off();
      for (const t of timers.values()) clearTimeout(t);
    };
  }, []);
  return (
    <div role="status" aria-label={p.texts.label} data-testid="transfer-notices">
      {notices.value.map((n) => (
        <p
          key={n.callId}
          class={n.outcome === "failed" ? "msg err" : "msg warn"}
          data-testid="transfer-notice"
        >
          {noticeText(n, p.texts)}
        </p>
      ))}
    </div>
  );
}
