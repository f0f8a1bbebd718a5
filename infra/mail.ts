/**
 * Sending e-mail through the SMTP relay in `mail.*` (nodemailer): one short plain-text message at a time,
 * to the configured recipients. Only the wire: what a message says is the caller's business
 * (app/request_mail.ts keeps personal data out of it), and retrying is too.
 *
 * The socket is opened by host name with `node:net`, so the egress sandbox needs only the relay's
 * `host:port` (infra/permissions.ts); nodemailer's own DNS lookup would need the resolved address as well.
 * `mail.security`: `starttls` requires the upgrade, `tls` is implicit TLS (port 465), `none` sends in
 * plain text (a trusted relay in the practice's network only).
 *
 * @module
 */
import net from "node:net";
import nodemailer from "nodemailer";
import type { Config } from "./config.ts";

/** Seconds to wait for the relay: connecting, its greeting, and any silence on the socket. */
const CONNECT_TIMEOUT_MS = 10_000;
const GREETING_TIMEOUT_MS = 10_000;
const SOCKET_TIMEOUT_MS = 30_000;

/** One plain-text message. */
export interface MailMessage {
  subject: string;
  text: string;
}

/** A way to send {@linkcode MailMessage}s to the configured recipients. */
export interface MailTransport {
  /** Send one message; rejects when the relay cannot be reached or refuses it. */
  send(message: MailMessage): Promise<void>;
  /** Close idle connections. */
  close(): void;
}

/** Whether e-mail is configured (`mail.smtpHost` set). */
export function mailConfigured(config: Pick<Config, "mail">): boolean {
  return config.mail.smtpHost !== "";
}

/**
 * The SMTP transport for `mail.*`, or null when e-mail is off.
 *
 * @param config the configuration (only `mail` is read)
 * @returns a transport whose `send` rejects on any failure, or null
 */
export function createMailTransport(config: Pick<Config, "mail">): MailTransport | null {
  if (!mailConfigured(config)) return null;
  const m = config.mail;
  const transporter = nodemailer.createTransport({
    host: m.smtpHost,
    port: m.smtpPort,
    secure: m.security === "tls",
    requireTLS: m.security === "starttls",
    ignoreTLS: m.security === "none",
    auth: m.user !== "" ? { user: m.user, pass: m.password } : undefined,
    connectionTimeout: CONNECT_TIMEOUT_MS,
    greetingTimeout: GREETING_TIMEOUT_MS,
    socketTimeout: SOCKET_TIMEOUT_MS,
    getSocket: (_options, callback) => connectByName(m.smtpHost, m.smtpPort, callback),
  });
  return {
    async send(message) {
      await transporter.sendMail({ from: m.from, to: m.to, subject: message.subject, text: message.text });
    },
    close() {
      transporter.close();
    },
  };
}

/** Open a TCP socket by host name (Deno checks `host:port`, not the address it resolves to). */
function connectByName(
  host: string,
  port: number,
  callback: (err: Error | null, socketOptions?: { connection: net.Socket }) => void,
): void {
  const socket = net.connect({ host: host.replace(/^\[|\]$/g, ""), port });
  const timer = setTimeout(() => {
    socket.destroy();
    callback(
      new Error(`Cannot reach mail relay ${host}:${port}: no connection within ${CONNECT_TIMEOUT_MS} ms`),
    );
  }, CONNECT_TIMEOUT_MS);
  socket.once("connect", () => {
    clearTimeout(timer);
    socket.removeAllListeners("error");
    callback(null, { connection: socket });
  });
  socket.once("error", (e) => {
    clearTimeout(timer);
    socket.destroy();
    callback(e);
  });
}
