/**
 * Provision the Asterisk chroot for the end-to-end tests, with progress:
 *
 *   deno run --allow-all infra/asterisk/cli.ts [--dir DIR] [--quiet-if-cached]
 *
 * DIR defaults to `ASTERISK_CHROOT`, else `<TOM_ENGINES_DIR or ~/.cache/tom/engines>/asterisk-chroot`.
 * Exit code 0 when ready, 1 when a step failed (the message names it and the log file).
 *
 * @module
 */
import { parseArgs } from "node:util";
import { loadConfig } from "../config.ts";
import type { ProgressEvent } from "../engines/provision.ts";
import {
  asteriskProvisioned,
  AsteriskProvisionError,
  defaultAsteriskDir,
  provisionAsterisk,
} from "./provision.ts";

/** One line of progress for a terminal. */
export function formatAsteriskProgress(e: ProgressEvent): string {
  switch (e.kind) {
    case "step":
      return `tom asterisk [${e.index}/${e.total}] ${e.step}: ${e.note}`;
    case "skip":
      return `tom asterisk [${e.index}/${e.total}] ${e.step}: cached (${e.reason})`;
    case "tick":
      return `tom asterisk       ${e.step}: still working, ${Math.round(e.elapsedMs / 1000)} s`;
    case "done":
      return `tom asterisk       ${e.step}: done in ${(e.elapsedMs / 1000).toFixed(1)} s`;
  }
}

/** The chroot directory the CLI and the tests use. */
export function asteriskDir(): string {
  const env = Object.fromEntries(
    Object.entries(Deno.env.toObject()).filter(([k]) => k === "TOM_ENGINES_DIR" || !k.startsWith("TOM_")),
  );
  return defaultAsteriskDir(loadConfig({ env }).enginesDir);
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      dir: { type: "string" },
      "quiet-if-cached": { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    console.log(
      "Usage: deno run --allow-all infra/asterisk/cli.ts [--dir DIR] [--quiet-if-cached]\n\n" +
        "Builds a Debian sid chroot with Asterisk 22 (AudioSocket, chan_websocket) for the end-to-end tests.\n" +
        "Needs root and the Debian mirror; about 1 minute and 550 MB the first time.\n" +
        "DIR defaults to ASTERISK_CHROOT or <TOM_ENGINES_DIR>/asterisk-chroot.",
    );
    Deno.exit(0);
  }
  const dir = values.dir ?? asteriskDir();
  const cached = await asteriskProvisioned(dir);
  if (cached && values["quiet-if-cached"]) Deno.exit(0);
  const started = Date.now();
  console.error(`tom asterisk: provisioning into ${dir}`);
  try {
    const r = await provisionAsterisk({ dir, onProgress: (e) => console.error(formatAsteriskProgress(e)) });
    console.error(
      `tom asterisk: ${r.version} ready in ${((Date.now() - started) / 1000).toFixed(1)} s ` +
        `(${Math.round(r.bytes / 1e6)} MB)`,
    );
  } catch (e) {
    if (e instanceof AsteriskProvisionError) {
      console.error(`tom asterisk: ${e.message}`);
      Deno.exit(1);
    }
    throw e;
  }
}
