/**
 * The Asterisk chroot for an end-to-end test: provisioned (or found) once per test file, or the reason it
 * cannot be had, printed as "skipping <what>" outside CI (where `CI=true` makes the tests fail instead).
 *
 * @module
 */
import { asteriskDir, formatAsteriskProgress } from "../../../infra/asterisk/cli.ts";
import { type AsteriskChroot, provisionAsterisk } from "../../../infra/asterisk/provision.ts";

/** The chroot, or why there is none. */
export interface ChrootOrReason {
  chroot?: AsteriskChroot;
  unavailable?: string;
}

/** Provision the chroot; `what` names the test in the skip message. */
export async function asteriskChroot(what: string): Promise<ChrootOrReason> {
  try {
    return {
      chroot: await provisionAsterisk({
        dir: asteriskDir(),
        onProgress: (e) => console.error(formatAsteriskProgress(e)),
      }),
    };
  } catch (e) {
    const unavailable = e instanceof Error ? e.message : String(e);
    if (Deno.env.get("CI") !== "true") console.error(`skipping ${what}: ${unavailable}`);
    return { unavailable };
  }
}
