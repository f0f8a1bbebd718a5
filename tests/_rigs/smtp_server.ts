/**
 * A real SMTP server for tests: the npm `smtp-server` package (nodemailer's server library) in its own
 * Deno process, plain text (no STARTTLS), any or no login accepted. Run as a script it listens on
 * 127.0.0.1:PORT, prints `LISTENING <port>` and then one JSON line per received message
 * (`{ from, to, raw }`, the envelope and the message as sent) on stdout.
 *
 * Tests use {@linkcode startSmtpServer}, which spawns that process and collects what it prints.
 *
 * Usage: deno run --allow-net=127.0.0.1 --allow-env --allow-read --allow-sys tests/_rigs/smtp_server.ts PORT
 *
 * @module
 */
import { SMTPServer } from "smtp-server";

/** One message as the server received it. */
export interface ReceivedMail {
  from: string;
  to: string[];
  raw: string;
}

/** A running server process. */
export interface SmtpServerProcess {
  port: number;
  /** Messages received so far, in order. */
  messages: ReceivedMail[];
  /** Resolve once `count` messages arrived; reject after `timeoutMs` (a hung test, not a timing check). */
  waitFor(count: number, timeoutMs?: number): Promise<ReceivedMail[]>;
  /** Kill the process and wait for it. */
  close(): Promise<void>;
}

/** Spawn the server process on `port` and wait until it listens. */
export async function startSmtpServer(port: number): Promise<SmtpServerProcess> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-net=127.0.0.1",
      "--allow-env",
      "--allow-read",
      "--allow-sys",
      new URL(import.meta.url).pathname,
      String(port),
    ],
    stdin: "null",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const messages: ReceivedMail[] = [];
  const waiters = new Set<() => void>();
  let listening: (() => void) | undefined;
  const listened = new Promise<void>((resolve) => (listening = resolve));
  const reading = (async () => {
    let buffered = "";
    const dec = new TextDecoder();
    for await (const chunk of child.stdout) {
      buffered += dec.decode(chunk, { stream: true });
      let nl;
      while ((nl = buffered.indexOf("\n")) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        if (line.startsWith("LISTENING ")) listening?.();
        else if (line.startsWith("{")) {
          messages.push(JSON.parse(line));
          for (const w of waiters) w();
        }
      }
    }
  })();
  const exited = child.status.then((s) => {
    throw new Error(`SMTP server process exited before listening (code ${s.code})`);
  });
  try {
    await Promise.race([listened, exited]);
  } catch (e) {
    await reading;
    throw e;
  }
  exited.catch(() => {});
  return {
    port,
    messages,
    waitFor(count, timeoutMs = 30_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (messages.length < count) return;
          waiters.delete(check);
          clearTimeout(timer);
          resolve(messages.slice(0, count));
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`Expected ${count} mails, got ${messages.length}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    async close() {
      try {
        child.kill("SIGKILL");
      } catch { /* already gone */ }
      await child.status;
      await reading;
    },
  };
}

if (import.meta.main) {
  const port = Number(Deno.args[0]);
  const server = new SMTPServer({
    authOptional: true,
    allowInsecureAuth: true,
    disabledCommands: ["STARTTLS"],
    logger: false,
    onAuth(_auth, _session, callback) {
      callback(null, { user: "tom" });
    },
    onData(stream, session, callback) {
      const chunks: Uint8Array[] = [];
      stream.on("data", (c: Uint8Array) => chunks.push(c));
      stream.on("end", () => {
        const raw = new TextDecoder().decode(
          chunks.reduce((all, c) => {
            const next = new Uint8Array(all.length + c.length);
            next.set(all);
            next.set(c, all.length);
            return next;
          }, new Uint8Array()),
        );
        const from = session.envelope.mailFrom ? session.envelope.mailFrom.address : "";
        console.log(JSON.stringify({ from, to: session.envelope.rcptTo.map((r) => r.address), raw }));
        callback();
      });
    },
  });
  server.listen(port, "127.0.0.1", () => console.log(`LISTENING ${port}`));
}
