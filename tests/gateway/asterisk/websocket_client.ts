/**
 * Test side of chan_websocket: a fake Asterisk that connects to `WS /ws/asterisk` with subprotocol
 * `media`, sends control messages and media, and records TOM's commands and frames; and a gateway
 * harness with the route mounted.
 *
 * @module
 */
import {
  type AsteriskWebSocketOptions,
  mountAsteriskWebSocket,
} from "../../../gateway/asterisk/websocket.ts";
import { type GatewayHarness, type HarnessOptions, startGateway } from "../server_harness.ts";

/** A gateway with `/ws/asterisk` mounted. */
export function startAsteriskWsGateway(
  opts: HarnessOptions & { asterisk?: AsteriskWebSocketOptions } = {},
): Promise<GatewayHarness> {
  return startGateway({
    ...opts,
    transports: [
      ...(opts.transports ?? []),
      (app, deps, guard) => mountAsteriskWebSocket(app, deps, guard, opts.asterisk),
    ],
  });
}

/** `MEDIA_START` as Asterisk 22.10 sends it. */
export function mediaStart(format = "ulaw", frameSize = 160, json = false): string {
  const f = {
    connection_id: "tom",
    channel: "WebSocket/tom/0x7f4aa4003a20",
    channel_id: "1795280779.4",
    format,
    optimal_frame_size: frameSize,
    ptime: 20,
  };
  return json
    ? JSON.stringify({ event: "MEDIA_START", ...f })
    : `MEDIA_START ${Object.entries(f).map(([k, v]) => `${k}:${v}`).join(" ")}`;
}

/** A fake Asterisk on one chan_websocket connection. */
export class FakeChanWebSocket {
  readonly socket: WebSocket;
  /** TEXT messages from TOM (commands). */
  readonly commands: string[] = [];
  /** BINARY messages from TOM (media). */
  readonly frames: Uint8Array[] = [];
  readonly opened: Promise<void>;
  readonly closed: Promise<CloseEvent>;
  #waiters: (() => void)[] = [];

  constructor(url: string, protocols: string[] = ["media"]) {
    this.socket = new WebSocket(url, protocols);
    this.socket.binaryType = "arraybuffer";
    this.opened = new Promise((resolve, reject) => {
      this.socket.addEventListener("open", () => resolve());
      this.socket.addEventListener("error", () => reject(new Error("WebSocket failed to open")));
    });
    this.opened.catch(() => {});
    this.closed = new Promise((resolve) => this.socket.addEventListener("close", resolve));
    this.socket.addEventListener("message", (ev) => {
      if (typeof ev.data === "string") this.commands.push(ev.data);
      else this.frames.push(new Uint8Array(ev.data as ArrayBuffer));
      this.#wake();
    });
    this.socket.addEventListener("close", () => this.#wake());
  }

  #wake(): void {
    for (const w of this.#waiters.splice(0)) w();
  }

  /** Bytes of media received. */
  get mediaBytes(): number {
    return this.frames.reduce((n, f) => n + f.length, 0);
  }

  send(data: string | Uint8Array): void {
    if (this.socket.readyState === WebSocket.OPEN) this.socket.send(data);
  }

  /** Wait until `cond()` holds; throws after `timeoutMs` or when the socket closed first. */
  async until(cond: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    while (!cond()) {
      if (this.socket.readyState === WebSocket.CLOSED) {
        throw new Error(`Socket closed while waiting for ${what}`);
      }
      const left = deadline - performance.now();
      if (left <= 0) throw new Error(`Timed out waiting for ${what}; commands: ${this.commands.join(" | ")}`);
      let timer: ReturnType<typeof setTimeout> | undefined;
      await new Promise<void>((r) => {
        this.#waiters.push(r);
        timer = setTimeout(r, Math.min(left, 100));
      });
      clearTimeout(timer);
    }
  }

  async close(): Promise<CloseEvent> {
    if (this.socket.readyState === WebSocket.OPEN || this.socket.readyState === WebSocket.CONNECTING) {
      try {
        this.socket.close(1000);
      } catch {
        // closing
      }
    }
    return await this.closed;
  }
}
