/**
 * Safe unpacking of a runtime release (`unpack: "tar.gz"` catalogue entries, the Piper program) into the
 * engines directory: every entry is checked before anything is written (no absolute path, no `..`, no
 * device or FIFO, a link only to a target inside the same tree), then the tree is written into a temporary
 * folder and renamed into place, so a refused or broken archive leaves nothing behind.
 *
 * @module
 */
import { createGunzip } from "node:zlib";
import { createReadStream } from "node:fs";
import { dirname, join, normalize, posix } from "node:path";
import tarStream from "tar-stream";

/** An archive that must not be unpacked. */
export class UnsafeArchiveError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UnsafeArchiveError";
  }
}

interface Entry {
  name: string;
  type: "file" | "directory" | "symlink" | "link";
  mode: number;
  linkname?: string;
  data?: Uint8Array;
}

/** The path inside the tree, or throws. */
function inside(name: string, what: string): string {
  if (name.startsWith("/") || /^[A-Za-z]:/.test(name)) throw new UnsafeArchiveError(`absolute path: ${what}`);
  const n = posix.normalize(name);
  if (n === ".." || n.startsWith("../") || n.split("/").includes("..")) {
    throw new UnsafeArchiveError(`path leaves the target: ${what}`);
  }
  return n.replace(/\/$/, "");
}

function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((s, c) => s + c.byteLength, 0));
  let off = 0;
  for (const c of chunks) {
    out.set(c, off);
    off += c.byteLength;
  }
  return out;
}

async function readEntries(archive: string): Promise<Entry[]> {
  const extract = tarStream.extract();
  const entries: Entry[] = [];
  const done = new Promise<void>((resolve, reject) => {
    extract.on("entry", (header, stream, next) => {
      const chunks: Uint8Array[] = [];
      stream.on("data", (c: unknown) => chunks.push(c as Uint8Array));
      stream.on("end", () => {
        const type = header.type ?? "file";
        if (type !== "file" && type !== "directory" && type !== "symlink" && type !== "link") {
          reject(new UnsafeArchiveError(`entry of type ${type}: ${header.name}`));
          return;
        }
        entries.push({
          name: header.name,
          type,
          mode: header.mode ?? 0o644,
          linkname: header.linkname ?? undefined,
          data: type === "file" ? concat(chunks) : undefined,
        });
        next();
      });
      stream.on("error", reject);
    });
    extract.on("finish", resolve);
    extract.on("error", reject);
  });
  const src = createReadStream(archive).pipe(createGunzip());
  src.on("error", (e) => extract.destroy(e));
  src.pipe(extract);
  await done;
  return entries;
}

/**
 * Unpack a `.tar.gz` into `target` (which must not exist yet, or is replaced).
 *
 * @returns the number of entries written
 * @throws {UnsafeArchiveError} naming the first entry that would write outside `target`
 */
export async function unpackTarGz(archive: string, target: string): Promise<number> {
  const entries = await readEntries(archive);
  for (const e of entries) {
    const at = inside(e.name, e.name);
    if (e.type === "symlink" || e.type === "link") {
      const link = e.linkname ?? "";
      const resolved = e.type === "symlink" && !link.startsWith("/")
        ? posix.join(posix.dirname(at), link)
        : link;
      inside(resolved, `${e.name} -> ${link}`);
    }
  }
  const tmp = `${target}.unpack-${Deno.pid}`;
  await Deno.remove(tmp, { recursive: true }).catch(() => {});
  await Deno.mkdir(tmp, { recursive: true });
  try {
    for (const e of entries) {
      const path = join(tmp, normalize(inside(e.name, e.name)));
      if (e.type === "directory") {
        await Deno.mkdir(path, { recursive: true });
        continue;
      }
      await Deno.mkdir(dirname(path), { recursive: true });
      if (e.type === "symlink") await Deno.symlink(e.linkname ?? "", path);
      else if (e.type === "link") await Deno.link(join(tmp, inside(e.linkname ?? "", e.name)), path);
      else {
        await Deno.writeFile(path, e.data ?? new Uint8Array());
        await Deno.chmod(path, e.mode & 0o755);
      }
    }
    await Deno.remove(target, { recursive: true }).catch(() => {});
    await Deno.rename(tmp, target);
  } catch (e) {
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
    throw e;
  }
  return entries.length;
}
