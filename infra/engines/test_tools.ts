/**
 * Command-line tools only the tests need, to check the files TOM ships for deployment with the tools that
 * will read them: `promtool` (Prometheus rules), `xmllint` (FreeSWITCH XML) and `systemd-analyze`
 * (systemd units), and Chromium for the browser tests (chromium.ts). Debian packages, installed with apt-get.
 *
 * @module
 */

/** One tool: its command, the Debian package that has it, and how to ask its version. */
export interface TestTool {
  command: string;
  /** Debian package. */
  package: string;
  /** Arguments that print a version and exit 0. */
  versionArgs: string[];
}

/** The tools, in the order they are checked. */
export const TEST_TOOLS: readonly TestTool[] = [
  { command: "promtool", package: "prometheus", versionArgs: ["--version"] },
  { command: "xmllint", package: "libxml2-utils", versionArgs: ["--version"] },
  { command: "systemd-analyze", package: "systemd", versionArgs: ["--version"] },
];

/** A tool's first version line, or undefined when it is not installed or does not run. */
export async function testToolVersion(tool: TestTool): Promise<string | undefined> {
  try {
    const out = await new Deno.Command(tool.command, {
      args: tool.versionArgs,
      stdout: "piped",
      stderr: "piped",
      stdin: "null",
    }).output();
    if (!out.success) return undefined;
    // xmllint prints its version on stderr, promtool on stdout.
    const dec = new TextDecoder();
    const text = (dec.decode(out.stdout) + "\n" + dec.decode(out.stderr)).trim();
    return text.split("\n")[0].trim() || tool.command;
  } catch {
    return undefined;
  }
}

/** Options of {@linkcode ensureTestTools}. */
export interface EnsureTestToolsOptions {
  /** Install missing packages with apt-get (default: when running as root). */
  install?: boolean;
  /** Progress lines. */
  onLine?: (line: string) => void;
  /** The tools (default {@linkcode TEST_TOOLS}). */
  tools?: readonly TestTool[];
  /** Test seam: runs apt-get with these arguments. */
  aptGet?: (args: string[]) => Promise<{ success: boolean; stderr: string }>;
}

async function runAptGet(args: string[]): Promise<{ success: boolean; stderr: string }> {
  const r = await new Deno.Command("apt-get", {
    args,
    env: { DEBIAN_FRONTEND: "noninteractive" },
    stdout: "null",
    stderr: "piped",
    stdin: "null",
  }).output();
  return { success: r.success, stderr: new TextDecoder().decode(r.stderr) };
}

/**
 * Make sure every test tool runs, installing the missing ones' packages with apt-get as root (one
 * `apt-get update`, one `apt-get install --no-install-recommends`).
 *
 * @returns each tool's version line, by command
 * @throws {Error} naming the apt-get command to run when a tool is missing and cannot be installed here
 */
export async function ensureTestTools(opts: EnsureTestToolsOptions = {}): Promise<Record<string, string>> {
  const tools = opts.tools ?? TEST_TOOLS;
  const found: Record<string, string> = {};
  const missing: TestTool[] = [];
  for (const tool of tools) {
    const v = await testToolVersion(tool);
    if (v) found[tool.command] = v;
    else missing.push(tool);
  }
  if (missing.length === 0) return found;
  const packages = [...new Set(missing.map((t) => t.package))];
  const names = missing.map((t) => t.command).join(", ");
  const command = `apt-get install -y --no-install-recommends ${packages.join(" ")}`;
  if (!(opts.install ?? Deno.uid?.() === 0)) {
    throw new Error(`Test tools missing (${names}): install them as root with ${command}`);
  }
  const aptGet = opts.aptGet ?? runAptGet;
  for (const args of [["update", "-q"], ["install", "-y", "-q", "--no-install-recommends", ...packages]]) {
    opts.onLine?.(`apt-get ${args.join(" ")}`);
    const r = await aptGet(args);
    if (!r.success) {
      throw new Error(
        `Cannot install the test tools (${names}): apt-get ${args[0]} failed: ${r.stderr.slice(-500).trim()}`,
      );
    }
  }
  for (const tool of missing) {
    const v = await testToolVersion(tool);
    if (!v) {
      throw new Error(
        `Cannot run ${tool.command} after installing ${tool.package}: ${tool.command} ${
          tool.versionArgs.join(" ")
        } failed`,
      );
    }
    found[tool.command] = v;
  }
  return found;
}

/**
 * For a test that needs `command`: undefined when it runs here, else why not (the test then fails under
 * `CI=true` and skips elsewhere with this reason).
 */
export async function testToolMissing(command: string): Promise<string | undefined> {
  const tool = TEST_TOOLS.find((t) => t.command === command) ??
    { command, package: command, versionArgs: ["--version"] };
  if (await testToolVersion(tool)) return undefined;
  return `${command} is not installed (apt-get install -y --no-install-recommends ${tool.package}, ` +
    "or deno task engines --test-peers as root)";
}

if (import.meta.main) {
  const versions = await ensureTestTools({ onLine: (l) => console.error(`tom: ${l}`) });
  for (const [c, v] of Object.entries(versions)) console.log(`${c}: ${v}`);
}
