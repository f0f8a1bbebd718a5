/**
 * The layout check (tests/_rigs/layout_check.ts) on the real tree and on planted violations: the rule of
 * DESIGN.md "Layout" holds, and a bad import is reported with its file and the import.
 *
 * @module
 */
import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import {
  checkImport,
  checkLayout,
  checkModOnlyReexports,
  checkNames,
  checkSql,
  findCycles,
  formatViolation,
  SAME_MEANING,
  sourceFiles,
  type Violation,
} from "./_rigs/layout_check.ts";

const ROOT = join(import.meta.dirname as string, "..");

Deno.test("the tree keeps the dependency rule of DESIGN.md (direction, mod.ts faces, no cycle, no SQL outside store/, one meaning per file name)", async () => {
  const violations = await checkLayout(ROOT);
  assert.deepEqual(violations.map(formatViolation), []);
});

/** A copy of the tree's source files (plus deno.json and deno.lock) in a temporary folder. */
async function copyTree(): Promise<string> {
  const tmp = await Deno.makeTempDir({ prefix: "tom-layout-plant-" });
  for (const f of [...sourceFiles(ROOT), "deno.json", "deno.lock"]) {
    await Deno.mkdir(join(tmp, dirname(f)), { recursive: true });
    await Deno.copyFile(join(ROOT, f), join(tmp, f));
  }
  return tmp;
}

const key = (v: Violation): string => formatViolation(v);

Deno.test("a planted upward import, a bypassed mod.ts, a cycle and SQL outside store/ fail the check by name", async () => {
  const tmp = await copyTree();
  try {
    const before = new Set((await checkLayout(tmp)).map(key));
    // Planted: store/ (below gateway/) imports the gateway's face; a new file imports a private store file
    // around the face and forms a cycle with a second one; SQL in rl/.
    await Deno.writeTextFile(
      join(tmp, "store", "planted_up.ts"),
      `import "../gateway/mod.ts";\nexport const up = 1;\n`,
    );
    await Deno.writeTextFile(
      join(tmp, "rl", "planted_a.ts"),
      `import { b } from "./planted_b.ts";\nimport "../store/db.ts";\nexport const a = () => b;\n` +
        `export const q = "SELECT id FROM calls";\n`,
    );
    await Deno.writeTextFile(
      join(tmp, "rl", "planted_b.ts"),
      `import { a } from "./planted_a.ts";\nexport const b = () => a;\n`,
    );
    // Make the planted files reachable so only the planted rules fire.
    await Deno.writeTextFile(
      join(tmp, "main.ts"),
      (await Deno.readTextFile(join(tmp, "main.ts"))) +
        `\nimport "./store/planted_up.ts";\nimport "./rl/planted_a.ts";\n`,
    );
    const added = (await checkLayout(tmp)).map(key).filter((k) => !before.has(k));
    const has = (re: RegExp): boolean => added.some((k) => re.test(k));
    assert.ok(has(/^direction: store\/planted_up\.ts imports gateway\/mod\.ts/), added.join("\n"));
    assert.ok(has(/^face: rl\/planted_a\.ts imports store\/db\.ts/), added.join("\n"));
    assert.ok(
      has(/^cycle: rl\/planted_a\.ts: import cycle: rl\/planted_a\.ts <-> rl\/planted_b\.ts/),
      added.join("\n"),
    );
    assert.ok(has(/^sql: rl\/planted_a\.ts:4:/), added.join("\n"));
    // And the command line exits 1 naming them.
    const res = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", join(ROOT, "tests/_rigs/layout_check.ts"), tmp],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(res.code, 1);
    assert.match(new TextDecoder().decode(res.stdout), /store\/planted_up\.ts imports gateway\/mod\.ts/);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("import rules: downward through mod.ts is fine; upward, around the face, into _private or app/ is not", () => {
  assert.deepEqual(checkImport("pipeline/reply.ts", "gateway/mod.ts"), []);
  assert.deepEqual(checkImport("pipeline/reply.ts", "pipeline/sentences.ts"), []);
  assert.deepEqual(checkImport("main.ts", "infra/mod.ts"), []);
  assert.deepEqual(checkImport("main.ts", "app/commands/token.ts"), []);
  assert.deepEqual(checkImport("islands/LiveCalls.tsx", "ui/client/mod.ts"), []);
  assert.deepEqual(checkImport("islands/LiveCalls.tsx", "ui/mod.ts").map((v) => v.kind), ["direction"]);
  assert.deepEqual(checkImport("gateway/x.ts", "pipeline/mod.ts").map((v) => v.kind), ["direction"]);
  assert.deepEqual(checkImport("ui/island.tsx", "islands/mod.ts").map((v) => v.kind), ["direction"]);
  assert.deepEqual(checkImport("islands/A.tsx", "store/mod.ts").map((v) => v.kind), ["direction"]);
  assert.deepEqual(checkImport("rl/x.ts", "pipeline/state.ts").map((v) => v.kind), ["face"]);
  assert.deepEqual(checkImport("rl/x.ts", "store/_util.ts").map((v) => v.kind), ["face", "private"]);
  assert.deepEqual(checkImport("routes/x.ts", "app/mod.ts").map((v) => v.kind), ["app"]);
  assert.deepEqual(checkImport("pipeline/x.ts", "tests/_helpers.ts").map((v) => v.kind), ["direction"]);
  // Inside a wing: never through its own face; a sibling folder's face and a mod.ts re-exporting are fine.
  assert.deepEqual(checkImport("store/crypto/x.ts", "store/mod.ts").map((v) => v.kind), ["face"]);
  assert.deepEqual(checkImport("gateway/audio/x.ts", "gateway/audio/mod.ts").map((v) => v.kind), ["face"]);
  assert.deepEqual(checkImport("gateway/twilio/x.ts", "gateway/audio/mod.ts"), []);
  assert.deepEqual(checkImport("gateway/mod.ts", "gateway/guard/mod.ts"), []);
});

Deno.test("a mod.ts may only re-export", () => {
  assert.deepEqual(
    checkModOnlyReexports(
      "x/mod.ts",
      `/** doc */\nexport { a, type B } from "./a.ts";\nexport * from "./b.ts";\n`,
    ),
    [],
  );
  assert.equal(
    checkModOnlyReexports("x/mod.ts", `export { a } from "./a.ts";\nexport const b = 1;\n`).length,
    1,
  );
  assert.equal(checkModOnlyReexports("x/mod.ts", `import { a } from "./a.ts";\nexport { a };\n`).length, 1);
});

Deno.test("cycles: a self-import and a three-file ring are found, a chain is not", () => {
  const g = new Map<string, Set<string>>([
    ["a", new Set(["b"])],
    ["b", new Set(["c"])],
    ["c", new Set(["a"])],
    ["d", new Set(["d"])],
    ["e", new Set(["a"])],
  ]);
  assert.deepEqual(findCycles(g), [["a", "b", "c"], ["d"]]);
});

Deno.test("SQL outside store/ is named by line; comments and store/ itself are not", () => {
  const text =
    `// SELECT x FROM y in a comment\nconst q = "DELETE FROM calls";\n/* UPDATE a SET b */\nx.prepare(q);\n`;
  assert.deepEqual(checkSql("ui/x.ts", text).map((v) => v.file), ["ui/x.ts:2", "ui/x.ts:4"]);
  assert.deepEqual(checkSql("store/x.ts", text), []);
  assert.deepEqual(checkSql("tests/x_test.ts", text), []);
});

Deno.test("names: two product files with one base name are reported unless listed as meaning the same", () => {
  const files = [
    "gateway/asterisk/websocket.ts",
    "gateway/guard/websocket.ts",
    "rl/bandit.ts",
    "store/bandit.ts",
    "gateway/mod.ts",
    "store/mod.ts",
    "routes/calls/index.tsx",
    "routes/index.tsx",
    "ui/index.ts",
    "tests/gateway/asterisk/websocket_test.ts",
    "tests/_rigs/websocket.ts",
    "ui/layout.tsx",
    "infra/layout.ts",
  ];
  const same = { bandit: { files: ["rl/bandit.ts", "store/bandit.ts"] } };
  assert.deepEqual(checkNames(files, same).map(formatViolation), [
    'name: infra/layout.ts: the base name "layout" is also ui/layout.tsx: one name, one meaning ' +
    "(rename one, or list the name in SAME_MEANING with why it means the same)",
    'name: gateway/asterisk/websocket.ts: the base name "websocket" is also gateway/guard/websocket.ts: ' +
    "one name, one meaning (rename one, or list the name in SAME_MEANING with why it means the same)",
  ]);
  // A third file taking a listed name is reported; so is a listed file that is gone.
  assert.deepEqual(checkNames([...files, "pipeline/bandit.ts"], same).map((v) => v.file), [
    "pipeline/bandit.ts",
    "infra/layout.ts",
    "gateway/asterisk/websocket.ts",
  ]);
  assert.deepEqual(checkNames(["rl/bandit.ts"], same).map(formatViolation), [
    'name: store/bandit.ts: SAME_MEANING lists it for "bandit", but there is no such file',
  ]);
  // Every reason in the real list is written down.
  for (const [name, { files: listed, why }] of Object.entries(SAME_MEANING)) {
    assert.ok(listed.length >= 2 && why.length > 20, name);
  }
});
