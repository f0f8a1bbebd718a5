// `tom probe --calls C --stagger MS`: the arguments are checked before any call is placed, and the calls
// arrive spread evenly over the stagger time.
import assert from "node:assert/strict";
import { arrivalOffsets, probeMain } from "../../../app/commands/probe.ts";
import { loadConfig } from "../../../infra/config.ts";

const config = loadConfig({ env: { TOM_DATA_DIR: Deno.makeTempDirSync({ prefix: "tom-probe-args-" }) } });

Deno.test("20 calls over 10 s arrive about every 526 ms, the last at 10 s; one call at once", () => {
  const at = arrivalOffsets(20, 10_000);
  assert.equal(at.length, 20);
  assert.equal(at[0], 0);
  assert.equal(at[1], 526);
  assert.equal(at[19], 10_000);
  assert.deepEqual(arrivalOffsets(1, 10_000), [0]);
  assert.deepEqual(arrivalOffsets(3, 0), [0, 0, 0]);
});

Deno.test("a bad --calls or --stagger ends the probe with exit code 2 and says which", async () => {
  const errors: string[] = [];
  const error = console.error;
  console.error = (m: string) => errors.push(m);
  try {
    for (
      const bad of [
        { stagger: "-1" },
        { stagger: "soon" },
        { stagger: "1.5" },
        { calls: "0" },
        { calls: "3", stagger: "3600001" },
      ]
    ) {
      assert.equal(await probeMain(config, bad), 2, JSON.stringify(bad));
    }
  } finally {
    console.error = error;
  }
  assert.equal(errors.filter((e) => /--stagger must be a whole number from 0 to 3600000/.test(e)).length, 4);
  assert.ok(errors.some((e) => /--calls must be a whole number/.test(e)));
});
