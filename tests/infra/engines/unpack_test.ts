/**
 * `tom models pull` of a runtime release (the Piper program): a generated tar.gz served by the local model
 * server is verified and unpacked into `<enginesDir>/runtimes/<name>`, where the configuration finds the
 * Piper binary; archives that would write outside the target are refused and leave nothing behind.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { pullEntry, runtimeDir } from "../../../infra/engines/model_pull.ts";
import { BUILTIN_CATALOGUE, type ModelEntry } from "../../../infra/engines/models_catalog.ts";
import { piperRuntimeBin } from "../../../infra/engines/model_selection.ts";
import { unpackTarGz, UnsafeArchiveError } from "../../../infra/engines/unpack.ts";
import { type ArchiveItem, startModelServer, tarGz } from "../../_rigs/model_server.ts";

const arch = Deno.build.arch === "aarch64" ? "aarch64" : "x86_64";

Deno.test("the catalogue carries the Piper release for both architectures, pinned to 2023.11.14-2", () => {
  for (const a of ["x86_64", "aarch64"]) {
    const e = BUILTIN_CATALOGUE.entries.find((x) => x.name === `piper-linux-${a}`);
    assert.ok(e, a);
    assert.equal(e.kind, "tts-runtime");
    assert.equal(e.unpack, "tar.gz");
    assert.equal(
      e.files[0].url,
      `https://github.com/rhasspy/piper/releases/download/2023.11.14-2/piper_linux_${a}.tar.gz`,
    );
    // The release lists no checksum; the catalogue pins the SHA-256 and exact size of each asset.
    assert.equal(e.files[0].checksum?.algorithm, "sha256");
    assert.equal(e.files[0].bytes, a === "x86_64" ? 26_460_462 : 26_004_717);
    assert.equal(e.files[0].bytesApprox, undefined);
  }
});

Deno.test("pulling the Piper release unpacks it where the configuration finds the piper program", async () => {
  const dir = await Deno.makeTempDir();
  const archive = await tarGz([
    { name: "piper/", type: "directory" },
    { name: "piper/piper", body: "#!/bin/sh\necho piper\n" },
    { name: "piper/libpiper_phonemize.so.1.2.0", body: "lib" },
    { name: "piper/libpiper_phonemize.so.1", type: "symlink", linkname: "libpiper_phonemize.so.1.2.0" },
    { name: "piper/espeak-ng-data/de_dict", body: "dict" },
  ]);
  const server = startModelServer({ [`piper_linux_${arch}.tar.gz`]: archive });
  try {
    const base = BUILTIN_CATALOGUE.entries.find((x) => x.name === `piper-linux-${arch}`);
    assert.ok(base);
    const entry: ModelEntry = {
      ...base,
      files: [{
        ...base.files[0],
        url: `${server.url}/piper_linux_${arch}.tar.gz`,
        bytes: archive.byteLength,
        checksum: { algorithm: "sha256", value: createHash("sha256").update(archive).digest("hex") },
      }],
    };
    assert.equal(piperRuntimeBin(dir), undefined, "nothing installed yet: Piper from PATH");
    await pullEntry(entry, { enginesDir: dir });
    const bin = join(runtimeDir(dir, entry.name), "piper", "piper");
    assert.equal(piperRuntimeBin(dir), bin);
    assert.equal(((await Deno.stat(bin)).mode ?? 0) & 0o111, 0o111, "the program is executable");
    assert.equal(
      await Deno.readLink(join(dirname(bin), "libpiper_phonemize.so.1")),
      "libpiper_phonemize.so.1.2.0",
    );
    assert.equal(await Deno.readTextFile(join(dirname(bin), "espeak-ng-data", "de_dict")), "dict");
  } finally {
    await server.close();
    await Deno.remove(dir, { recursive: true });
  }
});

function dirname(p: string): string {
  return p.slice(0, p.lastIndexOf("/"));
}

for (
  const [what, items] of [
    ["an absolute path", [{ name: "/etc/cron.d/evil", body: "x" }]],
    ["a path with ..", [{ name: "piper/../../evil", body: "x" }]],
    ["a symlink out of the tree", [{ name: "piper/lib", type: "symlink", linkname: "../../../etc/passwd" }]],
    ["an absolute symlink", [{ name: "piper/lib", type: "symlink", linkname: "/etc/passwd" }]],
    ["a hard link to a file outside", [{ name: "piper/lib", type: "link", linkname: "/etc/passwd" }]],
  ] as [string, ArchiveItem[]][]
) {
  Deno.test(`an archive with ${what} is refused and leaves nothing behind`, async () => {
    const dir = await Deno.makeTempDir();
    try {
      const file = join(dir, "a.tar.gz");
      await Deno.writeFile(file, await tarGz([{ name: "piper/piper", body: "ok" }, ...items]));
      const target = join(dir, "runtimes", "piper");
      await assert.rejects(unpackTarGz(file, target), UnsafeArchiveError);
      assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["a.tar.gz"]);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
}
