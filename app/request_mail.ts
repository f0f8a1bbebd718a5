/**
 * The optional e-mail notice of a new request ("Anliegen"): a mail to `mail.to` through the relay in
 * `mail.*` that says only "Neues Anliegen in TOM" or "Neues Anliegen (dringend) in TOM" and links to the
 * request (`<publicUrl>/requests/<id>`). No name, no number, no kind, no summary: nothing personal and no
 * health data leaves the box by mail; staff read the request after logging in.
 *
 * How it is meant to be called (app/serve.ts): build it once at start-up,
 * `const requestMail = startRequestMail(config, log)` (null while `mail.smtpHost` is empty), call
 * `requestMail?.notify(accountId, { id, kind, urgency })` AFTER the request is stored (the `request_noted`
 * event), and `await requestMail?.close()` on shutdown. `notify` returns at once and never throws: the mail
 * is queued and sent in the background.
 *
 * A relay that is down loses nothing but mail: the request is already stored. Notices wait in a bounded
 * queue (oldest dropped beyond {@linkcode MAX_PENDING}) and are retried with exponential backoff; an
 * outage logs exactly one warning when it starts (plus one if the queue overflows) and one info line when
 * the relay takes mail again, with how many notices were sent late and how many were dropped.
 *
 * @module
 */
import { type Config, createMailTransport, type Logger, type MailTransport } from "../infra/mod.ts";

/** Most notices waiting for the relay; beyond it the oldest is dropped (staff still see it in TOM). */
export const MAX_PENDING = 100;
/** First retry after this long, doubling up to the maximum (a relay restart takes seconds to minutes). */
export const RETRY_MIN_MS = 5_000;
export const RETRY_MAX_MS = 5 * 60_000;

/** The request fields a notice may use; only `id` and `urgency` reach the mail. */
export interface NoticeRequest {
  id: string;
  kind: string;
  urgency: "normal" | "urgent";
}

/** The running notifier. */
export interface RequestMail {
  /** Queue the notice of a stored request; returns at once, never throws. */
  notify(accountId: string, request: NoticeRequest): void;
  /** Stop retrying and close the transport; notices still queued are dropped (the requests are stored). */
  close(): Promise<void>;
}

/** Options of {@linkcode startRequestMail}; tests shorten the backoff or pass a transport. */
export interface RequestMailOptions {
  transport?: MailTransport;
  retryMinMs?: number;
  retryMaxMs?: number;
  maxPending?: number;
}

/** The subject of a notice: the whole message, apart from the link. */
export function noticeSubject(urgency: NoticeRequest["urgency"]): string {
  return urgency === "urgent" ? "Neues Anliegen (dringend) in TOM" : "Neues Anliegen in TOM";
}

/** Where staff open TOM: `mail.publicUrl`, else the HTTP listen address. */
export function noticeBaseUrl(config: Pick<Config, "mail" | "http">): string {
  if (config.mail.publicUrl !== "") return config.mail.publicUrl.replace(/\/+$/, "");
  const h = config.http.host.includes(":") && !config.http.host.startsWith("[")
    ? `[${config.http.host}]`
    : config.http.host;
  return `http://${h}:${config.http.port}`;
}

/**
 * Start the e-mail notifier, or return null when e-mail is off (`mail.smtpHost` empty).
 *
 * @param config the configuration (`mail`, `http`)
 * @param log where the outage warning and the recovery line go
 */
export function startRequestMail(
  config: Pick<Config, "mail" | "http">,
  log: Logger,
  opts: RequestMailOptions = {},
): RequestMail | null {
  const made = opts.transport ?? createMailTransport(config);
  if (!made) return null;
  const transport: MailTransport = made;
  const retryMin = opts.retryMinMs ?? RETRY_MIN_MS;
  const retryMax = opts.retryMaxMs ?? RETRY_MAX_MS;
  const maxPending = opts.maxPending ?? MAX_PENDING;
  const base = noticeBaseUrl(config);
  const queue: Array<{ subject: string; text: string }> = [];
  let sending: Promise<void> | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let closed = false;
  let failures = 0;
  // The current outage (or overflow): reported once when it starts and once when the queue drains.
  let down = false;
  let sentLate = 0;
  let dropped = 0;
  let warnedFull = false;

  async function pump(): Promise<void> {
    while (!closed && queue.length > 0) {
      const item = queue[0];
      try {
        await transport.send(item);
      } catch (e) {
        if (closed) return;
        failures++;
        if (!down) {
          down = true;
          log.warn("mail relay unreachable: request notices are kept and retried", {
            pending: queue.length,
            error: e instanceof Error ? e.message : String(e),
          });
        }
        const delay = Math.min(retryMax, retryMin * 2 ** (failures - 1));
        timer = setTimeout(() => {
          timer = undefined;
          kick();
        }, delay);
        return;
      }
      // By identity: a full queue may have dropped the head while it was being sent.
      const at = queue.indexOf(item);
      if (at >= 0) queue.splice(at, 1);
      failures = 0;
      if (down) sentLate++;
      if (queue.length === 0 && (down || dropped > 0)) {
        log.info("mail relay reachable again", { sentLate, dropped });
        [down, sentLate, dropped, warnedFull] = [false, 0, 0, false];
      }
    }
  }

  function kick(): void {
    if (closed || sending || timer) return;
    sending = pump().finally(() => {
      sending = undefined;
      if (!closed && !timer && queue.length > 0) kick();
    });
  }

  return {
    notify(accountId, request) {
      try {
        enqueue(accountId, request);
      } catch (e) {
        log.error("mail notice not queued", { error: e instanceof Error ? e.message : String(e) });
      }
    },
    async close() {
      closed = true;
      if (timer) clearTimeout(timer);
      timer = undefined;
      await sending;
      queue.length = 0;
      transport.close();
    },
  };

  function enqueue(accountId: string, request: NoticeRequest): void {
    if (closed) return;
    if (queue.length >= maxPending) {
      queue.shift();
      dropped++;
      if (!warnedFull) {
        warnedFull = true;
        log.warn("mail notice queue full: oldest notices are dropped until the relay is back", {
          maxPending,
        });
      }
    }
    queue.push({
      subject: noticeSubject(request.urgency),
      text: `${noticeSubject(request.urgency)}.\n\nÖffnen: ${base}/requests/${
        encodeURIComponent(request.id)
      }\n\nDiese Nachricht enthält keine Angaben zum Anliegen; Sie sehen es nach der Anmeldung in TOM.\n`,
    });
    log.debug("mail notice queued", { account: accountId, request: request.id, pending: queue.length });
    kick();
  }
}
