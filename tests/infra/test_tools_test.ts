import assert from "node:assert/strict";
import { join } from "node:path";
import {
  ensureTestTools,
  TEST_TOOLS,
  type TestTool,
  testToolMissing,
  testToolVersion,
} from "../../infra/engines/test_tools.ts";

const CI = Deno.env.get("CI") === "true";
const absent = (await Promise.all(TEST_TOOLS.map(async (t) => (await testToolVersion(t)) ? [] : [t.command])))
  .flat();
if (absent.length > 0 && !CI) {
  console.error(`skipping the installed-tools test: missing ${absent.join(", ")}`);
}

Deno.test({
  name: "the deployment tests' tools run here: promtool, xmllint, systemd-analyze",
  ignore: absent.length > 0 && !CI,
  async fn() {
    const versions = await ensureTestTools({ install: false });
    assert.deepEqual(Object.keys(versions).sort(), ["promtool", "systemd-analyze", "xmllint"]);
    assert.match(versions.promtool, /^promtool, version \d/);
    assert.match(versions.xmllint, /using libxml version \d/);
    assert.match(versions["systemd-analyze"], /^systemd \d+/);
    assert.equal(await testToolMissing("xmllint"), undefined);
  },
});

/** A tool that exists only once `install` has written its script. */
function fakeTool(dir: string, name: string): TestTool & { install: () => Promise<void> } {
  const command = join(dir, name);
  return {
    command,
    package: `pkg-${name}`,
    versionArgs: ["--version"],
    install: async () => {
      await Deno.writeTextFile(command, `#!/bin/sh\necho "${name} 1.2.3"\n`);
      await Deno.chmod(command, 0o755);
    },
  };
}

Deno.test("a missing test tool names the apt-get command when it may not install", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const tool = fakeTool(dir, "lint-a");
    await assert.rejects(
      ensureTestTools({ install: false, tools: [tool] }),
      (e: Error) => {
        assert.equal(
          e.message,
          `Test tools missing (${tool.command}): install them as root with ` +
            "apt-get install -y --no-install-recommends pkg-lint-a",
        );
        return true;
      },
    );
    assert.match(
      (await testToolMissing(join(dir, "nope"))) ?? "",
      /nope is not installed \(apt-get install -y --no-install-recommends .*nope/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("missing test tools are installed with one apt-get update and one no-recommends install", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const a = fakeTool(dir, "lint-a");
    const b = fakeTool(dir, "lint-b");
    await b.install(); // already there: not installed again
    const calls: string[][] = [];
    const versions = await ensureTestTools({
      install: true,
      tools: [a, b],
      aptGet: async (args) => {
        calls.push(args);
        if (args[0] === "install") await a.install();
        return { success: true, stderr: "" };
      },
    });
    assert.deepEqual(calls, [["update", "-q"], [
      "install",
      "-y",
      "-q",
      "--no-install-recommends",
      "pkg-lint-a",
    ]]);
    assert.deepEqual(versions, { [a.command]: "lint-a 1.2.3", [b.command]: "lint-b 1.2.3" });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a failed apt-get or a tool that still does not run is a clear error", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const a = fakeTool(dir, "lint-a");
    await assert.rejects(
      ensureTestTools({
        install: true,
        tools: [a],
        aptGet: (args) =>
          Promise.resolve(
            args[0] === "install"
              ? { success: false, stderr: "E: Unable to locate package pkg-lint-a\n" }
              : { success: true, stderr: "" },
          ),
      }),
      /Cannot install the test tools \(.*lint-a\): apt-get install failed: E: Unable to locate package pkg-lint-a$/,
    );
    await assert.rejects(
      ensureTestTools({
        install: true,
        tools: [a],
        aptGet: () => Promise.resolve({ success: true, stderr: "" }),
      }),
      /Cannot run .*lint-a after installing pkg-lint-a: .*lint-a --version failed/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
