/**
 * The Asterisk Manager Interface (AMI) wire format: after a one-line banner (`Asterisk Call Manager/9.0.0`),
 * every message is a block of `Key: value` lines ended by CRLF and closed by an empty line. Actions go out
 * in the same shape. TCP delivers bytes in arbitrary pieces: {@linkcode AmiParser} yields whole messages
 * however they were split or coalesced.
 *
 * Bounded: a line longer than {@linkcode MAX_AMI_LINE_BYTES} or a message with more than
 * {@linkcode MAX_AMI_FIELDS} lines makes the parser fail (the client then drops the connection), so a peer
 * that sends garbage or endless lines cannot grow TOM's memory.
 *
 * @module
 */

/** One AMI message: a response (`Response`), an event (`Event`) or the banner (`Banner`). */
export type AmiMessage = Record<string, string>;

/** The longest line accepted (Asterisk's own lines stay far below; a dialplan variable could be long). */
export const MAX_AMI_LINE_BYTES = 16 * 1024;
/** The most lines one message may have. */
export const MAX_AMI_FIELDS = 512;

const LF = 0x0a;
const decoder = new TextDecoder();
const encoder = new TextEncoder();

/** Splits the AMI byte stream into messages. */
export class AmiParser {
  #buf = new Uint8Array(0);
  #fields: AmiMessage = {};
  #count = 0;
  #banner = true;
  #error: Error | undefined;

  /** Why the stream is not AMI (set once; then `push` returns nothing). */
  get error(): Error | undefined {
    return this.#error;
  }

  /** Feed received bytes; returns the messages completed by them, in order. */
  push(chunk: Uint8Array): AmiMessage[] {
    if (this.#error) return [];
    const buf = new Uint8Array(this.#buf.length + chunk.length);
    buf.set(this.#buf);
    buf.set(chunk, this.#buf.length);
    const out: AmiMessage[] = [];
    let at = 0;
    for (;;) {
      const nl = buf.indexOf(LF, at);
      if (nl < 0) break;
      if (nl - at > MAX_AMI_LINE_BYTES) return this.#fail(`a line exceeds ${MAX_AMI_LINE_BYTES} bytes`);
      const line = decoder.decode(buf.subarray(at, nl > at && buf[nl - 1] === 0x0d ? nl - 1 : nl));
      at = nl + 1;
      const m = this.#line(line);
      if (this.#error) return [];
      if (m) out.push(m);
    }
    this.#buf = buf.slice(at);
    if (this.#buf.length > MAX_AMI_LINE_BYTES) {
      return this.#fail(`a line exceeds ${MAX_AMI_LINE_BYTES} bytes`);
    }
    return out;
  }

  #line(line: string): AmiMessage | undefined {
    if (this.#banner) {
      this.#banner = false;
      if (!/^Asterisk Call Manager\//.test(line)) {
        this.#fail("no AMI banner");
        return undefined;
      }
      return { Banner: line };
    }
    if (line === "") {
      if (this.#count === 0) return undefined; // stray blank line
      const m = this.#fields;
      this.#fields = {};
      this.#count = 0;
      return m;
    }
    if (++this.#count > MAX_AMI_FIELDS) {
      this.#fail(`a message has more than ${MAX_AMI_FIELDS} lines`);
      return undefined;
    }
    const colon = line.indexOf(":");
    if (colon <= 0) return undefined; // not a field (some Asterisk outputs carry free text): skip it
    const key = line.slice(0, colon).trim();
    const value = line.slice(colon + 1).trimStart();
    // A repeated key (ChanVariable, Output) keeps every value, one per line.
    this.#fields[key] = key in this.#fields ? `${this.#fields[key]}\n${value}` : value;
    return undefined;
  }

  #fail(why: string): AmiMessage[] {
    this.#error = new Error(`Cannot parse AMI: ${why}`);
    this.#buf = new Uint8Array(0);
    this.#fields = {};
    return [];
  }
}

/**
 * Encode an action. Keys must be words and values single lines: nothing TOM sends can inject a second
 * header or a second action.
 *
 * @throws {RangeError} on a key that is not a word or a value with CR, LF or NUL
 */
export function encodeAction(fields: Record<string, string>): Uint8Array {
  let text = "";
  for (const [k, v] of Object.entries(fields)) {
    if (!/^[A-Za-z][A-Za-z0-9_-]{0,63}$/.test(k)) {
      throw new RangeError(`Cannot send AMI key ${JSON.stringify(k)}`);
    }
    if (/[\r\n\0]/.test(v) || v.length > 1024) throw new RangeError(`Cannot send the value of AMI key ${k}`);
    text += `${k}: ${v}\r\n`;
  }
  return encoder.encode(text + "\r\n");
}

/** Raised when AMI is not connected and logged in (the action is not queued). */
export class AmiUnavailableError extends Error {
  constructor(why: string) {
    super(`Asterisk manager interface unavailable: ${why}`);
    this.name = "AmiUnavailableError";
  }
}

/** Raised when an action's response does not come in time. */
export class AmiTimeoutError extends Error {
  constructor(action: string, ms: number) {
    super(`AMI action ${action} got no response within ${ms} ms`);
    this.name = "AmiTimeoutError";
  }
}
