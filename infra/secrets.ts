/**
 * Secrets that the appliance generates for itself on first start (JWT signing key, log hash salt),
 * kept in `<dataDir>/secrets/` with mode 0600. Configured values win over files.
 *
 * @module
 */
import { join } from "node:path";
import { encodeBase64Url } from "./_base64url.ts";

/**
 * Read the secret `name` from `<dataDir>/secrets/`, creating it with `bytes` random bytes if missing.
 *
 * @returns the secret as base64url text (at least `bytes` bytes of entropy).
 */
export function loadOrCreateSecret(dataDir: string, name: string, bytes = 32): string {
  const dir = join(dataDir, "secrets");
  const file = join(dir, name);
  try {
    const text = Deno.readTextFileSync(file).trim();
    if (text.length >= 32) {
      // A file (or directory) an earlier version or a copy left readable by others is narrowed.
      ownerOnly(dir, file);
      return text;
    }
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  Deno.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const value = encodeBase64Url(crypto.getRandomValues(new Uint8Array(bytes)));
  const tmp = `${file}.${Deno.pid}.tmp`;
  Deno.writeTextFileSync(tmp, value + "\n", { mode: 0o600 });
  Deno.renameSync(tmp, file);
  ownerOnly(dir, file);
  return value;
}

/** Mode 0700 on the directory and 0600 on the file, whatever the umask or an older version left. */
function ownerOnly(dir: string, file?: string): void {
  if (Deno.build.os === "windows") return;
  Deno.chmodSync(dir, 0o700);
  if (file !== undefined) Deno.chmodSync(file, 0o600);
}
