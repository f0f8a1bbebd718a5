/**
 * Small file-system facts about engines: is a binary there and executable, is a model file there.
 *
 * @module
 */
import { delimiter, isAbsolute, join, resolve } from "node:path";

async function isExecutableFile(path: string): Promise<boolean> {
  try {
    const st = await Deno.stat(path);
    return st.isFile && (st.mode === null || (st.mode & 0o111) !== 0);
  } catch {
    return false;
  }
}

/**
 * Resolve a binary: a path (absolute or containing a slash) is checked as it is, a bare name is looked up
 * on PATH.
 *
 * @returns The executable's path, or `undefined` when none is found.
 */
export async function findBinary(bin: string, path = envPath()): Promise<string | undefined> {
  if (bin === "") return undefined;
  if (isAbsolute(bin) || bin.includes("/")) {
    const p = resolve(bin);
    return (await isExecutableFile(p)) ? p : undefined;
  }
  for (const dir of path.split(delimiter)) {
    if (dir === "") continue;
    const p = join(dir, bin);
    if (await isExecutableFile(p)) return p;
  }
  return undefined;
}

function envPath(): string {
  try {
    return Deno.env.get("PATH") ?? "/usr/local/bin:/usr/bin:/bin";
  } catch {
    return "/usr/local/bin:/usr/bin:/bin";
  }
}

/** True when `path` is a non-empty regular file. */
export async function filePresent(path: string | undefined): Promise<boolean> {
  if (!path) return false;
  try {
    const st = await Deno.stat(path);
    return st.isFile && st.size > 0;
  } catch {
    return false;
  }
}
