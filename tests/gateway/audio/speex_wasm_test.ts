import assert from "node:assert/strict";
import { decodeBase64, encodeBase64 } from "../../../gateway/audio/_base64.ts";
import { SPEEX_WASM_BASE64, SPEEX_WASM_BYTES } from "../../../gateway/audio/_speex_wasm.ts";
import { packageWasmUrl } from "./update_speex_wasm.ts";

Deno.test("the embedded speex wasm equals the npm package's file (else run update_speex_wasm.ts)", async () => {
  const embedded = decodeBase64(SPEEX_WASM_BASE64);
  assert.equal(embedded.length, SPEEX_WASM_BYTES);
  const fromPackage = await Deno.readFile(packageWasmUrl());
  assert.ok(
    embedded.length === fromPackage.length && embedded.every((b, i) => b === fromPackage[i]),
    "Embedded speex wasm is stale: run deno run -A tests/gateway/audio/update_speex_wasm.ts",
  );
  assert.ok(WebAssembly.validate(embedded));
});

Deno.test("base64 round-trips every byte value and odd lengths", () => {
  for (const n of [0, 1, 2, 3, 256, 70_001]) {
    const bytes = new Uint8Array(n).map((_, i) => (i * 131 + 7) & 0xff);
    assert.deepEqual(decodeBase64(encodeBase64(bytes)), bytes);
  }
});
