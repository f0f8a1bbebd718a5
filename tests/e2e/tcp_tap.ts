/**
 * A TCP tap for the Asterisk pacing test, run as its own process (so TOM's event loop cannot delay its
 * clock): listens on a free loopback port, forwards every connection to `--to`, and stamps each chunk TOM
 * sends back to Asterisk with the time it arrived. On SIGTERM or stdin EOF it writes, per connection,
 * `[{ "chunks": [[ms, base64], ...] }]` as JSON to `--out`, then exits.
 *
 *   deno run -A tests/e2e/tcp_tap.ts --to 9092 --out /tmp/tap.json   (prints the port it listens on)
 *
 * @module
 */
import { parseArgs } from "node:util";
import { encodeBase64 } from "../../gateway/audio/_base64.ts";

const args = parseArgs({ args: Deno.args, options: { to: { type: "string" }, out: { type: "string" } } });
const to = Number(args.values.to);
const out = args.values.out ?? "";
if (!(to > 0) || !out) {
  throw new Error(`Cannot tap: need --to PORT and --out FILE, got ${Deno.args.join(" ")}`);
}

const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
console.log(String((listener.addr as Deno.NetAddr).port));
const conns: { chunks: [number, string][] }[] = [];

async function pump(from: Deno.TcpConn, into: Deno.TcpConn, stamp?: [number, string][]): Promise<void> {
  const buf = new Uint8Array(64 * 1024);
  try {
    for (;;) {
      const n = await from.read(buf);
      if (n === null) break;
      const t = performance.timeOrigin + performance.now();
      if (stamp) stamp.push([t, encodeBase64(buf.subarray(0, n))]);
      let at = 0;
      while (at < n) at += await into.write(buf.subarray(at, n));
    }
  } catch {
    // either side went away
  }
  try {
    into.closeWrite();
  } catch {
    // closed
  }
}

(async () => {
  for await (const asterisk of listener) {
    const rec = { chunks: [] as [number, string][] };
    conns.push(rec);
    Deno.connect({ hostname: "127.0.0.1", port: to }).then((tom) => {
      tom.setNoDelay(true);
      asterisk.setNoDelay(true);
      Promise.all([pump(asterisk, tom), pump(tom, asterisk, rec.chunks)]).finally(() => {
        for (const c of [tom, asterisk]) {
          try {
            c.close();
          } catch {
            // closed
          }
        }
      });
    }, () => asterisk.close());
  }
})();

let done = false;
function finish(): void {
  if (done) return;
  done = true;
  Deno.writeTextFileSync(out, JSON.stringify(conns));
  Deno.exit(0);
}
Deno.addSignalListener("SIGTERM", finish);
(async () => {
  for await (const _ of Deno.stdin.readable) {
    // wait for EOF
  }
  finish();
})();
