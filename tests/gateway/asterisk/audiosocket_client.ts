/**
 * Test side of AudioSocket: a fake Asterisk that connects to TOM, sends messages and parses what comes
 * back; and a gateway harness with the AudioSocket server mounted.
 *
 * @module
 */
import {
  type AudioSocketMessage,
  AudioSocketParser,
  encodeAudio,
  encodeMessage,
  KIND,
  uuidBytes,
} from "../../../gateway/asterisk/audiosocket_wire.ts";
import {
  type AudioSocketOptions,
  type AudioSocketServer,
  startAudioSocketServer,
} from "../../../gateway/asterisk/audiosocket.ts";
import { type GatewayHarness, type HarnessOptions, startGateway } from "../server_harness.ts";

/** A gateway with the AudioSocket server on a free port. */
export async function startAudioSocketGateway(
  opts: HarnessOptions & { audioSocket?: AudioSocketOptions } = {},
): Promise<GatewayHarness & { audioSocket: AudioSocketServer }> {
  let server: AudioSocketServer | undefined;
  const gw = await startGateway({
    ...opts,
    transports: [
      ...(opts.transports ?? []),
      async (
        _app,
        deps,
        guard,
      ) => (server = await startAudioSocketServer(deps, guard, {
        port: 0,
        formatWaitMs: 20,
        ...opts.audioSocket,
      })),
    ],
  });
  return Object.assign(gw, { audioSocket: server as AudioSocketServer });
}

/** Messages Asterisk sends. */
export const msg = {
  uuid: (uuid: string): Uint8Array => encodeMessage(KIND.uuid, uuidBytes(uuid)),
  dtmf: (digit: string): Uint8Array => encodeMessage(KIND.dtmf, new TextEncoder().encode(digit)),
  audio: (kind: number, pcm: Int16Array): Uint8Array => encodeAudio(kind, pcm),
  hangup: (): Uint8Array => encodeMessage(KIND.hangup),
  error: (code: number): Uint8Array => encodeMessage(KIND.error, new Uint8Array([code])),
};

/** A fake Asterisk on one AudioSocket connection. */
export class FakeAsterisk {
  readonly messages: AudioSocketMessage[] = [];
  /** Resolves when TOM closes the connection (or it fails). */
  readonly closed: Promise<void>;
  #conn: Deno.TcpConn;
  #ended = false;
  #waiters: (() => void)[] = [];

  private constructor(conn: Deno.TcpConn) {
    this.#conn = conn;
    this.closed = this.#read();
  }

  static async connect(port: number): Promise<FakeAsterisk> {
    return new FakeAsterisk(await Deno.connect({ hostname: "127.0.0.1", port }));
  }

  /** Whether TOM has closed the connection. */
  get ended(): boolean {
    return this.#ended;
  }

  /** The audio messages received. */
  get audio(): Extract<AudioSocketMessage, { kind: "audio" }>[] {
    return this.messages.filter((m): m is Extract<AudioSocketMessage, { kind: "audio" }> =>
      m.kind === "audio"
    );
  }

  /** Whether TOM sent the hang-up message. */
  get hungUp(): boolean {
    return this.messages.some((m) => m.kind === "hangup");
  }

  async #read(): Promise<void> {
    const parser = new AudioSocketParser();
    const buf = new Uint8Array(65536);
    try {
      for (;;) {
        const n = await this.#conn.read(buf);
        if (n === null) break;
        this.messages.push(...parser.push(buf.subarray(0, n)));
        this.#wake();
      }
    } catch {
      // reset by TOM
    } finally {
      this.#ended = true;
      this.#wake();
      try {
        this.#conn.close();
      } catch {
        // closed
      }
    }
  }

  #wake(): void {
    for (const w of this.#waiters.splice(0)) w();
  }

  /** Send raw bytes (ignored once TOM has closed). */
  async send(...parts: Uint8Array[]): Promise<void> {
    for (const p of parts) {
      let at = 0;
      try {
        while (at < p.length) at += await this.#conn.write(p.subarray(at));
      } catch {
        return;
      }
    }
  }

  /** Wait until `cond()` holds or the connection ended; throws after `timeoutMs`. */
  async until(cond: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    while (!cond()) {
      if (this.#ended && !cond()) throw new Error(`Connection ended while waiting for ${what}`);
      const left = deadline - performance.now();
      if (left <= 0) throw new Error(`Timed out waiting for ${what}`);
      let timer: ReturnType<typeof setTimeout> | undefined;
      await new Promise<void>((r) => {
        this.#waiters.push(r);
        timer = setTimeout(r, Math.min(left, 100));
      });
      clearTimeout(timer);
    }
  }

  /** Close from Asterisk's side and wait for the reader to finish. */
  async close(): Promise<void> {
    try {
      this.#conn.close();
    } catch {
      // closed
    }
    await this.closed;
  }
}
