/**
 * The part of the `ws` library (8.x) that infra/http_server.ts uses, declared here instead of taking
 * `@types/ws`: that package pulls `@types/node` into the graph, and `deno compile` would embed it in the
 * binary. Shapes follow ws's documentation (doc/ws.md): `WebSocketServer({ noServer, maxPayload, ... })`,
 * `handleUpgrade`, and the server-side `WebSocket` (an EventEmitter with `ping`, `terminate`, `binaryType`).
 */
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import type { Buffer } from "node:buffer";

/** A server-side connection. */
export interface WebSocket {
  binaryType: "nodebuffer" | "arraybuffer" | "fragments";
  ping(): void;
  terminate(): void;
  emit(event: string, ...args: unknown[]): boolean;
  on(event: "message" | "pong" | "ping" | "close", listener: (...args: unknown[]) => void): this;
  on(event: "error", listener: (e: Error & { code?: string }) => void): this;
}

/** Options of a server that only completes upgrades it is handed. */
export interface ServerOptions {
  noServer: true;
  clientTracking?: boolean;
  perMessageDeflate?: boolean;
  maxPayload?: number;
  handleProtocols?: (protocols: Set<string>, request: IncomingMessage) => string | false;
}

/** The server: `handleUpgrade` finishes the handshake on the socket and hands over the connection. */
export class WebSocketServer {
  constructor(options: ServerOptions);
  handleUpgrade(
    request: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    callback: (ws: WebSocket, request: IncomingMessage) => void,
  ): void;
}
