/**
 * Shared test helpers: run the `tom` CLI as a child process with a clean environment.
 *
 * @module
 */
import { join } from "node:path";

/** The repository root. */
export const ROOT: string = join(import.meta.dirname ?? ".", "..");
/** The CLI entry point. */
export const MAIN: string = join(ROOT, "main.ts");

/** The parent environment without any `TOM_*` variable, plus `extra`. */
export function cleanEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env = Object.fromEntries(Object.entries(Deno.env.toObject()).filter(([k]) => !k.startsWith("TOM_")));
  return { ...env, NO_COLOR: "1", ...extra };
}

/** Result of {@linkcode runTom}. */
export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Run `deno run [flags] main.ts ...args` to completion. */
export async function runTom(
  args: string[],
  env: Record<string, string> = {},
  flags: string[] = ["-A"],
): Promise<RunResult> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", ...flags, MAIN, ...args],
    env: cleanEnv(env),
    clearEnv: true,
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/** A free TCP port on loopback. */
export function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}
