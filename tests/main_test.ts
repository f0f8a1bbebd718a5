import assert from "node:assert/strict";
import { runTom } from "./_helpers.ts";

Deno.test("tom --help lists every command and configuration variable", async () => {
  const r = await runTom(["--help"]);
  assert.equal(r.code, 0, r.stderr);
  for (const c of ["serve", "migrate", "doctor", "token"]) {
    assert.match(r.stdout, new RegExp(`^  ${c} `, "m"));
  }
  assert.match(r.stdout, /TOM_HTTP_PORT/);
});

for (const command of ["serve", "migrate", "doctor", "token", "probe", "rl"]) {
  Deno.test(`tom ${command} --help prints that command's usage and exits 0`, async () => {
    const r = await runTom([command, "--help"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`Usage: tom ${command}`));
  });
}

Deno.test("an unknown command prints usage and exits 2", async () => {
  const r = await runTom(["frobnicate"]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /unknown command "frobnicate"/);
  assert.match(r.stderr, /Usage: tom \[COMMAND\]/);
});

Deno.test("an unknown flag prints the command's usage and exits 2", async () => {
  const r = await runTom(["doctor", "--jsonn"]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /Unknown option '--jsonn'/);
  assert.match(r.stderr, /Usage: tom doctor/);
  const r2 = await runTom(["--bogus"]);
  assert.equal(r2.code, 2);
  assert.match(r2.stderr, /Usage: tom serve/);
});

Deno.test("tom --version prints the version", async () => {
  const r = await runTom(["--version"]);
  assert.equal(r.code, 0);
  assert.match(r.stdout.trim(), /^\d+\.\d+\.\d+$/);
});

Deno.test("tom rl report lists the 12 shipped policy variants; a missing subcommand exits 2", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const r = await runTom(["rl", "report", "--json"], { TOM_DATA_DIR: dir });
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout);
    assert.equal(new Set(report.rows.map((row: { variantId: string }) => row.variantId)).size, 12);
    const bad = await runTom(["rl"], { TOM_DATA_DIR: dir });
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /expected the subcommand report/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
