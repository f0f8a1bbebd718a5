/**
 * `deno task compile`: build the single `tom` executable with the egress policy's permission flags baked
 * in (from the configuration at build time: set `TOM_EGRESS_*`, `TOM_STT_URL`, `TOM_LLM_URL` before
 * compiling). Honours `DENORT_BIN` (Deno reads it itself) for machines that cannot download the runtime.
 *
 * Usage: compile.ts [--output FILE] [--target TRIPLE]
 *
 * @module
 */
import { parseArgs } from "node:util";
import { join } from "node:path";
import { loadConfig } from "./config.ts";
import { servePermissionFlags } from "./permissions.ts";

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: { output: { type: "string", default: "tom" }, target: { type: "string" } },
  });
  const config = loadConfig();
  const root = join(import.meta.dirname ?? ".", "..");
  // The admin UI's island bundles are built now and embedded: the binary cannot run `deno bundle`.
  const islands = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "ui/islands_build.ts", "--out", ".cache/ui-dist"],
    cwd: root,
    stdout: "null",
    stderr: "inherit",
  }).output();
  if (!islands.success) {
    console.error("tom compile: bundling the admin UI's islands failed");
    Deno.exit(1);
  }
  const args = [
    "compile",
    ...servePermissionFlags(config),
    "--include",
    "infra/engines/synth_whisper.py",
    "--include",
    "infra/engines/synth_llama.py",
    "--include",
    ".cache/ui-dist",
    "--output",
    values.output,
    ...(values.target ? ["--target", values.target] : []),
    "main.ts",
  ];
  console.error(`tom compile: deno ${args.join(" ")}`);
  if (Deno.env.get("DENORT_BIN")) {
    console.error(`tom compile: runtime base from DENORT_BIN=${Deno.env.get("DENORT_BIN")}`);
  }
  const status = await new Deno.Command(Deno.execPath(), {
    args,
    cwd: root,
    stdout: "inherit",
    stderr: "inherit",
  })
    .spawn().status;
  Deno.exit(status.code);
}
