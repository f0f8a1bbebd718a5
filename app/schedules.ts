/**
 * Scheduled companion calls: the admin UI edits the schedules and the store keeps them (store/schedules.ts,
 * weekdays as a bit mask); the gateway's {@linkcode OutboundScheduler} decides what is due (retry floor,
 * attempts per day) and places the calls through FreeSWITCH's event socket, or Twilio when that is the
 * configured way out.
 *
 * @module
 */
import type { Config } from "../infra/mod.ts";
import type { Logger } from "../infra/mod.ts";
import { enabledScheduleTimes, listAccounts, type Store } from "../store/mod.ts";
import type { CallSchedule } from "../gateway/mod.ts";
import { OutboundScheduler } from "../gateway/mod.ts";
import { type GatewayDeps, type OutboundVia, placeCall } from "../gateway/mod.ts";
import type { EslClient } from "../gateway/mod.ts";

/** The way out for scheduled calls, or undefined when neither FreeSWITCH nor Twilio is configured. */
export function outboundVia(config: Config): OutboundVia | undefined {
  if (config.freeswitch.enabled) return "freeswitch";
  if (config.twilio.accountSid && config.twilio.authToken && config.twilio.fromNumber) return "twilio";
  return undefined;
}

/** ISO weekdays (1 = Monday .. 7 = Sunday) from the UI's bit mask (Monday = 1 .. Sunday = 64). */
export function weekdaysFromMask(mask: number): number[] {
  return [1, 2, 3, 4, 5, 6, 7].filter((d) => (mask & (1 << (d - 1))) !== 0);
}

/** Every enabled schedule of every account, in the scheduler's shape. */
export function allSchedules(store: Store, via: OutboundVia): CallSchedule[] {
  return listAccounts(store).flatMap((a) =>
    enabledScheduleTimes(store, a.id).map((s) => ({
      id: s.id,
      accountId: s.accountId,
      personId: s.personId,
      weekdays: weekdaysFromMask(s.weekdays),
      windowStart: s.windowStart,
      windowEnd: s.windowEnd,
      via,
      enabled: true,
    }))
  );
}

/** Start the scheduler when there is a way out; returns it (stop it at shutdown) or undefined. */
export function startScheduledCalls(
  config: Config,
  deps: GatewayDeps,
  esl: EslClient | undefined,
  log: Logger,
): OutboundScheduler | undefined {
  const via = outboundVia(config);
  if (!via) {
    log.info("scheduled companion calls are off: enable FreeSWITCH or configure Twilio to place them");
    return undefined;
  }
  const scheduler = new OutboundScheduler({
    schedules: () => allSchedules(deps.store, via),
    store: deps.store,
    place: (req) => placeCall(deps, req, esl ? { esl } : {}),
    log: log.child({ component: "scheduler" }),
  });
  scheduler.start();
  return scheduler;
}
