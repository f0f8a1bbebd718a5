import assert from "node:assert/strict";
import { join } from "node:path";
import { ROOT } from "../_helpers.ts";

const FIXTURE = join(ROOT, "tests", "ui", "fixtures", "sandboxed_mount.ts");

async function run(dataDir: string, prebuilt: string) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--no-prompt",
      "--allow-read",
      `--allow-write=${dataDir}`,
      "--allow-env",
      "--allow-sys",
      "--allow-run=sox",
      FIXTURE,
      dataDir,
      prebuilt,
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
  return JSON.parse(new TextDecoder().decode(out.stdout)) as { url: string | null; errors: string[] };
}

Deno.test("under the egress sandbox (no deno to run) the UI serves prebuilt islands, or pages without scripts", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "tom-ui-sandbox-" });
  try {
    const prebuilt = join(dataDir, "dist");
    const build = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        join(ROOT, "ui", "islands_build.ts"),
        "--cache",
        join(dataDir, "build-cache"),
        "--out",
        prebuilt,
      ],
      stdout: "null",
      stderr: "piped",
    }).output();
    assert.ok(build.success, new TextDecoder().decode(build.stderr));
    const withDist = await run(dataDir, prebuilt);
    assert.match(withDist.url ?? "", /^\/ui\/i\/[0-9a-f]{16}\/TestCall\.js$/);
    assert.deepEqual(withDist.errors, []);
    const without = await run(dataDir, "");
    assert.equal(without.url, null);
    assert.match(without.errors.join(), /could not be bundled/);
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});
