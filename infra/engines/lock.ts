/**
 * Small file-system helpers shared by the provisioning steps (engines, Asterisk chroot).
 *
 * @module
 */
import { join } from "node:path";

/** Whether a path exists. */
export async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Take a lock directory so two provisioning runs (two terminals, parallel tests) never build at once.
 * A lock whose process is gone (or that never got a pid and is a minute old) is broken.
 *
 * @param label names the waiting tool in the progress line, e.g. "tom engines"
 * @returns the release function
 */
export async function acquireLock(lock: string, label: string): Promise<() => Promise<void>> {
  for (let waited = 0;; waited++) {
    try {
      await Deno.mkdir(lock);
      await Deno.writeTextFile(join(lock, "pid"), String(Deno.pid));
      return async () => await Deno.remove(lock, { recursive: true }).catch(() => {});
    } catch (e) {
      if (!(e instanceof Deno.errors.AlreadyExists)) throw e;
      const pid = Number(await Deno.readTextFile(join(lock, "pid")).catch(() => "0"));
      const age = Date.now() - ((await Deno.stat(lock).catch(() => undefined))?.mtime?.getTime() ?? 0);
      if ((pid && !(await exists(`/proc/${pid}`))) || (!pid && age > 60_000)) {
        await Deno.remove(lock, { recursive: true }).catch(() => {});
        continue;
      }
      if (waited % 30 === 0) console.error(`${label}: waiting for provisioning process ${pid} to finish`);
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
}
