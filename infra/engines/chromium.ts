/**
 * Headless Chromium for the admin UI's browser tests (not for serving: the appliance never runs a
 * browser). Debian's `chromium` package, installed with apt-get like the other test tools
 * ({@linkcode ensureTestTools}); the tests drive it with playwright-core, which never downloads a browser
 * of its own.
 *
 * @module
 */
import {
  ensureTestTools,
  type EnsureTestToolsOptions,
  type TestTool,
  testToolVersion,
} from "./test_tools.ts";

/** Where Debian installs Chromium. */
export const CHROMIUM_BIN = "/usr/bin/chromium";
/** The Debian package. */
export const CHROMIUM_PACKAGE = "chromium";

const CHROMIUM: TestTool = { command: CHROMIUM_BIN, package: CHROMIUM_PACKAGE, versionArgs: ["--version"] };

/** Chromium's version line, or undefined when it is not installed or does not start. */
export function chromiumVersion(): Promise<string | undefined> {
  return testToolVersion(CHROMIUM);
}

/** Options of {@linkcode ensureChromium}. */
export type EnsureChromiumOptions = Pick<EnsureTestToolsOptions, "install" | "onLine">;

/**
 * Make sure Debian's Chromium is installed (apt-get as root), for the browser tests.
 *
 * @returns its version line.
 * @throws {Error} naming the command to run when it is missing and cannot be installed here.
 */
export async function ensureChromium(opts: EnsureChromiumOptions = {}): Promise<string> {
  return (await ensureTestTools({ ...opts, tools: [CHROMIUM] }))[CHROMIUM_BIN];
}

if (import.meta.main) {
  console.log(await ensureChromium({ onLine: (l) => console.error(`tom: ${l}`) }));
}
