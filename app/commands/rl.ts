/**
 * `tom rl report [--json]`: the learning loop's state per policy variant.
 *
 * @module
 */
import type { Config } from "../../infra/mod.ts";
import { databasePath } from "./migrate.ts";
import { openStore } from "../../store/mod.ts";
import { rlReportCommand, syncVariants, variantsOf } from "../../rl/mod.ts";

/** Print the report; returns the exit code. */
export async function rlReportMain(config: Config, opts: { json: boolean }): Promise<number> {
  const variants = await variantsOf(config);
  const store = openStore(databasePath(config));
  try {
    syncVariants(store, variants);
    const { output, code } = rlReportCommand(store, opts.json ? ["--json"] : [], {
      baseVariant: variants.baseVariant,
    });
    console.log(output);
    return code;
  } finally {
    store.close();
  }
}
