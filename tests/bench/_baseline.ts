/**
 * The baseline tree a bench compares against in the same run: a directory as given, or
 * `git archive <commit>` unpacked into a temporary directory (removed at exit by the caller's choice).
 *
 * @module
 */
import { ROOT } from "../_helpers.ts";

/**
 * The tree at `commitOrDir`.
 *
 * @throws {Error} when `git archive` fails (an unknown commit)
 */
export async function baselineTree(commitOrDir: string): Promise<string> {
  try {
    if (Deno.statSync(commitOrDir).isDirectory) return commitOrDir;
  } catch { /* a commit */ }
  const dir = await Deno.makeTempDir({ prefix: `tom-bench-${commitOrDir.slice(0, 12)}-` });
  const archive = new Deno.Command("git", { args: ["archive", commitOrDir], cwd: ROOT, stdout: "piped" })
    .spawn();
  const untar = new Deno.Command("tar", { args: ["-x", "-C", dir], stdin: "piped" }).spawn();
  await archive.stdout.pipeTo(untar.stdin);
  if (!(await archive.status).success || !(await untar.status).success) {
    throw new Error(`Cannot unpack the baseline: git archive ${commitOrDir} failed`);
  }
  return dir;
}
