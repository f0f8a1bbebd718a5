/**
 * The FreeSWITCH event socket (ESL, mod_event_socket) wire format: messages are header blocks
 * (`Key: value` lines ended by an empty line), followed by `Content-Length` bytes of body when that header
 * is present. Events subscribed with `event plain` arrive as `Content-Type: text/event-plain` whose body
 * is itself a header block with URL-encoded values, optionally followed by its own body.
 *
 * TCP delivers these in arbitrary pieces: {@linkcode EslParser} takes bytes as they come and yields whole
 * messages, however they were split or coalesced.
 *
 * @module
 */

/** One message from FreeSWITCH (`auth/request`, `command/reply`, `api/response`, `text/event-plain`...). */
export interface EslMessage {
  /** Outer headers as sent (not URL-decoded). */
  headers: Record<string, string>;
  /** `Content-Type`, or "" when absent. */
  contentType: string;
  /** The body (`Content-Length` bytes, UTF-8), or "". */
  body: string;
}

/** An event (`text/event-plain`). */
export interface EslEvent {
  /** `Event-Name` (e.g. `CHANNEL_HANGUP_COMPLETE`, `CUSTOM`). */
  name: string;
  /** `Event-Subclass` of CUSTOM events (e.g. `mod_audio_fork::connect`), or "". */
  subclass: string;
  /** The channel's `Unique-ID`, or "". */
  uuid: string;
  /** URL-decoded event headers. */
  headers: Record<string, string>;
  /** The event's own body (BACKGROUND_JOB result, CUSTOM JSON), or "". */
  body: string;
}

/** The largest message the parser accepts; FreeSWITCH's own messages stay far below. */
export const MAX_ESL_MESSAGE_BYTES = 8 * 1024 * 1024;

const LF = 0x0a;
const decoder = new TextDecoder();

/** Parse `Key: value` lines; `decode` URL-decodes values (event bodies). */
export function parseHeaderLines(text: string, decode = false): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const raw of text.split("\n")) {
    const line = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
    const colon = line.indexOf(":");
    if (colon <= 0) continue;
    const key = line.slice(0, colon).trim();
    let value = line.slice(colon + 1).trim();
    if (decode) value = safeDecode(value);
    headers[key] = value;
  }
  return headers;
}

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

/** Turn a `text/event-plain` body into an {@linkcode EslEvent}. */
export function parseEventPlain(body: string): EslEvent {
  const end = body.indexOf("\n\n");
  const head = end < 0 ? body : body.slice(0, end);
  const headers = parseHeaderLines(head, true);
  let rest = end < 0 ? "" : body.slice(end + 2);
  const length = Number(headers["Content-Length"]);
  if (Number.isInteger(length) && length >= 0) {
    const bytes = new TextEncoder().encode(rest);
    rest = decoder.decode(bytes.subarray(0, length));
  }
  return {
    name: headers["Event-Name"] ?? "",
    subclass: headers["Event-Subclass"] ?? "",
    uuid: headers["Unique-ID"] ?? "",
    headers,
    body: rest,
  };
}

/** Incremental ESL message parser. */
export class EslParser {
  #buf = new Uint8Array(0);
  #head: { headers: Record<string, string>; length: number } | undefined;

  /**
   * Feed received bytes; returns the messages completed by them, in order.
   *
   * @throws {Error} when a message announces more than {@linkcode MAX_ESL_MESSAGE_BYTES} or its header
   * block grows past that size (the connection is then not an ESL peer).
   */
  push(chunk: Uint8Array): EslMessage[] {
    this.#append(chunk);
    const out: EslMessage[] = [];
    for (;;) {
      if (!this.#head) {
        const end = this.#headerEnd();
        if (end === undefined) {
          if (this.#buf.length > MAX_ESL_MESSAGE_BYTES) {
            throw new Error(`Cannot parse ESL: header block exceeds ${MAX_ESL_MESSAGE_BYTES} bytes`);
          }
          break;
        }
        const text = decoder.decode(this.#buf.subarray(0, end.at));
        this.#buf = this.#buf.subarray(end.at + end.len);
        if (text.trim() === "") continue; // stray blank lines between messages
        const headers = parseHeaderLines(text);
        const length = headers["Content-Length"] === undefined ? 0 : Number(headers["Content-Length"]);
        if (!Number.isInteger(length) || length < 0 || length > MAX_ESL_MESSAGE_BYTES) {
          throw new Error(
            `Cannot parse ESL: bad Content-Length ${JSON.stringify(headers["Content-Length"])}`,
          );
        }
        this.#head = { headers, length };
      }
      const head = this.#head;
      if (this.#buf.length < head.length) break;
      const body = decoder.decode(this.#buf.subarray(0, head.length));
      this.#buf = this.#buf.subarray(head.length);
      this.#head = undefined;
      out.push({ headers: head.headers, contentType: head.headers["Content-Type"] ?? "", body });
    }
    return out;
  }

  #append(chunk: Uint8Array): void {
    if (this.#buf.length === 0) {
      this.#buf = chunk.slice();
      return;
    }
    const next = new Uint8Array(this.#buf.length + chunk.length);
    next.set(this.#buf);
    next.set(chunk, this.#buf.length);
    this.#buf = next;
  }

  /** Index and length of the first blank line (`\n\n` or `\r\n\r\n`), if any. */
  #headerEnd(): { at: number; len: number } | undefined {
    const b = this.#buf;
    for (let i = 0; i + 1 < b.length; i++) {
      if (b[i] !== LF) continue;
      if (b[i + 1] === LF) return { at: i, len: 2 };
      if (b[i + 1] === 0x0d && b[i + 2] === LF) return { at: i, len: 3 };
    }
    return undefined;
  }
}

/** A command could not be sent: the event socket is not connected. */
export class EslUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "EslUnavailableError";
  }
}

/** A command got no answer in time, or the connection dropped before its answer. */
export class EslTimeoutError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "EslTimeoutError";
  }
}

/** The command, checked: one line, not empty (a line break would inject a second command). */
export function checkCommand(command: string): string {
  if (/[\r\n]/.test(command)) throw new Error("Cannot send ESL command: it contains a line break");
  if (command.trim() === "") throw new Error("Cannot send ESL command: it is empty");
  return command;
}

/** The command's first word, for messages (arguments may carry personal data such as numbers). */
export function verb(command: string): string {
  return command.trim().split(/\s+/, 1)[0] ?? "";
}

/** Any thrown value as an Error. */
export function toError(e: unknown): Error {
  return e instanceof Error ? e : new Error(String(e));
}

/** Whether an ESL answer is a success (`+OK`). */
export function eslOk(reply: string): boolean {
  return reply.trimStart().startsWith("+OK");
}

/** The cause in an `-ERR CAUSE` answer (e.g. `USER_BUSY`), or "" for a success. */
export function eslErrorCause(reply: string): string {
  const m = reply.trim().match(/^-ERR\s*(.*)$/s);
  return m
    ? (m[1].split("\n")[0].trim() || "ERROR")
    : eslOk(reply)
    ? ""
    : reply.trim().slice(0, 100) || "ERROR";
}
