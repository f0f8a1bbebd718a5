/**
 * `deno task bench`: every benchmark, each printing its own table with a baseline from the same run.
 *
 * @module
 */
const here = import.meta.dirname ?? ".";
const benches = [...Deno.readDirSync(here)].filter((e) => e.isFile && e.name.endsWith("_bench.ts")).map((e) =>
  e.name
)
  .sort();
let failed = 0;
for (const name of benches) {
  console.log(`\n## ${name}\n`);
  const status = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `${here}/${name}`, ...Deno.args],
    stdout: "inherit",
    stderr: "inherit",
  }).spawn().status;
  if (!status.success) failed++;
}
Deno.exit(failed === 0 ? 0 : 1);
