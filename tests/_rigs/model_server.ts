/**
 * A local HTTP/1.1 model server for the `tom models` tests: serves generated files by name and plays one
 * fault at a time: `drop-once` (the first full-body answer closes the connection halfway), `no-range`
 * (ignores Range and always sends the whole file with 200), or a 404 for a name it does not hold. Raw TCP,
 * so a dropped connection is exactly that. It records each request's path, method and Range header.
 *
 * @module
 */

import { gzipSync } from "node:zlib";
import tarStream from "tar-stream";

/** What the server does wrong. */
export type ModelServerFault = "none" | "drop-once" | "no-range";

/** One request as the server saw it. */
export interface SeenRequest {
  method: string;
  path: string;
  range?: string;
}

/** A running model server. */
export interface ModelServer {
  /** Base URL without a trailing slash: files are at `${url}/${name}`. */
  url: string;
  requests: SeenRequest[];
  fault: ModelServerFault;
  close(): Promise<void>;
}

/** Deterministic pseudo-random bytes (xorshift), so sizes and checksums are reproducible. */
export function generatedBytes(n: number, seed = 1): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

const enc = new TextEncoder();

async function readHead(conn: Deno.Conn): Promise<string | undefined> {
  const buf = new Uint8Array(8192);
  let text = "";
  while (!text.includes("\r\n\r\n")) {
    const n = await conn.read(buf);
    if (n === null) return undefined;
    text += new TextDecoder().decode(buf.subarray(0, n));
  }
  return text;
}

async function writeAll(conn: Deno.Conn, data: Uint8Array): Promise<void> {
  let off = 0;
  while (off < data.byteLength) off += await conn.write(data.subarray(off));
}

/** Serve `files` on 127.0.0.1 (a free port). */
export function startModelServer(
  files: Record<string, Uint8Array>,
  fault: ModelServerFault = "none",
): ModelServer {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const state: ModelServer = {
    url: `http://127.0.0.1:${(listener.addr as Deno.NetAddr).port}`,
    requests: [],
    fault,
    close: async () => {
      listener.close();
      await loop.catch(() => {});
    },
  };
  let dropped = false;
  const handle = async (conn: Deno.Conn) => {
    try {
      const head = await readHead(conn);
      if (!head) return;
      const [line, ...headerLines] = head.split("\r\n");
      const [method, path] = line.split(" ");
      const range = headerLines.find((h) => /^range:/i.test(h))?.split(":")[1]?.trim();
      state.requests.push({ method, path, ...(range ? { range } : {}) });
      const body = files[decodeURIComponent(path.replace(/^\//, ""))];
      if (!body) {
        await writeAll(
          conn,
          enc.encode("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"),
        );
        return;
      }
      const m = range && state.fault !== "no-range" ? /^bytes=(\d+)-$/.exec(range) : null;
      const start = m ? Number(m[1]) : 0;
      if (m && start >= body.byteLength) {
        await writeAll(
          conn,
          enc.encode(
            `HTTP/1.1 416 Range Not Satisfiable\r\nContent-Range: bytes */${body.byteLength}\r\n` +
              "Content-Length: 0\r\nConnection: close\r\n\r\n",
          ),
        );
        return;
      }
      const part = body.subarray(start);
      const status = m ? "206 Partial Content" : "200 OK";
      const extra = m ? `Content-Range: bytes ${start}-${body.byteLength - 1}/${body.byteLength}\r\n` : "";
      await writeAll(
        conn,
        enc.encode(
          `HTTP/1.1 ${status}\r\nContent-Type: application/octet-stream\r\nContent-Length: ` +
            `${part.byteLength}\r\n${state.fault === "no-range" ? "" : "Accept-Ranges: bytes\r\n"}${extra}` +
            "Connection: close\r\n\r\n",
        ),
      );
      if (method === "HEAD") return;
      if (state.fault === "drop-once" && !dropped && start === 0) {
        dropped = true;
        await writeAll(conn, part.subarray(0, Math.floor(part.byteLength / 2)));
        return; // the connection closes with half the promised body
      }
      await writeAll(conn, part);
    } catch {
      // the client went away
    } finally {
      try {
        conn.close();
      } catch { /* closed */ }
    }
  };
  const loop = (async () => {
    for await (const conn of listener) handle(conn);
  })();
  return state;
}

/** One member of a generated archive. */
export type ArchiveItem = {
  name: string;
  type?: "file" | "directory" | "symlink" | "link";
  linkname?: string;
  body?: string;
};

/** A .tar.gz of the given members (mode 0755), as a release archive would be. */
export async function tarGz(items: ArchiveItem[]): Promise<Uint8Array> {
  const pack = tarStream.pack();
  const chunks: Uint8Array[] = [];
  const done = new Promise<void>((r) => pack.on("end", () => r()));
  pack.on("data", (c: unknown) => chunks.push(c as Uint8Array));
  for (const i of items) {
    pack.entry({ name: i.name, type: i.type ?? "file", linkname: i.linkname, mode: 0o755 }, i.body ?? "");
  }
  pack.finalize();
  await done;
  const all = new Uint8Array(chunks.reduce((s, c) => s + c.byteLength, 0));
  let off = 0;
  for (const c of chunks) (all.set(c, off), off += c.byteLength);
  return new Uint8Array(gzipSync(all));
}
