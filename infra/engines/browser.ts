/**
 * Headless Chromium for the admin UI's browser tests (not for serving: the appliance never runs a
 * browser). Debian's `chromium` package, installed with apt-get like the other engine packages; the
 * tests drive it with playwright-core, which never downloads a browser of its own.
 *
 * @module
 */

/** Where Debian installs Chromium. */
export const CHROMIUM_BIN = "/usr/bin/chromium";
/** The Debian package. */
export const CHROMIUM_PACKAGE = "chromium";

/** Chromium's version line, or undefined when it is not installed or does not start. */
export async function chromiumVersion(bin = CHROMIUM_BIN): Promise<string | undefined> {
  try {
    const out = await new Deno.Command(bin, {
      args: ["--version"],
      stdout: "piped",
      stderr: "null",
      stdin: "null",
    })
      .output();
    return out.success ? new TextDecoder().decode(out.stdout).trim() : undefined;
  } catch {
    return undefined;
  }
}

/** Options of {@linkcode ensureChromium}. */
export interface EnsureChromiumOptions {
  /** Install with apt-get when missing (default: when running as root). */
  install?: boolean;
  /** Progress lines. */
  onLine?: (line: string) => void;
}

/**
 * Make sure Debian's Chromium is installed (apt-get as root), for the browser tests.
 *
 * @returns its version line.
 * @throws {Error} naming the command to run when it is missing and cannot be installed here.
 */
export async function ensureChromium(opts: EnsureChromiumOptions = {}): Promise<string> {
  const found = await chromiumVersion();
  if (found) return found;
  const root = Deno.uid?.() === 0;
  if (!(opts.install ?? root)) {
    throw new Error(`Chromium is missing: install it as root with apt-get install -y ${CHROMIUM_PACKAGE}`);
  }
  const env = { DEBIAN_FRONTEND: "noninteractive" };
  for (
    const args of [["update", "-q"], ["install", "-y", "-q", "--no-install-recommends", CHROMIUM_PACKAGE]]
  ) {
    opts.onLine?.(`apt-get ${args.join(" ")}`);
    const r = await new Deno.Command("apt-get", { args, env, stdout: "null", stderr: "piped" }).output();
    if (!r.success) {
      throw new Error(
        `Cannot install Chromium: apt-get ${args[0]} failed: ${
          new TextDecoder().decode(r.stderr).slice(-500)
        }`,
      );
    }
  }
  const version = await chromiumVersion();
  if (!version) {
    throw new Error(`Cannot start Chromium after installing it: ${CHROMIUM_BIN} --version failed`);
  }
  return version;
}

if (import.meta.main) {
  console.log(await ensureChromium({ onLine: (l) => console.error(`tom: ${l}`) }));
}
