/** @jsxImportSource preact */
/** @jsxRuntime automatic */
// The navigation's "Anliegen" entry with the account's open count, kept current by /api/live/inbox.
import type { VNode } from "preact";
import { useSignal } from "@preact/signals";
import { useEffect } from "preact/hooks";
import { onInboxEvent, RequestsNavLink, type RequestsNavLinkProps } from "../ui/client/mod.ts";

/** Props of {@linkcode RequestBadge}. */
export interface RequestBadgeProps extends RequestsNavLinkProps {
  eventsUrl: string;
}

/** The island. */
export default function RequestBadge(p: RequestBadgeProps): VNode {
  const count = useSignal(p.count);
  useEffect(
    () =>
      onInboxEvent(p.eventsUrl, (e) => {
        if (typeof e.data.open === "number") count.value = e.data.open;
      }),
    [],
  );
  return (
    <RequestsNavLink
      count={count.value}
      current={p.current}
      label={p.label}
      countLabel={p.countLabel}
    />
  );
}
