/**
 * `tom selfcheck [--url URL] [--timeout MS]`: asks the RUNNING appliance whether it is ready
 * (`GET /readyz`) and prints one line. Cheap enough to run every minute (tom-selfcheck.timer): one
 * loopback request, no engine started, no hardware probed (that is `tom doctor`), no call placed (that is
 * `tom probe`). Exit 0 when ready, 1 when not ready or unreachable, 2 on bad arguments.
 *
 * @module
 */
import type { Config } from "../../infra/mod.ts";

/** Arguments as typed on the command line (strings). */
export interface SelfcheckArgs {
  /** Base URL of TOM (default from `http.host`/`http.port`; a wildcard host is asked on loopback). */
  url?: string;
  /** Longest wait for the answer in ms (default 5000). */
  timeout?: string;
  /** Test seam: the fetch to use. */
  fetch?: typeof fetch;
}

/** The outcome of one check. */
export interface SelfcheckResult {
  ok: boolean;
  /** The one line printed: `ready (...)`, `not ready: ...` or `unreachable: ...`. */
  line: string;
}

/** The base URL `tom selfcheck` asks by default: the HTTP listener, on loopback if it listens on all. */
export function selfcheckUrl(config: Config): string {
  const h = config.http.host;
  const host = h === "0.0.0.0" ? "127.0.0.1" : h === "::" || h === "[::]" ? "[::1]" : h;
  return `http://${host.includes(":") && !host.startsWith("[") ? `[${host}]` : host}:${config.http.port}`;
}

/**
 * Ask `<base>/readyz` once.
 *
 * @param base TOM's base URL, e.g. `http://127.0.0.1:8080`
 * @param timeoutMs longest wait for the answer
 * @returns ready or not, and the line to print (reasons from TOM, never secrets)
 */
export async function selfcheck(
  base: string,
  timeoutMs: number,
  fetchFn: typeof fetch = fetch,
): Promise<SelfcheckResult> {
  const url = `${base.replace(/\/+$/, "")}/readyz`;
  let res: Response;
  try {
    res = await fetchFn(url, {
      signal: AbortSignal.timeout(timeoutMs),
      headers: { accept: "application/json" },
    });
  } catch (e) {
    const why = e instanceof DOMException && e.name === "TimeoutError"
      ? `no answer within ${timeoutMs} ms`
      : e instanceof Error
      ? e.message.split("\n")[0]
      : String(e);
    return { ok: false, line: `unreachable: ${url}: ${why}` };
  }
  const text = await res.text();
  let body: { status?: unknown; reasons?: unknown } = {};
  try {
    body = JSON.parse(text);
  } catch {
    // not TOM, or a proxy's error page: reported below by status
  }
  const reasons = Array.isArray(body.reasons) ? body.reasons.map(String) : [];
  if (res.status === 200 && body.status === "ready") return { ok: true, line: `ready (${url})` };
  if (body.status === "ready" || body.status === "not_ready") {
    return {
      ok: false,
      line: `not ready: ${reasons.length > 0 ? reasons.join("; ") : `HTTP ${res.status}`}`.slice(0, 500),
    };
  }
  return {
    ok: false,
    line: `unreachable: ${url} answered HTTP ${res.status} without TOM's readiness report`,
  };
}

/**
 * Run `tom selfcheck`: print one line, return the exit code.
 *
 * @param config the appliance's configuration (its address)
 * @param args command line arguments
 * @returns 0 ready, 1 not ready or unreachable, 2 bad arguments
 */
export async function selfcheckMain(config: Config, args: SelfcheckArgs): Promise<number> {
  const timeoutMs = args.timeout === undefined ? 5000 : Number(args.timeout);
  if (!Number.isInteger(timeoutMs) || timeoutMs < 100 || timeoutMs > 600_000) {
    console.error("tom selfcheck: --timeout must be a whole number of milliseconds from 100 to 600000");
    return 2;
  }
  const base = args.url ?? selfcheckUrl(config);
  if (!/^https?:\/\/[^/]+\/?$/.test(base)) {
    console.error(`tom selfcheck: --url must be a base URL like http://127.0.0.1:8080, got ${base}`);
    return 2;
  }
  const r = await selfcheck(base, timeoutMs, args.fetch);
  (r.ok ? console.log : console.error)(`tom selfcheck: ${r.line}`);
  return r.ok ? 0 : 1;
}
